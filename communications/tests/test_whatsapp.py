"""WhatsApp beside SMS: in through the same signed Twilio webhook ("whatsapp:+E164" addresses), Ava's answers,
confirmations and reminders out through Twilio (a local fake) on WhatsApp, STOP per channel, the inbox and the metrics.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import services as analytics
from analytics.models import DailyMetric
from communications.messaging import sms
from communications.models import Channel, CommunicationEvent, Conversation, Customer, Message, OutboundMessage
from communications.services import merge_customers
from communications.tests.factories import CustomerFactory
from communications.tests.messaging_fixtures import (  # noqa: F401  (fixtures)
    CLINIC_NUMBER,
    PUBLIC_URL,
    post_signed,
    sendgrid,
    spa,
    text_params,
    twilio,
    twilio_webhooks,
)
from receptionist import notifications
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")]
SMS_URL = "/webhooks/twilio/sms"
STATUS_URL = "/webhooks/twilio/status"
CALLER = "+12125550142"


def whatsapp_params(body, n=1, *, sender=CALLER):
    # What Twilio posts for a WhatsApp message: the SMS fields with prefixed addresses, plus the profile.
    return {**text_params(body, sid=f"SM{n:032d}", sender=f"whatsapp:{sender}", to=f"whatsapp:{CLINIC_NUMBER}"),
            "ProfileName": "Maya", "WaId": sender.lstrip("+")}


def whatsapp_in(client, body, n, callbacks):
    with callbacks(execute=True):
        response = post_signed(client, SMS_URL, whatsapp_params(body, n))
    assert response.status_code == 200
    return response


def sms_in(client, body, n, callbacks):
    with callbacks(execute=True):
        response = post_signed(client, SMS_URL, text_params(body, sid=f"SN{n:032d}", sender=CALLER))
    assert response.status_code == 200
    return response


# --- in and out ---------------------------------------------------------------------------------

def test_a_whatsapp_message_is_answered_on_whatsapp(client, spa, twilio, django_capture_on_commit_callbacks):
    whatsapp_in(client, "Where do I park?", 1, django_capture_on_commit_callbacks)

    conversation = Conversation.objects.get()
    assert conversation.channel == Channel.WHATSAPP
    assert conversation.customer == Customer.objects.get(phone=CALLER)  # one customer per number, E.164
    question, answer = conversation.messages.order_by("position")
    assert question.content == "Where do I park?" and question.sms.from_number == CALLER
    assert "Mercer Street" in answer.content
    # Out through Twilio's Messages API with WhatsApp addresses on both ends.
    assert [(m["To"], m["From"]) for m in twilio.sent] == [(f"whatsapp:{CALLER}", f"whatsapp:{CLINIC_NUMBER}")]
    assert twilio.sent[0]["Body"] == answer.content
    assert twilio.sent[0]["StatusCallback"] == PUBLIC_URL + STATUS_URL
    outbound = answer.outbound
    assert outbound.channel == Channel.WHATSAPP and outbound.to == CALLER
    assert outbound.provider_message_id == twilio.sent[0]["sid"]

    # Twilio's delivery reports land on the same callback ("read" is delivered).
    post_signed(client, STATUS_URL, {"MessageSid": twilio.sent[0]["sid"], "MessageStatus": "read"})
    outbound.refresh_from_db()
    assert outbound.status == "delivered" and outbound.delivered_at is not None


def test_a_separate_whatsapp_sender_is_used_when_set(client, spa, twilio, settings,
                                                     django_capture_on_commit_callbacks):
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    whatsapp_in(client, "Where do I park?", 1, django_capture_on_commit_callbacks)
    sms_in(client, "Where do I park?", 2, django_capture_on_commit_callbacks)

    assert [(m["To"], m["From"]) for m in twilio.sent] == [("whatsapp:" + CALLER, "whatsapp:+14155238886"),
                                                           (CALLER, CLINIC_NUMBER)]


def test_whatsapp_and_sms_from_one_number_are_one_customer_with_a_thread_on_each(
        client, spa, twilio, django_capture_on_commit_callbacks):
    whatsapp_in(client, "Hi, what are your hours?", 1, django_capture_on_commit_callbacks)
    sms_in(client, "Where do I park?", 2, django_capture_on_commit_callbacks)
    whatsapp_in(client, "And do you do Botox?", 3, django_capture_on_commit_callbacks)

    assert Customer.objects.count() == 1
    whatsapp = Conversation.objects.get(channel=Channel.WHATSAPP)
    texts = Conversation.objects.get(channel=Channel.SMS)
    assert [m.content for m in whatsapp.messages.filter(author="customer")] == ["Hi, what are your hours?",
                                                                               "And do you do Botox?"]
    assert [m.content for m in texts.messages.filter(author="customer")] == ["Where do I park?"]
    # Each answer went back where its question came from.
    assert [m["To"] for m in twilio.sent] == [f"whatsapp:{CALLER}", CALLER, f"whatsapp:{CALLER}"]


# --- STOP -------------------------------------------------------------------------------------

def test_stop_on_whatsapp_stops_whatsapp_messages_and_start_resumes_them(client, spa, twilio,
                                                                        django_capture_on_commit_callbacks):
    whatsapp_in(client, "STOP", 1, django_capture_on_commit_callbacks)
    whatsapp_in(client, "Where do I park?", 2, django_capture_on_commit_callbacks)

    customer = Customer.objects.get(phone=CALLER)
    assert customer.whatsapp_opted_out and customer.whatsapp_opted_out_at is not None
    assert not customer.sms_opted_out  # a STOP stops the channel it was sent on
    conversation = Conversation.objects.get(channel=Channel.WHATSAPP)
    assert [m.content for m in conversation.messages.all()] == ["STOP", "Where do I park?"]  # kept, not answered
    assert twilio.sent == [] and not OutboundMessage.objects.exists()
    assert CommunicationEvent.objects.filter(type="whatsapp_opt_out").count() == 1

    whatsapp_in(client, "START", 3, django_capture_on_commit_callbacks)
    whatsapp_in(client, "Where do I park?", 4, django_capture_on_commit_callbacks)

    assert not Customer.objects.get(phone=CALLER).whatsapp_opted_out
    assert len(twilio.sent) == 1 and twilio.sent[0]["To"] == f"whatsapp:{CALLER}"
    assert "Mercer Street" in twilio.sent[0]["Body"]


def test_an_sms_stop_does_not_silence_whatsapp(client, spa, twilio, django_capture_on_commit_callbacks):
    sms_in(client, "STOP", 1, django_capture_on_commit_callbacks)
    whatsapp_in(client, "Where do I park?", 2, django_capture_on_commit_callbacks)

    assert Customer.objects.get(phone=CALLER).sms_opted_out
    assert [m["To"] for m in twilio.sent] == [f"whatsapp:{CALLER}"]


# --- confirmations and reminders ------------------------------------------------------------------

def test_a_booking_made_over_whatsapp_is_confirmed_on_whatsapp(client, spa, twilio,
                                                               django_capture_on_commit_callbacks):
    whatsapp_in(client, "I'd like to book a HydraFacial tomorrow", 1, django_capture_on_commit_callbacks)
    whatsapp_in(client, "9 AM please, my name is Maya Patel", 2, django_capture_on_commit_callbacks)

    appointment = Appointment.objects.get()
    assert appointment.customer.phone == CALLER and appointment.customer.name == "Maya Patel"
    assert appointment.conversation.channel == Channel.WHATSAPP
    confirmation = OutboundMessage.objects.get(kind="confirmation")
    assert confirmation.channel == Channel.WHATSAPP
    assert all(m["To"] == f"whatsapp:{CALLER}" for m in twilio.sent)
    assert "booked for HydraFacial with Dana Reyes" in twilio.sent[-1]["Body"]
    assert not OutboundMessage.objects.filter(channel=Channel.SMS).exists()


@pytest.fixture
def maya(db):
    return CustomerFactory(name="Maya Patel", phone=CALLER, email="maya.patel@example.com", is_new_client=False)


def reminded_at(now, customer, spa):
    """Send the reminders as the clock reads `now` for an appointment tomorrow, booked days ago: the texts sent."""
    appointment = AppointmentFactory(customer=customer, service=spa.hydrafacial, provider=spa.dana,
                                     start=now + timedelta(hours=20))
    Appointment.objects.filter(pk=appointment.pk).update(created_at=now - timedelta(days=3))
    notifications.send_reminders(now=now)
    return OutboundMessage.objects.filter(kind="reminder").exclude(channel=Channel.EMAIL)


def test_a_reminder_goes_on_whatsapp_while_its_window_is_open(spa, maya, twilio, sendgrid,
                                                              django_capture_on_commit_callbacks):
    now = timezone.now()
    sms.receive_sms(message_sid="SM" + "1" * 32, from_number=f"whatsapp:{CALLER}", body="Thanks!",
                    at=now - timedelta(hours=23))
    with django_capture_on_commit_callbacks(execute=True):
        reminders = reminded_at(now, maya, spa)

    assert list(reminders.values_list("channel", flat=True)) == [Channel.WHATSAPP]
    assert [m["To"] for m in twilio.sent] == [f"whatsapp:{CALLER}"]
    assert "a reminder of your HydraFacial" in twilio.sent[0]["Body"]


def test_after_whatsapps_24_hour_window_the_reminder_is_texted(spa, maya, twilio,
                                                               django_capture_on_commit_callbacks):
    now = timezone.now()
    # WhatsApp refuses free-form messages a day after the customer's last one: SMS carries it.
    sms.receive_sms(message_sid="SM" + "1" * 32, from_number=f"whatsapp:{CALLER}", body="Thanks!",
                    at=now - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        reminders = reminded_at(now, maya, spa)

    assert list(reminders.values_list("channel", flat=True)) == [Channel.SMS]
    assert [m["To"] for m in twilio.sent] == [CALLER]


def test_a_customer_who_said_stop_on_whatsapp_gets_no_text_reminder(spa, maya, twilio, sendgrid,
                                                                    django_capture_on_commit_callbacks):
    now = timezone.now()
    sms.receive_sms(message_sid="SM" + "1" * 32, from_number=f"whatsapp:{CALLER}", body="stop",
                    at=now - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        reminders = reminded_at(now, maya, spa)

    # Not by WhatsApp, and not worked round by SMS: email only.
    assert not reminders.exists()
    assert twilio.sent == [] and len(sendgrid.sent) == 1


# --- the inbox and the metrics ------------------------------------------------------------------

def test_staff_see_it_as_whatsapp_in_the_inbox_and_its_filter(client, spa, twilio, staff_client,
                                                              django_capture_on_commit_callbacks):
    whatsapp_in(client, "Do you do Botox on Saturdays?", 1, django_capture_on_commit_callbacks)
    Customer.objects.filter(phone=CALLER).update(name="Maya Patel")
    sms_in(client, "Where do I park?", 2, django_capture_on_commit_callbacks)

    page = staff_client.get("/dashboard/inbox/").content.decode()
    assert '<option value="whatsapp">WhatsApp</option>' in page
    assert '<span class="badge whatsapp">WhatsApp</span>' in page

    only_whatsapp = staff_client.get("/dashboard/inbox/?channel=whatsapp").content.decode()
    assert only_whatsapp.count('<span class="badge whatsapp">WhatsApp</span>') == 1
    assert '<span class="badge sms">' not in only_whatsapp
    only_sms = staff_client.get("/dashboard/inbox/?channel=sms").content.decode()
    assert '<span class="badge whatsapp">' not in only_sms

    conversation = Conversation.objects.get(channel=Channel.WHATSAPP)
    transcript = staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    assert "WhatsApp" in transcript and "Do you do Botox on Saturdays?" in transcript


def test_the_metrics_count_it_under_whatsapp(client, spa, twilio, staff_client, django_capture_on_commit_callbacks):
    whatsapp_in(client, "Where do I park?", 1, django_capture_on_commit_callbacks)
    sms_in(client, "What are your hours?", 2, django_capture_on_commit_callbacks)
    conversation = Conversation.objects.get(channel=Channel.WHATSAPP)
    day = conversation.started_at.astimezone(spa.clinic.tz).date()

    body = staff_client.get("/api/admin/metrics/overview", {"period": "custom", "start": day.isoformat(),
                                                            "end": day.isoformat()}).json()
    assert body["by_channel"]["whatsapp"]["conversations"] == 1
    assert body["by_channel"]["sms"]["conversations"] == 1
    assert body["by_channel"]["whatsapp"]["first_response_count"] == 1
    assert body["totals"]["conversations"] == 2

    analytics.rollup_day(day=day, tz=spa.clinic.tz)
    assert DailyMetric.objects.get(date=day, channel=Channel.WHATSAPP).conversations == 1

    channels = staff_client.get("/api/admin/analytics/channels", {"period": "custom", "start": day.isoformat(),
                                                                  "end": day.isoformat()}).json()["channels"]
    assert {row["channel"]: row["label"] for row in channels}["whatsapp"] == "WhatsApp"
    assert Message.objects.filter(conversation=conversation, author="assistant").count() == 1


def test_staff_can_play_a_whatsapp_customer_in_the_console(staff_client, spa, twilio,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/dashboard/console/send/", {"channel": "whatsapp", "phone": "(212) 555-0142",
                                                                 "body": "Where do I park?"})

    conversation = Conversation.objects.get()
    assert response.status_code == 302
    assert conversation.channel == Channel.WHATSAPP and conversation.metadata["console"] is True
    reply = OutboundMessage.objects.get()
    assert reply.channel == Channel.WHATSAPP and reply.status == "outbox"  # the console never sends
    assert twilio.sent == []
    outbox = staff_client.get("/dashboard/console/?outbox=whatsapp").content.decode()
    assert 'aria-current="page">WhatsApp</a>' in outbox and "Mercer Street" in outbox


def test_a_whatsapp_opt_out_survives_a_customer_merge(spa, twilio):
    sms.receive_sms(message_sid="SM" + "1" * 32, from_number=f"whatsapp:{CALLER}", body="STOP")
    keep = CustomerFactory(name="Maya Patel", phone=None, email="maya.patel@example.com")
    merged = merge_customers(keep=keep, duplicate=Customer.objects.get(phone=CALLER))

    merged.refresh_from_db()
    assert merged.phone == CALLER and merged.whatsapp_opted_out and merged.whatsapp_opted_out_at is not None
    assert not merged.sms_opted_out
