"""Once a visit has started, staff record on its page whether it was completed or a no-show."""

import pytest
import time_machine

from conventions.models import AuditEntry
from scheduling.models import Appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

NOW = at(2026, 12, 1, 15)  # a Tuesday afternoon in New York


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def record(client, appointment, status):
    return client.post(f"/dashboard/appointments/{appointment.pk}/record/", {"status": status})


def test_staff_record_a_visit_that_happened_as_completed(staff_client):
    visit = AppointmentFactory(start=at(2026, 12, 1, 10))

    page = staff_client.get(f"/dashboard/appointments/{visit.pk}/").content.decode()
    assert "How the visit went" in page

    response = record(staff_client, visit, "completed")

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    assert "Recorded as completed." in staff_client.get(response.url).content.decode()
    assert AuditEntry.objects.filter(action="update", object_type="appointment", object_id=str(visit.pk)).exists()


def test_a_visit_recorded_as_completed_can_be_corrected_to_a_no_show(staff_client):
    visit = AppointmentFactory(start=at(2026, 12, 1, 10), status=Appointment.Status.COMPLETED)

    assert record(staff_client, visit, "no_show").status_code == 302
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.NO_SHOW


def test_a_visit_that_has_not_started_cannot_be_recorded(staff_client):
    later = AppointmentFactory(start=at(2026, 12, 1, 16))

    assert "How the visit went" not in staff_client.get(f"/dashboard/appointments/{later.pk}/").content.decode()
    response = record(staff_client, later, "no_show")

    assert response.status_code == 409
    assert "has not started yet" in response.content.decode()
    later.refresh_from_db()
    assert later.status == Appointment.Status.SCHEDULED


def test_a_cancelled_visit_cannot_be_recorded_and_nonsense_is_refused(staff_client):
    cancelled = AppointmentFactory(start=at(2026, 12, 1, 10), status=Appointment.Status.CANCELLED)
    visit = AppointmentFactory(start=at(2026, 12, 1, 11))

    assert record(staff_client, cancelled, "completed").status_code == 409
    assert record(staff_client, visit, "cancelled").status_code == 422
    cancelled.refresh_from_db()
    visit.refresh_from_db()
    assert (cancelled.status, visit.status) == (Appointment.Status.CANCELLED, Appointment.Status.SCHEDULED)


def test_recording_a_visit_is_for_staff_only(client):
    visit = AppointmentFactory(start=at(2026, 12, 1, 10))

    response = record(client, visit, "completed")

    assert response.status_code in (302, 403)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.SCHEDULED
