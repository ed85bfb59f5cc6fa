"""ClinicSettings.load(): one read of the clinic's row per page, and a change is seen at once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from scheduling.models import ClinicSettings
from scheduling.tests.factories import AppointmentFactory, open_clinic

pytestmark = pytest.mark.django_db


def clinic_reads(queries):
    return [query["sql"] for query in queries if "scheduling_clinicsettings" in query["sql"]]


def test_a_page_of_appointments_reads_the_clinic_once(pinned_now, staff_client):  # now pinned before the sign-in
    open_clinic()
    for hours in range(1, 11):
        AppointmentFactory(start=timezone.now() + timedelta(hours=hours))

    with CaptureQueriesContext(connection) as api:
        response = staff_client.get("/api/appointments")
    assert response.status_code == 200 and len(response.json()["results"]) == 10
    with CaptureQueriesContext(connection) as page:
        assert staff_client.get("/dashboard/appointments/").status_code == 200

    # Each appointment's times are shown in the clinic's zone; the zone is read once, not per field.
    assert len(clinic_reads(api.captured_queries)) == 1
    assert len(clinic_reads(page.captured_queries)) == 1


def test_outside_a_request_each_load_reads_the_row(django_assert_num_queries):
    ClinicSettings.load()
    with django_assert_num_queries(1):
        ClinicSettings.load()


def test_a_clinic_saved_from_another_copy_during_a_request_is_what_load_returns():
    kept = ClinicSettings.load()
    with ClinicSettings.kept_for_request(kept):
        other = ClinicSettings.objects.get(pk=1)
        other.name = "Glow Med Spa"
        other.time_zone = "Europe/Paris"
        other.save()
        assert ClinicSettings.load().name == "Glow Med Spa"
        assert str(ClinicSettings.load().tz) == "Europe/Paris"


def test_a_change_in_admin_shows_on_the_next_page(admin_client_owner):
    open_clinic(name="Old Name")
    assert "Old Name" in admin_client_owner.get("/dashboard/").content.decode()
    clinic = ClinicSettings.objects.get(pk=1)
    clinic.name = "Glow Med Spa"
    clinic.save()
    assert "Glow Med Spa" in admin_client_owner.get("/dashboard/").content.decode()
