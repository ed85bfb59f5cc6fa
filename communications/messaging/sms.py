"""SMS and WhatsApp through Twilio: messages in (the webhook, the console), out (its REST client), STOP and START.

Out: `twilio.rest.Client(...).messages.create(...)`; settings.TWILIO_API_BASE_URL points the
client's API domain elsewhere (tests run a local server speaking Twilio's Messages API).
In: `receive_sms` stores each message once (its MessageSid is unique), threads it, honours the
opt-out keywords Twilio itself honours, and asks for a reply after the commit.

WhatsApp is the same Messages API with "whatsapp:+E164" addresses: a sender with that prefix makes
the message a WhatsApp one (its own thread, its own STOP), and replies go back with the prefix on
both ends. Numbers are stored in E.164 without it, so one customer is one phone number on both.
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
from communications.messaging import announce_reply_needed, delivery
from communications.models import TWILIO_CHANNELS, Channel, DeliveryStatus, Message, OutboundMessage, SmsDetail
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
WHATSAPP_PREFIX = "whatsapp:"

TWILIO_STATUSES = {
    "accepted": DeliveryStatus.QUEUED, "scheduled": DeliveryStatus.QUEUED, "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.QUEUED, "sent": DeliveryStatus.SENT, "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED, "undelivered": DeliveryStatus.UNDELIVERED, "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED, "received": DeliveryStatus.RECEIVED, "receiving": DeliveryStatus.RECEIVED,
}


def keyword(body):
    return " ".join((body or "").strip().lower().strip(".!").split())


def split_address(address):
    """(channel, number) of a Twilio address: "whatsapp:+1…" is WhatsApp, anything else SMS."""
    address = (address or "").strip()
    if address.lower().startswith(WHATSAPP_PREFIX):
        return Channel.WHATSAPP, address[len(WHATSAPP_PREFIX):]
    return Channel.SMS, address


def twilio_address(channel, number):
    """How Twilio addresses a number on a channel: "+1…" for SMS, "whatsapp:+1…" for WhatsApp."""
    return f"{WHATSAPP_PREFIX}{number}" if channel == Channel.WHATSAPP and number else number


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


def _sender(channel):
    if channel == Channel.WHATSAPP and settings.TWILIO_WHATSAPP_FROM:
        return settings.TWILIO_WHATSAPP_FROM
    return settings.TWILIO_FROM_NUMBER


def clinic_number(channel=Channel.SMS):
    """The clinic's own number on a channel ("" when messages go through a Messaging Service, MG…)."""
    number = _sender(channel)
    return "" if number.startswith("MG") else number[:20]


def send(outbound):
    """Hand one text or WhatsApp message to Twilio. Returns delivery.Sent; raises delivery.DeliveryError."""
    sender = _sender(outbound.channel)
    kwargs = {"to": twilio_address(outbound.channel, outbound.to), "body": outbound.body[:MAX_BODY]}
    if sender.startswith("MG"):
        kwargs["messaging_service_sid"] = sender  # a Messaging Service picks the sender (its WhatsApp one too)
    else:
        kwargs["from_"] = twilio_address(outbound.channel, sender)
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
    """Ava's answer in an SMS or WhatsApp conversation: saved as a message, then sent there (or kept in the outbox)."""
    customer = conversation.customer
    channel = conversation.channel
    if channel not in TWILIO_CHANNELS or customer is None or not customer.phone:
        raise ValueError("An SMS or WhatsApp conversation needs a customer with a phone number.")
    if delivery.opted_out(channel, customer.phone):
        services.record_event(conversation_id=conversation.pk, type="reply_suppressed",
                              data={"reason": f"{channel}_opted_out"})
        return None
    console = bool(conversation.metadata.get("console"))
    with transaction.atomic():
        message = services.add_message(conversation_id=conversation.pk, author=Message.Author.ASSISTANT,
                                       content=content, metadata=metadata)
        outbound, _ = delivery.queue(channel=channel, kind=OutboundMessage.Kind.REPLY, customer=customer,
                                     to=customer.phone, body=content, message=message,
                                     idempotency_key=f"reply:{message.pk}", outbox_only=console)
        SmsDetail.objects.create(message=message, from_number=clinic_number(channel), to_number=customer.phone,
                                 delivery_status=outbound.status, status_updated_at=outbound.created_at,
                                 segments=segments(content) if channel == Channel.SMS else 1)
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
    """Store one inbound text or WhatsApp message once, thread it, and ask for a reply after the commit
    (unless STOP/START).

    A sender "whatsapp:+1…" makes it a WhatsApp message. A MessageSid seen before changes nothing
    (Received.duplicate). Raises ValidationError for a sender that is not a phone number.
    """
    at = at or timezone.now()
    if message_sid and SmsDetail.objects.filter(provider_message_id=message_sid).exists():
        return Received(message=None, duplicate=True, action="none")
    channel, sender = split_address(from_number)
    phone = normalise_phone(sender)
    word = keyword(body)
    try:
        with transaction.atomic():
            customer = services.find_or_create_customer(phone=phone)
            conversation = conversation_for_inbound(
                customer=customer, channel=channel, at=at, start_over=word in START_OVER,
                metadata={"console": True} if console else None,
            )
            message = services.add_message(conversation_id=conversation.pk, author=Message.Author.CUSTOMER,
                                           content=body, sent_at=at,
                                           metadata={"source": "console" if console else "twilio"})
            SmsDetail.objects.create(
                message=message, provider_message_id=message_sid or None, from_number=phone,
                to_number=(split_address(to_number)[1] or clinic_number(channel))[:20],
                delivery_status=DeliveryStatus.RECEIVED,
                status_updated_at=at, segments=max(1, int(num_segments or 1)), media_urls=list(media_urls),
            )
            action = _consent(customer=customer, conversation=conversation, message=message, word=word, at=at,
                              channel=channel)
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


def _consent(*, customer, conversation, message, word, at, channel=Channel.SMS):
    """STOP opts the number out of this channel, START opts it back in; neither gets an answer from Ava.

    Per channel: a STOP on WhatsApp (where Twilio passes it on rather than acting on it) stops WhatsApp.
    """
    if word in OPT_OUT_KEYWORDS:
        customer.set_opt_out(channel, True, at=at)
        services.record_event(conversation_id=conversation.pk, type=f"{channel}_opt_out", message=message, at=at,
                              data={"keyword": word})
        return "opted_out"
    if word in OPT_IN_KEYWORDS or (word in OPT_IN_IF_OUT and customer.opted_out_of(channel)):
        customer.set_opt_out(channel, False)
        services.record_event(conversation_id=conversation.pk, type=f"{channel}_opt_in", message=message, at=at,
                              data={"keyword": word})
        return "opted_in"
    if customer.opted_out_of(channel):
        # Their messages arrive, but they asked for none of ours: keep the message, answer nothing.
        return "opted_out"
    return "reply"


def opt_in(customer, channel=Channel.SMS):
    customer.set_opt_out(channel, False)


def receive_status(*, message_sid, status, error_code="", error_message=""):
    """Twilio's status callback: the delivery status of a text Ava sent. Returns True when it was ours."""
    mapped = TWILIO_STATUSES.get((status or "").lower())
    if mapped is None:
        log.warning("Unknown Twilio message status %r for %s", status, message_sid)
        return False
    return delivery.record_status(provider_message_id=message_sid, status=mapped, error_code=error_code,
                                  error_message=error_message)
