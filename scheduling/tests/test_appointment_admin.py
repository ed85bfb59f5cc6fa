"""Appointments in Django admin are read-only, with the way to the dashboard, where changes confirm and sync."""

import pytest

from scheduling.models import Appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(clinic):
    return AppointmentFactory(start=at(2031, 3, 4, 10), notes="First visit")


def test_an_owner_reads_an_appointment_and_is_sent_to_the_dashboard_to_change_it(admin_client_owner, appointment):
    response = admin_client_owner.get(f"/admin/scheduling/appointment/{appointment.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="/dashboard/appointments/{appointment.pk}/"' in page
    assert "Move or cancel on the dashboard" in page
    assert 'name="_save"' not in page
    assert "First visit" in page


def test_the_list_links_each_appointment_to_the_dashboard_and_offers_no_add(admin_client_owner, appointment):
    response = admin_client_owner.get("/admin/scheduling/appointment/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="/dashboard/appointments/{appointment.pk}/"' in page
    assert "/admin/scheduling/appointment/add/" not in page


def test_a_change_posted_to_admin_is_refused_and_changes_nothing(admin_client_owner, appointment):
    response = admin_client_owner.post(f"/admin/scheduling/appointment/{appointment.pk}/change/", {
        "customer": appointment.customer_id, "service": appointment.service_id, "provider": appointment.provider_id,
        "start_0": "2031-03-05", "start_1": "15:00", "end_0": "2031-03-05", "end_1": "16:00",
        "status": "cancelled", "booked_by": "staff", "notes": "moved",
    })

    assert response.status_code == 403
    appointment.refresh_from_db()
    assert (appointment.start, appointment.status, appointment.notes) == (at(2031, 3, 4, 10), "scheduled", "First visit")


@pytest.mark.parametrize("path", ["add/", "{pk}/delete/"])
def test_admin_neither_adds_nor_deletes_appointments(admin_client_owner, appointment, path):
    response = admin_client_owner.post(f"/admin/scheduling/appointment/{path.format(pk=appointment.pk)}", {"post": "yes"})

    assert response.status_code == 403
    assert list(Appointment.objects.all()) == [appointment]


def test_the_bulk_delete_action_is_not_offered(admin_client_owner, appointment):
    response = admin_client_owner.post("/admin/scheduling/appointment/", {
        "action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes",
    })

    assert response.status_code in (200, 302)
    assert Appointment.objects.filter(pk=appointment.pk).exists()
