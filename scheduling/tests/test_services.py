"""Booking, rescheduling and cancelling, as the assistant and the front desk use them."""

from datetime import datetime, timedelta

import pytest

from communications.models import Customer
from communications.services import start_conversation
from communications.tests.factories import CustomerFactory
from scheduling.availability import find_availability
from scheduling.exceptions import BookingRefused, SchedulingError, SlotTaken
from scheduling.models import Appointment
from scheduling.services import book_appointment, cancel_appointment, find_appointments, reschedule_appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import AppointmentFactory, ClosureFactory, ConsultationFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 1, 8)  # Sunday; Monday 2 March is the day we book
MONDAY_10 = at(2026, 3, 2, 10)


@pytest.fixture
def botox(clinic):
    return ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)


@pytest.fixture
def dana(botox):
    return ProviderFactory(name="Dana Lee", services=[botox])


@pytest.fixture
def returning(db):
    return CustomerFactory(name="Maya Patel", phone="+12125550100", is_new_client=False)


def book(service, start, **kwargs):
    kwargs.setdefault("booked_by", "ai")
    kwargs.setdefault("now", NOW)
    return book_appointment(service=service, start=start, **kwargs)


# --- booking ------------------------------------------------------------------------------------

def test_it_books_the_slot_and_finds_the_customer_by_normalised_phone(botox, dana, returning):
    conversation = start_conversation(channel="voice")

    appointment = book(botox, MONDAY_10, phone="(212) 555-0100", name="Maya", conversation=conversation)

    appointment.refresh_from_db()
    assert appointment.customer == returning
    assert appointment.provider == dana and appointment.status == "scheduled"
    assert appointment.start == MONDAY_10 and appointment.end == MONDAY_10 + timedelta(minutes=45)
    assert appointment.booked_by == "ai" and appointment.conversation == conversation
    assert MONDAY_10 not in [o.start for o in find_availability(service=botox, date=MONDAY_10.date(), now=NOW).openings]


def test_it_creates_a_new_customer_from_the_phone(botox, dana):
    appointment = book(botox, MONDAY_10, phone="212-555-0177", name="Jordan Reyes", booked_by="staff")

    customer = Customer.objects.get(phone="+12125550177")
    assert appointment.customer == customer and customer.name == "Jordan Reyes"
    assert appointment.booked_by == "staff"


def test_it_refuses_without_a_phone_or_with_a_bad_one(botox, dana):
    with pytest.raises(BookingRefused) as missing:
        book(botox, MONDAY_10, name="Nobody")
    with pytest.raises(BookingRefused) as bad:
        book(botox, MONDAY_10, phone="12")
    assert (missing.value.code, bad.value.code) == ("phone_required", "invalid_phone")
    assert not Appointment.objects.exists()


def test_without_a_provider_it_takes_the_first_one_free(botox, dana, returning):
    alex = ProviderFactory(name="Alex Kim", services=[botox])
    AppointmentFactory(service=botox, provider=alex, start=MONDAY_10)

    appointment = book(botox, MONDAY_10, customer=returning)

    assert appointment.provider == dana


def test_a_retried_request_does_not_book_twice(botox, dana, returning):
    conversation = start_conversation(channel="voice")

    first = book(botox, MONDAY_10, customer=returning, conversation=conversation)
    again = book(botox, MONDAY_10, phone="+1 212 555 0100", conversation=conversation)

    assert again.pk == first.pk
    assert Appointment.objects.count() == 1


def test_a_taken_slot_is_refused_with_the_nearest_alternatives(botox, dana, returning):
    AppointmentFactory(service=botox, provider=dana, start=MONDAY_10)

    with pytest.raises(SlotTaken) as taken:
        book(botox, MONDAY_10, customer=returning)

    assert taken.value.code == "slot_taken" and taken.value.message == "That time was just taken."
    # 9:15 ends with its buffer at 10:00; 10:45 starts as the booked one's buffer ends; then 9:00 beats 11:00.
    assert [o.start for o in taken.value.alternatives] == [at(2026, 3, 2, 9), at(2026, 3, 2, 9, 15), at(2026, 3, 2, 10, 45)]
    assert taken.value.to_dict()["alternatives"][0]["start"] == "2026-03-02T09:00:00-05:00"
    assert Appointment.objects.count() == 1


def test_an_overlap_with_the_buffer_is_taken_too(botox, dana, returning):
    AppointmentFactory(service=botox, provider=dana, start=MONDAY_10)  # holds 10:00-10:45

    with pytest.raises(SlotTaken):
        book(botox, at(2026, 3, 2, 10, 30), customer=returning)
    assert book(botox, at(2026, 3, 2, 10, 45), customer=returning).start == at(2026, 3, 2, 10, 45)


def test_a_provider_who_does_not_perform_the_service_is_refused(botox, dana, returning):
    sam = ProviderFactory(name="Sam Ortiz")

    with pytest.raises(BookingRefused) as refused:
        book(botox, MONDAY_10, provider=sam, customer=returning)

    assert refused.value.code == "provider_does_not_perform"
    assert refused.value.message == "Sam Ortiz does not perform Botox."
    assert {o.provider for o in refused.value.alternatives} == {dana}


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (at(2026, 3, 1, 7), "in_the_past"),
        (at(2026, 3, 1, 9), "too_soon"),
        (at(2026, 6, 2, 10), "beyond_horizon"),
        (at(2026, 3, 2, 7), "outside_hours"),
        (at(2026, 3, 2, 16, 30), "outside_hours"),  # 16:30 + 30 + 15 buffer runs past 17:00
        (at(2026, 3, 7, 10), "outside_hours"),  # Saturday: Dana works weekdays
    ],
)
def test_it_refuses_times_the_clinic_cannot_take(botox, dana, returning, start, code):
    with pytest.raises(BookingRefused) as refused:
        book(botox, start, customer=returning)

    assert refused.value.code == code
    assert not Appointment.objects.exists()


def test_a_closed_day_is_refused(botox, dana, returning):
    ClosureFactory(date=MONDAY_10.date())

    with pytest.raises(BookingRefused) as refused:
        book(botox, MONDAY_10, customer=returning)

    assert refused.value.code == "closed" and refused.value.message == "The clinic is closed that day."


def test_naive_datetimes_are_refused(botox, dana, returning):
    with pytest.raises(BookingRefused) as refused:
        book(botox, datetime(2026, 3, 2, 10), customer=returning)

    assert refused.value.code == "naive_datetime"


def test_a_new_client_is_offered_a_consultation_first(botox, dana):
    botox.requires_consultation = True
    botox.save()
    consultation = ConsultationFactory()
    dana.services.add(consultation)
    newcomer = CustomerFactory(is_new_client=True)

    with pytest.raises(BookingRefused) as refused:
        book(botox, MONDAY_10, customer=newcomer)

    error = refused.value
    assert error.code == "consultation_required"
    assert error.message == "Botox needs a consultation first for new clients. I can book a Complimentary consultation instead."
    assert error.details["consultation_service"]["id"] == consultation.pk
    assert MONDAY_10 in [o.start for o in error.alternatives]  # the consultation fits the time they asked for
    assert not Appointment.objects.exists()
    # The consultation itself is bookable for them, and a returning client books Botox directly.
    assert book(consultation, MONDAY_10, customer=newcomer).service == consultation
    assert book(botox, at(2026, 3, 2, 11), customer=CustomerFactory(is_new_client=False)).service == botox


# --- rescheduling ------------------------------------------------------------------------------

def test_reschedule_moves_to_an_open_slot_and_keeps_the_history(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)

    moved = reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), by="ai", now=NOW)

    moved.refresh_from_db()
    assert moved.pk == appointment.pk
    assert moved.start == at(2026, 3, 2, 14) and moved.end == at(2026, 3, 2, 14, 45)
    assert moved.metadata["reschedules"][0]["from"] == "2026-03-02T10:00:00-05:00"
    assert Appointment.objects.count() == 1


def test_reschedule_may_overlap_the_appointments_own_old_time(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)

    moved = reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 10, 15), by="staff", now=NOW)

    assert moved.start == at(2026, 3, 2, 10, 15)


def test_reschedule_into_a_taken_slot_changes_nothing(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)
    AppointmentFactory(service=botox, provider=dana, start=at(2026, 3, 2, 14))

    with pytest.raises(SlotTaken) as taken:
        reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), provider=dana, by="ai", now=NOW)

    appointment.refresh_from_db()
    assert appointment.start == MONDAY_10 and appointment.metadata == {}
    assert taken.value.alternatives and at(2026, 3, 2, 14) not in [o.start for o in taken.value.alternatives]


def test_reschedule_without_a_provider_falls_back_to_another_who_is_free(botox, dana, returning):
    alex = ProviderFactory(name="Alex Kim", services=[botox])
    appointment = book(botox, MONDAY_10, provider=dana, customer=returning)
    AppointmentFactory(service=botox, provider=dana, start=at(2026, 3, 2, 14))

    moved = reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), by="ai", now=NOW)

    assert moved.provider == alex


def test_reschedule_refuses_a_cancelled_appointment(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)
    cancel_appointment(appointment=appointment, by="ai", now=NOW)

    with pytest.raises(BookingRefused) as refused:
        reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), by="ai", now=NOW)

    assert refused.value.code == "not_scheduled"


# --- cancelling -------------------------------------------------------------------------------

def test_cancel_records_the_reason_who_and_when_and_frees_the_slot(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)

    cancelled = cancel_appointment(appointment=appointment, reason="Feeling unwell", by="ai", now=NOW)

    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.cancellation_reason == "Feeling unwell"
    assert cancelled.cancelled_by == "ai" and cancelled.cancelled_at == NOW
    assert cancelled.late_cancellation is False  # 26 hours' notice, the policy asks 24
    assert book(botox, MONDAY_10, customer=CustomerFactory(is_new_client=False)).start == MONDAY_10


def test_a_late_cancellation_is_allowed_but_flagged(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)

    cancelled = cancel_appointment(appointment=appointment, by="staff", now=at(2026, 3, 1, 11))

    cancelled.refresh_from_db()
    assert cancelled.status == "cancelled" and cancelled.late_cancellation is True


def test_cancelling_twice_changes_nothing_and_the_past_cannot_be_cancelled(botox, dana, returning):
    appointment = book(botox, MONDAY_10, customer=returning)
    first = cancel_appointment(appointment=appointment, reason="first", by="ai", now=NOW)
    second = cancel_appointment(appointment=appointment, reason="second", by="staff", now=NOW + timedelta(hours=1))
    assert second.cancellation_reason == "first" and second.cancelled_at == first.cancelled_at

    past = book(botox, at(2026, 3, 3, 10), customer=returning)
    with pytest.raises(BookingRefused) as refused:
        cancel_appointment(appointment=past, by="ai", now=at(2026, 3, 3, 10, 5))
    assert refused.value.code == "in_the_past"


# --- finding --------------------------------------------------------------------------------

def test_appointments_are_found_by_phone_in_any_format(botox, dana, returning):
    later = book(botox, at(2026, 3, 3, 10), customer=returning)
    sooner = book(botox, MONDAY_10, customer=returning)
    cancelled = book(botox, at(2026, 3, 4, 10), customer=returning)
    cancel_appointment(appointment=cancelled, by="ai", now=NOW)
    book(botox, at(2026, 3, 2, 11), customer=CustomerFactory(is_new_client=False))

    assert find_appointments(phone="(212) 555-0100", now=NOW) == [sooner, later]
    assert len(find_appointments(phone="212.555.0100", upcoming_only=False)) == 3
    assert find_appointments(phone="+1 212 555 0199", now=NOW) == []
    with pytest.raises(SchedulingError):
        find_appointments(phone="abc")
