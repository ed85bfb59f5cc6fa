"""Confirmations and reminders: once each, by SMS (unless opted out) and email, sent at the network."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.messaging import sms
from communications.models import Channel, DeliveryStatus, OutboundMessage
from communications.services import start_conversation
from communications.tests.factories import CustomerFactory
from communications.tests.messaging_fixtures import sendgrid, spa, twilio, twilio_webhooks  # noqa: F401
from receptionist import notifications
from receptionist.tasks import send_appointment_reminders
from scheduling.models import Appointment
from scheduling.services import book_appointment, cancel_appointment, reschedule_appointment
from scheduling.tests.factories import AppointmentFactory

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")]
PHONE = "+12125550142"
EMAIL = "maya.patel@example.com"


@pytest.fixture
def maya(db):
    return CustomerFactory(name="Maya Patel", phone=PHONE, email=EMAIL, is_new_client=False)


def at_ten(spa, days=1):
    day = spa.tomorrow + timedelta(days=days - 1)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, 10), spa.clinic.tz)


def book(spa, customer, start, conversation=None):
    return book_appointment(service=spa.hydrafacial, start=start, customer=customer, booked_by="staff",
                            conversation=conversation)


def sent(kind="confirmation", channel=None):
    rows = OutboundMessage.objects.filter(kind=kind)
    return rows.filter(channel=channel) if channel else rows


# --- confirmations --------------------------------------------------------------------------------

def test_a_booking_is_confirmed_once_by_sms_and_email_even_when_retried(spa, maya, twilio, sendgrid,
                                                                        django_capture_on_commit_callbacks):
    conversation = start_conversation(channel=Channel.VOICE, customer=maya)
    with django_capture_on_commit_callbacks(execute=True):
        first = book(spa, maya, at_ten(spa), conversation)
    with django_capture_on_commit_callbacks(execute=True):
        again = book(spa, maya, at_ten(spa), conversation)  # the caller's retry: the same booking
        notifications.confirm(appointment_id=first.pk, change="booked")  # the signal heard twice

    assert again.pk == first.pk
    assert len(twilio.sent) == 1 and len(sendgrid.sent) == 1
    assert twilio.sent[0]["To"] == PHONE
    assert "you're booked for HydraFacial with Dana Reyes" in twilio.sent[0]["Body"]
    assert "Reply STOP to opt out." in twilio.sent[0]["Body"]
    email = sendgrid.sent[0]
    assert email["personalizations"][0]["to"] == [{"email": EMAIL}]
    assert email["subject"].startswith("Booked: HydraFacial on ")
    assert "12 Spring St" in email["content"][0]["value"]
    assert {o.status for o in sent()} == {DeliveryStatus.QUEUED, DeliveryStatus.SENT}


def test_moving_and_cancelling_are_confirmed_each_time(spa, maya, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(spa, maya, at_ten(spa))
    for days in (2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            reschedule_appointment(appointment=appointment, start=at_ten(spa, days=days), by="staff")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_appointment(appointment=appointment, by="staff", reason="Travelling")

    bodies = [m["Body"] for m in twilio.sent]
    assert len(bodies) == 4
    when = [f"{at_ten(spa, days=d):%A, %B} {at_ten(spa, days=d).day} at 10 AM" for d in (1, 2, 3)]
    assert "you're booked" in bodies[0] and when[0] in bodies[0]
    assert f"is moved to {when[1]}" in bodies[1] and f"is moved to {when[2]}" in bodies[2]
    assert f"on {when[2]} is cancelled" in bodies[3]
    assert list(sent(channel=Channel.SMS).values_list("metadata__change", flat=True).order_by("created_at", "id")) == [
        "booked", "rescheduled", "rescheduled", "cancelled"]


def test_changes_in_one_transaction_confirm_each_move_and_not_a_booking_already_cancelled(
        spa, maya, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(spa, maya, at_ten(spa))
        reschedule_appointment(appointment=appointment, start=at_ten(spa, days=2), by="staff")
        reschedule_appointment(appointment=appointment, start=at_ten(spa, days=3), by="staff")
    with django_capture_on_commit_callbacks(execute=True):
        other = book(spa, maya, at_ten(spa, days=4))
        cancel_appointment(appointment=other, by="staff")

    changes = list(sent(channel=Channel.SMS).order_by("created_at", "id").values_list("metadata__change", "body"))
    assert [c for c, _ in changes] == ["booked", "rescheduled", "rescheduled", "cancelled"]
    assert f"{at_ten(spa, days=2):%B} {at_ten(spa, days=2).day} at 10 AM" in changes[1][1]


def test_a_number_that_replied_stop_gets_no_confirmation_text_but_its_email(spa, maya, twilio, sendgrid,
                                                                             django_capture_on_commit_callbacks):
    sms.receive_sms(message_sid="SM" + "5" * 32, from_number=PHONE, body="STOP")
    with django_capture_on_commit_callbacks(execute=True):
        book(spa, maya, at_ten(spa))

    assert twilio.sent == [] and not sent(channel=Channel.SMS).exists()
    assert len(sendgrid.sent) == 1


def test_a_customer_without_a_phone_or_email_gets_what_they_can(spa, twilio, django_capture_on_commit_callbacks):
    emailless = CustomerFactory(phone=PHONE, email=None, is_new_client=False)
    with django_capture_on_commit_callbacks(execute=True):
        book(spa, emailless, at_ten(spa))
    assert [o.channel for o in sent()] == [Channel.SMS]


def test_without_providers_confirmations_wait_in_the_outbox(spa, maya, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        book(spa, maya, at_ten(spa))
    assert sorted(sent().values_list("channel", "status")) == [("email", "outbox"), ("sms", "outbox")]


def test_a_booking_made_in_the_messaging_console_is_never_texted_out(spa, maya, twilio,
                                                                      django_capture_on_commit_callbacks):
    conversation = start_conversation(channel=Channel.SMS, customer=maya, metadata={"console": True})
    with django_capture_on_commit_callbacks(execute=True):
        book(spa, maya, at_ten(spa), conversation)
    assert twilio.sent == []
    assert set(sent().values_list("status", flat=True)) == {DeliveryStatus.OUTBOX}


# --- reminders --------------------------------------------------------------------------------------

def booked_days_ago(spa, customer, *, start, days=3):
    appointment = AppointmentFactory(customer=customer, service=spa.hydrafacial, provider=spa.dana, start=start)
    Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - timedelta(days=days))
    return appointment


def test_the_reminder_job_run_twice_reminds_once(spa, maya, twilio, sendgrid, django_capture_on_commit_callbacks):
    soon = booked_days_ago(spa, maya, start=timezone.now() + timedelta(hours=20))
    booked_days_ago(spa, CustomerFactory(phone="+12125550177"), start=timezone.now() + timedelta(hours=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert send_appointment_reminders.delay().get() == 2  # one SMS, one email
        assert send_appointment_reminders.delay().get() == 0

    assert len(twilio.sent) == 1 and len(sendgrid.sent) == 1
    assert twilio.sent[0]["To"] == PHONE and "a reminder of your HydraFacial" in twilio.sent[0]["Body"]
    assert sendgrid.sent[0]["subject"].startswith("Reminder: HydraFacial")
    assert set(sent("reminder").values_list("metadata__appointment_id", flat=True)) == {soon.pk}


def test_no_reminder_for_a_booking_made_inside_the_window_nor_a_cancelled_one(spa, maya, twilio):
    AppointmentFactory(customer=maya, service=spa.hydrafacial, provider=spa.dana,
                       start=timezone.now() + timedelta(hours=5))  # booked just now: the confirmation is fresh
    cancelled = booked_days_ago(spa, maya, start=timezone.now() + timedelta(hours=10))
    Appointment.objects.filter(pk=cancelled.pk).update(status=Appointment.Status.CANCELLED)

    assert notifications.send_reminders() == 0
    assert not sent("reminder").exists()


def test_a_moved_appointment_is_reminded_of_its_new_time(spa, maya, twilio, django_capture_on_commit_callbacks):
    appointment = booked_days_ago(spa, maya, start=timezone.now() + timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_reminders()
    new_start = appointment.start + timedelta(hours=2)
    Appointment.objects.filter(pk=appointment.pk).update(start=new_start, end=new_start + timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_reminders()

    assert sent("reminder", Channel.SMS).count() == 2 and len(twilio.sent) == 2


def test_a_number_that_replied_stop_gets_no_reminder_text(spa, maya, twilio, sendgrid,
                                                          django_capture_on_commit_callbacks):
    booked_days_ago(spa, maya, start=timezone.now() + timedelta(hours=20))
    sms.receive_sms(message_sid="SM" + "6" * 32, from_number=PHONE, body="unsubscribe")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_reminders()
    assert twilio.sent == [] and len(sendgrid.sent) == 1
