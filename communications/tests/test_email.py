"""Email: SendGrid's inbound webhook (anymail, basic-auth secret), threading, and replies sent through SendGrid."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from communications.messaging import email as email_channel
from communications.models import (
    Channel,
    Conversation,
    Customer,
    DeliveryStatus,
    EmailDetail,
    Message,
    OutboundMessage,
)
from communications.services import end_conversation
from communications.tests.factories import CustomerFactory
from communications.tests.messaging_fixtures import (  # noqa: F401
    WEBHOOK_SECRET,
    inbound_email,
    sendgrid,
    spa,
)

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")]
INBOUND_URL = "/webhooks/sendgrid/inbound/"
MAYA = "maya.patel@example.com"


def auth(secret=WEBHOOK_SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def parse_post(*, sender=f"Maya Patel <{MAYA}>", subject="Parking", text="Where do I park?",
               message_id="<first@mail.example.com>", in_reply_to="", references=""):
    """The form SendGrid's Inbound Parse posts (default, not raw)."""
    headers = [f"From: {sender}", "To: ava@glowmedspa.example", f"Subject: {subject}", f"Message-ID: {message_id}"]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(f"References: {references}")
    return {
        "headers": "\n".join(headers) + "\n", "from": sender, "to": "ava@glowmedspa.example", "subject": subject,
        "text": text, "envelope": json.dumps({"to": ["ava@glowmedspa.example"], "from": sender.split("<")[-1][:-1]}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}),
        "SPF": "pass",
    }


def emails_of(address=MAYA):
    return Message.objects.filter(conversation__channel=Channel.EMAIL, conversation__customer__email=address)


# --- the webhook's secret -----------------------------------------------------------------------

def test_an_email_without_the_webhook_secret_is_refused(client, spa, inbound_email):
    response = client.post(INBOUND_URL, parse_post())
    assert response.status_code == 400  # anymail's answer to missing basic auth
    assert not Message.objects.exists()


def test_an_email_with_a_wrong_secret_is_refused(client, spa, inbound_email):
    response = client.post(INBOUND_URL, parse_post(), **auth("sendgrid:guessed"))
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_with_no_secret_configured_every_email_is_refused(client, spa, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    response = client.post(INBOUND_URL, parse_post(), **auth())
    assert response.status_code == 403
    assert not Message.objects.exists()


# --- in, answered, out through SendGrid ----------------------------------------------------------------

def test_an_inbound_email_is_stored_and_answered_by_email_through_sendgrid(client, spa, sendgrid,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INBOUND_URL, parse_post(text="Where do I park?\n\nOn Monday, Ava wrote:\n> Hello"),
                               **auth())

    assert response.status_code == 200
    customer = Customer.objects.get(email=MAYA)
    assert customer.name == "Maya Patel"
    inbound = emails_of().get(author=Message.Author.CUSTOMER)
    assert inbound.content == "Where do I park?"  # the quoted history is not their words
    assert inbound.email.message_id_header == "<first@mail.example.com>" and inbound.email.subject == "Parking"

    reply = emails_of().get(author=Message.Author.ASSISTANT)
    assert reply.content.startswith("Hi Maya,")
    assert "Mercer Street" in reply.content
    assert reply.content.rstrip().endswith("Ava\nGlow Med Spa")
    [sent] = sendgrid.sent
    assert sent["personalizations"][0]["to"] == [{"email": MAYA}]
    assert sent["subject"] == "Re: Parking"
    assert sent["headers"]["In-Reply-To"] == "<first@mail.example.com>"
    assert sent["headers"]["Message-ID"] == reply.email.message_id_header
    assert "Mercer Street" in sent["content"][0]["value"]
    reply.email.refresh_from_db()
    assert reply.email.delivery_status == reply.outbound.status == DeliveryStatus.SENT


def test_the_same_email_posted_twice_is_stored_once(client, spa, sendgrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(INBOUND_URL, parse_post(), **auth()).status_code == 200
        assert client.post(INBOUND_URL, parse_post(), **auth()).status_code == 200
    assert emails_of().filter(author=Message.Author.CUSTOMER).count() == 1
    assert len(sendgrid.sent) == 1


def test_a_sendgrid_outage_is_retried_and_a_refusal_is_not(spa, sendgrid, django_capture_on_commit_callbacks):
    sendgrid.fail(500)
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="Where do I park?",
                                    message_id="<a@mail.example.com>")
    first = OutboundMessage.objects.get()
    assert first.status == DeliveryStatus.SENT and first.attempts == 2 and len(sendgrid.sent) == 1

    sendgrid.fail(400, "Invalid from address")
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="And the hours?",
                                    message_id="<b@mail.example.com>")
    second = OutboundMessage.objects.exclude(pk=first.pk).get()
    assert second.status == DeliveryStatus.FAILED and second.attempts == 1
    assert "Invalid from address" in second.error_message


def test_without_a_provider_the_reply_waits_in_the_outbox(spa, settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.EMAIL_DELIVERY = "outbox"
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="Where do I park?")
    outbound = OutboundMessage.objects.get()
    assert outbound.status == DeliveryStatus.OUTBOX and outbound.channel == Channel.EMAIL
    assert outbound.subject == "Re: Parking" and "Mercer Street" in outbound.body
    assert mailoutbox == []


# --- threading --------------------------------------------------------------------------------------

def test_an_answer_to_avas_email_joins_its_thread_even_from_another_address(client, spa, sendgrid,
                                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(INBOUND_URL, parse_post(), **auth())
    conversation = Conversation.objects.get(channel=Channel.EMAIL)
    avas = emails_of().get(author=Message.Author.ASSISTANT).email.message_id_header

    with django_capture_on_commit_callbacks(execute=True):
        client.post(INBOUND_URL, parse_post(sender="Maya P <maya@work.example.com>", subject="Re: Parking",
                                            text="Thanks! Is it free?", message_id="<second@work.example.com>",
                                            in_reply_to=avas, references=f"<first@mail.example.com> {avas}"),
                    **auth())

    assert Conversation.objects.filter(channel=Channel.EMAIL).count() == 1
    second = Message.objects.get(email__message_id_header="<second@work.example.com>")
    assert second.conversation == conversation
    assert second.email.in_reply_to == avas and avas in second.email.references
    assert not Customer.objects.filter(email="maya@work.example.com").exists()


def test_a_new_email_from_the_same_sender_joins_the_open_thread(spa, sendgrid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="Where do I park?",
                                    message_id="<1@mail.example.com>")
        email_channel.receive_email(from_email=MAYA.upper(), subject="Another question", text="What are your hours?",
                                    message_id="<2@mail.example.com>")
    assert Conversation.objects.filter(channel=Channel.EMAIL).count() == 1
    assert emails_of().filter(author=Message.Author.CUSTOMER).count() == 2


def test_after_the_window_a_new_email_starts_a_new_conversation_and_ends_the_old(spa, sendgrid, settings,
                                                                                 django_capture_on_commit_callbacks):
    settings.EMAIL_THREAD_WINDOW_MINUTES = 45
    earlier = timezone.now() - timedelta(minutes=46)
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="Where do I park?", at=earlier,
                                    message_id="<1@mail.example.com>")
    first = Conversation.objects.get()
    Conversation.objects.filter(pk=first.pk).update(last_activity_at=earlier)  # Ava answered at once back then
    Message.objects.filter(conversation=first).update(sent_at=earlier)

    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Hours", text="What are your hours?",
                                    message_id="<2@mail.example.com>")

    first.refresh_from_db()
    assert first.status == Conversation.Status.COMPLETED and first.ended_at == earlier
    assert Conversation.objects.filter(channel=Channel.EMAIL, status="active").exclude(pk=first.pk).count() == 1


def test_an_answer_to_an_ended_thread_starts_one_that_follows_it(spa, sendgrid, django_capture_on_commit_callbacks):
    customer = CustomerFactory(email=MAYA, name="Maya Patel")
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Parking", text="Where do I park?")
    first = Conversation.objects.get()
    avas = EmailDetail.objects.get(message__author=Message.Author.ASSISTANT).message_id_header
    end_conversation(conversation_id=first.pk)

    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email=MAYA, subject="Re: Parking", text="Is it free?", in_reply_to=avas)

    second = Conversation.objects.exclude(pk=first.pk).get()
    assert second.customer == customer and second.metadata["follows"] == str(first.pk)
