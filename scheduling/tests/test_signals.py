"""The appointment signals: sent once per real change, after the commit, never for a rollback or a retry."""

import pytest

from scheduling.calendars.local import LocalCalendar
from scheduling.exceptions import SlotTaken
from scheduling.services import book_appointment, cancel_appointment, reschedule_appointment
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_rescheduled
from scheduling.tests.conftest import at
from scheduling.tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 1, 8)
MONDAY_10 = at(2026, 3, 2, 10)
MONDAY_11 = at(2026, 3, 2, 11)


@pytest.fixture
def heard():
    """Every appointment signal received, as (name, kwargs)."""
    received = []
    receivers = {}
    for name, signal in (("booked", appointment_booked), ("rescheduled", appointment_rescheduled),
                         ("cancelled", appointment_cancelled)):
        def receiver(sender, name=name, **kwargs):
            kwargs.pop("signal", None)
            received.append((name, kwargs))
        receivers[signal] = receiver
        signal.connect(receiver)
    yield received
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


@pytest.fixture
def facial(clinic):
    service = ServiceFactory(name="HydraFacial", slug="hydrafacial", duration_minutes=60)
    ProviderFactory(name="Dana Lee", services=[service], weekly_hours=[(d, "09:00", "17:00") for d in range(7)])
    return service


def book(service, start, **kwargs):
    return book_appointment(service=service, start=start, phone="+12125550142", name="Maya Patel", booked_by="staff",
                            now=NOW, **kwargs)


def test_booking_announces_it_after_the_commit_and_a_retry_announces_nothing(facial, heard,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        appointment = book(facial, MONDAY_10)
    assert heard == []  # nothing before the commit
    for callback in pending:
        callback()
    assert heard == [("booked", {"appointment_id": appointment.pk})]

    with django_capture_on_commit_callbacks(execute=True):
        again = book(facial, MONDAY_10)
    assert again.pk == appointment.pk
    assert heard == [("booked", {"appointment_id": appointment.pk})]


def test_a_refused_booking_announces_nothing(facial, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        book(facial, MONDAY_10)
        with pytest.raises(SlotTaken):
            book_appointment(service=facial, start=MONDAY_10, phone="+12125550199", name="Someone Else",
                             booked_by="staff", now=NOW)
    assert [name for name, _ in heard] == ["booked"]


def test_a_booking_rolled_back_by_the_calendar_announces_nothing(facial, heard, django_capture_on_commit_callbacks):
    class BrokenCalendar(LocalCalendar):
        def create_event(self, *, appointment):
            raise RuntimeError("calendar down")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        book(facial, MONDAY_10, calendar=BrokenCalendar())
    assert heard == [] and callbacks == []


def test_moving_and_cancelling_announce_each_change_once(facial, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(facial, MONDAY_10)
        reschedule_appointment(appointment=appointment, start=MONDAY_11, by="staff", now=NOW)
        reschedule_appointment(appointment=appointment, start=MONDAY_11, by="staff", now=NOW)  # no change
        cancel_appointment(appointment=appointment, by="staff", now=NOW)
        cancel_appointment(appointment=appointment, by="staff", now=NOW)  # already cancelled
    assert heard == [
        ("booked", {"appointment_id": appointment.pk}),
        ("rescheduled", {"appointment_id": appointment.pk, "previous_start": MONDAY_10, "start": MONDAY_11}),
        ("cancelled", {"appointment_id": appointment.pk}),
    ]
