"""SMS through Twilio: texts in (the webhook, the console), texts out (its REST client), STOP and START.

Out: `twilio.rest.Client(...).messages.create(...)`; settings.TWILIO_API_BASE_URL points the
client's API domain elsewhere (tests run a local server speaking Twilio's Messages API).
In: `receive_sms` stores each message once (its MessageSid is unique), threads it, honours the
opt-out keywords Twilio itself honours, and asks for a reply after the commit.
"""

import logging
from dataclasses import dataclass
from functools import lru_cache

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from communications import services
from communications.channels import announce_reply_needed, delivery
from communications.models import Channel, DeliveryStatus, Message, OutboundMessage, SmsDetail
from communications.phones import normalise_phone
from communications.threads import conversation_for_inbound

log = logging.getLogger(__name__)

# The keywords carriers and Twilio treat as opting out or back in, alone in a message.
OPT_OUT_KEYWORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "revoke"}
OPT_IN_KEYWORDS = {"start", "unstop"}
# "yes" opts back in only someone who opted out; otherwise it is an answer ("yes, book it").
OPT_IN_IF_OUT = {"yes"}
START_OVER = {"start over", "restart", "new conversation"}
# Twilio's own message length limit (it splits into segments below it).
MAX_BODY = 1600

TWILIO_STATUSES = {
    "accepted": DeliveryStatus.QUEUED, "scheduled": DeliveryStatus.QUEUED, "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED, "sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED, "undelivered": DeliveryStatus.UNDELIVERED, "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED, "received": DeliveryStatus.RECEIVED, "receiving": DeliveryStatus.RECEIVED,
}


def keyword(body):
    return " ".join((body or "").strip().lower().strip(".!").split())


# --- out ----------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _client(account_sid, auth_token, base_url, timeout):
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    if base_url:
        # The API domain's base URL; the client builds /2010-04-01/Accounts/{sid}/Messages.json on it.
        client.api.base_url = base_url.rstrip("/")
    return client


def twilio_client():
    return _client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL,
                   settings.TWILIO_TIMEOUT_SECONDS)


def status_callback_url():
    """Where Twilio reports delivery (None without a public base URL: no callbacks then)."""
    if not settings.TWILIO_WEBHOOK_BASE_URL:
        return None
    return settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/") + reverse("webhooks:twilio-status")


def clinic_number():
    """The clinic's own number ("" when texts go through a Messaging Service, MG…)."""
    number = settings.TWILIO_FROM_NUMBER
    return "" if number.startswith("MG") else number[:20]


def send(outbound):
    """Hand one text to Twilio. Returns delivery.Sent; raises delivery.DeliveryError."""
    kwargs = {"to": outbound.to, "body": outbound.body[:MAX_BODY]}
    if settings.TWILIO_FROM_NUMBER.startswith("MG"):
        kwargs["messaging_service_sid"] = settings.TWILIO_FROM_NUMBER  # a Messaging Service picks the sender
    else:
        kwargs["from_"] = settings.TWILIO_FROM_NUMBER
    callback = status_callback_url()
    if callback:
        kwargs["status_callback"] = callback
    try:
        message = twilio_client().messages.create(**kwargs)
    except TwilioRestException as error:
        # 429 and 5xx pass; a 4xx (a bad number, an unverified sender) will not get better.
        passing = error.status == 429 or error.status >= 500
        raise delivery.DeliveryError(error.msg or f"Twilio answered {error.status}", code=error.code or error.status,
                                     passing=passing) from error
    except (requests.RequestException, TwilioException) as error:
        raise delivery.DeliveryError(f"Twilio could not be reached: {error}", code="network", passing=True) from error
    return delivery.Sent(provider_message_id=message.sid,
                         status=TWILIO_STATUSES.get(message.status or "", DeliveryStatus.SENT))


def send_reply(*, conversation, content, metadata=None):
    """Ava's answer in an SMS conversation: saved as a message, then texted (or kept in the outbox)."""
    customer = conversation.customer
    if customer is None or not customer.phone:
        raise ValueError("An SMS conversation needs a customer with a phone number.")
    if delivery.sms_opted_out(customer.phone):
        services.record_event(conversation_id=conversation.pk, type="reply_suppressed",
                              data={"reason": "sms_opted_out"})
        return None
    console = bool(conversation.metadata.get("console"))
    with transaction.atomic():
        message = services.add_message(conversation_id=conversation.pk, author=Message.Author.ASSISTANT,
                                       content=content, metadata=metadata)
        outbound, _ = delivery.queue(channel=Channel.SMS, kind=OutboundMessage.Kind.REPLY, customer=customer,
                                     to=customer.phone, body=content, message=message,
                                     idempotency_key=f"reply:{message.pk}", outbox_only=console)
        SmsDetail.objects.create(message=message, from_number=clinic_number(), to_number=customer.phone,
                                 delivery_status=outbound.status, status_updated_at=outbound.created_at,
                                 segments=segments(content))
    return message


def segments(text):
    """How many SMS segments a text takes (GSM-7: 160, or 153 when split; UCS-2: 70/67)."""
    unicode = any(ord(ch) > 127 for ch in text)
    single, part = (70, 67) if unicode else (160, 153)
    return 1 if len(text) <= single else -(-len(text) // part)


# --- in -----------------------------------------------------------------------------------------

@dataclass
class Received:
    message: Message | None
    duplicate: bool = False
    action: str = "reply"  # reply, opted_out, opted_in


def receive_sms(*, message_sid, from_number, to_number="", body="", media_urls=(), num_segments=1, console=False,
                at=None):
    """Store one inbound text once, thread it, and ask for a reply after the commit (unless STOP/START).

    A MessageSid seen before changes nothing (Received.duplicate). Raises ValidationError for a
    sender that is not a phone number.
    """
    at = at or timezone.now()
    if message_sid and SmsDetail.objects.filter(provider_message_id=message_sid).exists():
        return Received(message=None, duplicate=True, action="none")
    phone = normalise_phone(from_number)
    word = keyword(body)
    try:
        with transaction.atomic():
            customer = services.find_or_create_customer(phone=phone)
            conversation = conversation_for_inbound(
                customer=customer, channel=Channel.SMS, at=at, start_over=word in START_OVER,
                metadata={"console": True} if console else None,
            )
            message = services.add_message(conversation_id=conversation.pk, author=Message.Author.CUSTOMER,
                                           content=body, sent_at=at,
                                           metadata={"source": "console" if console else "twilio"})
            SmsDetail.objects.create(
                message=message, provider_message_id=message_sid or None, from_number=phone,
                to_number=(to_number or clinic_number())[:20], delivery_status=DeliveryStatus.RECEIVED,
                status_updated_at=at, segments=max(1, int(num_segments or 1)), media_urls=list(media_urls),
            )
            action = _consent(customer=customer, conversation=conversation, message=message, word=word, at=at)
            if action != "reply":
                # Kept in the transcript, but not a question for Ava (now or after an opt-in).
                message.metadata = {**message.metadata, "no_reply": action}
                message.save(update_fields=["metadata"])
    except IntegrityError:
        # The same MessageSid stored a moment ago by a concurrent request (Twilio retried).
        if message_sid and SmsDetail.objects.filter(provider_message_id=message_sid).exists():
            return Received(message=None, duplicate=True, action="none")
        raise
    if action == "reply":
        announce_reply_needed(message)
    return Received(message=message, action=action)


def _consent(*, customer, conversation, message, word, at):
    """STOP opts the number out, START opts it back in; neither gets an answer from Ava."""
    if word in OPT_OUT_KEYWORDS:
        customer.opt_out_of_sms(at=at)
        services.record_event(conversation_id=conversation.pk, type="sms_opt_out", message=message, at=at,
                              data={"keyword": word})
        return "opted_out"
    if word in OPT_IN_KEYWORDS or (word in OPT_IN_IF_OUT and customer.sms_opted_out):
        opt_in(customer)
        services.record_event(conversation_id=conversation.pk, type="sms_opt_in", message=message, at=at,
                              data={"keyword": word})
        return "opted_in"
    if customer.sms_opted_out:
        # Twilio delivers their texts but will not carry ours: keep the message, answer nothing.
        return "opted_out"
    return "reply"


def opt_in(customer):
    customer.sms_opted_out = False
    customer.sms_opted_out_at = None
    customer.save(update_fields=["sms_opted_out", "sms_opted_out_at", "updated_at"])


def receive_status(*, message_sid, status, error_code="", error_message=""):
    """Twilio's status callback: the delivery status of a text Ava sent. Returns True when it was ours."""
    mapped = TWILIO_STATUSES.get((status or "").lower())
    if mapped is None:
        log.warning("Unknown Twilio message status %r for %s", status, message_sid)
        return False
    return delivery.record_status(provider_message_id=message_sid, status=mapped, error_code=error_code,
                                  error_message=error_message)
