"""Email: in through django-anymail's inbound signal (SendGrid Inbound Parse), out through Django's mail framework.

In: `receive_email` stores each email once (by its Message-ID), threads it by In-Reply-To /
References against the Message-IDs we stored, then by sender, and asks for a reply after the
commit. Out: `send` builds an EmailMessage with our own Message-ID (so answers thread back) and
sends it through EMAIL_BACKEND: SendGrid via anymail in production (ANYMAIL["SENDGRID_API_URL"]
points it at a local fake in tests), any Django backend otherwise.
"""

import logging
import re
import smtplib
import warnings
from dataclasses import dataclass
from email.utils import parseaddr

from anymail.exceptions import AnymailError, AnymailInvalidAddress, AnymailNotSupportedWarning, AnymailRecipientsRefused
from anymail.signals import inbound
from django.conf import settings
from django.core.mail import EmailMessage, make_msgid
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from communications import services
from communications.messaging import announce_reply_needed, delivery
from communications.models import Channel, DeliveryStatus, EmailDetail, Message, OutboundMessage
from communications.services import EMAIL_MAX_LENGTH
from communications.threads import conversation_for_inbound, conversation_for_reply_headers

log = logging.getLogger(__name__)

# anymail says on every send and webhook that it no longer officially supports SendGrid (its issue 432);
# the backend and the inbound view still work and are tested here against a local SendGrid v3 fake.
warnings.filterwarnings("ignore", category=AnymailNotSupportedWarning)

# Where a reply's quoted history starts: "On Tue, ... wrote:", "-----Original Message-----", "> ...".
_QUOTE_START = re.compile(r"^(On .{0,200}wrote:\s*$|-{2,}\s*Original Message\s*-{2,}|From: .+$|>)", re.M | re.I)
START_OVER = re.compile(r"^\s*start over\b", re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def new_message_id():
    """A Message-ID for an email we send, on the sending address's domain."""
    _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    domain = address.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


def reply_text(text):
    """The new words of an email: its text without the quoted message it answers."""
    text = (text or "").replace("\r\n", "\n")
    match = _QUOTE_START.search(text)
    new = text[:match.start()] if match else text
    return new.strip() or text.strip()


# --- out ----------------------------------------------------------------------------------------

def send(outbound):
    """Send one email through EMAIL_BACKEND. Returns delivery.Sent; raises delivery.DeliveryError."""
    email = EmailMessage(subject=outbound.subject, body=outbound.body, from_email=settings.DEFAULT_FROM_EMAIL,
                         to=[outbound.to], headers=dict(outbound.headers or {}))
    try:
        email.send(fail_silently=False)
    except (AnymailRecipientsRefused, AnymailInvalidAddress, smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused) as error:
        raise delivery.DeliveryError(str(error), code="refused") from error
    except AnymailError as error:
        status = error.status_code
        # No answer, 429 or 5xx pass; another 4xx (a bad key, a rejected payload) will not get better.
        passing = status is None or status == 429 or status >= 500
        raise delivery.DeliveryError(" ".join(str(error).split()), code=status or "network", passing=passing) from error
    except (smtplib.SMTPException, OSError) as error:
        raise delivery.DeliveryError(f"Email could not be sent: {error}", code="network", passing=True) from error
    status = getattr(email, "anymail_status", None)
    provider_id = (status.message_id if status is not None else None) or (outbound.headers or {}).get("Message-ID")
    return delivery.Sent(provider_message_id=str(provider_id) if provider_id else None, status=DeliveryStatus.SENT)


def send_reply(*, conversation, content, metadata=None):
    """Ava's answer in an email conversation, as a reply to the customer's last email (threaded)."""
    customer = conversation.customer
    last = (EmailDetail.objects.filter(message__conversation=conversation,
                                       message__direction=Message.Direction.INBOUND)
            .order_by("-message__sent_at", "-message_id").first())
    to = (last.from_email if last else "") or (customer.email if customer else "")
    if not to:
        raise ValueError("An email conversation needs an address to answer.")
    subject = (last.subject if last else "") or "Your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    headers = {"Message-ID": new_message_id()}
    if last and last.message_id_header:
        headers["In-Reply-To"] = last.message_id_header
        headers["References"] = " ".join(filter(None, [last.references, last.message_id_header]))
    console = bool(conversation.metadata.get("console"))
    with transaction.atomic():
        message = services.add_message(conversation_id=conversation.pk, author=Message.Author.ASSISTANT,
                                       content=content, metadata=metadata)
        outbound, _ = delivery.queue(channel=Channel.EMAIL, kind=OutboundMessage.Kind.REPLY, customer=customer,
                                     to=to, subject=subject, body=content, headers=headers, message=message,
                                     idempotency_key=f"reply:{message.pk}", outbox_only=console)
        _, from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        EmailDetail.objects.create(
            message=message, message_id_header=headers["Message-ID"], subject=subject[:500], from_email=from_address,
            to=[to], in_reply_to=headers.get("In-Reply-To", ""), references=headers.get("References", ""),
            delivery_status=outbound.status, status_updated_at=outbound.created_at,
        )
    return message


# --- in -----------------------------------------------------------------------------------------

@dataclass
class Received:
    message: Message | None
    duplicate: bool = False


def receive_email(*, from_email, from_name="", to=(), cc=(), subject="", text="", message_id="", in_reply_to="",
                  references="", console=False, at=None):
    """Store one inbound email once, thread it, and ask for a reply after the commit."""
    at = at or timezone.now()
    message_id = (message_id or "").strip()
    if message_id and EmailDetail.objects.filter(provider_message_id=message_id).exists():
        return Received(message=None, duplicate=True)
    from_email = (from_email or "").strip()
    content = reply_text(text)
    try:
        with transaction.atomic():
            # An answer to one of our emails joins its conversation, whoever's address it comes from.
            earlier = conversation_for_reply_headers(in_reply_to=in_reply_to or "", references=references or "")
            if earlier is not None and earlier.customer_id is not None:
                customer = earlier.customer
            else:
                customer = services.find_or_create_customer(email=from_email, name=from_name or "")
            metadata = {"console": True} if console else {}
            if earlier is not None and not earlier.is_active:
                metadata["follows"] = str(earlier.pk)
            conversation = conversation_for_inbound(customer=customer, channel=Channel.EMAIL, at=at,
                                                    start_over=bool(START_OVER.match(content)),
                                                    metadata=metadata or None)
            message = services.add_message(conversation_id=conversation.pk, author=Message.Author.CUSTOMER,
                                           content=content, sent_at=at,
                                           metadata={"source": "console" if console else "email"})
            EmailDetail.objects.create(
                message=message, provider_message_id=message_id or None, message_id_header=message_id[:255],
                subject=(subject or "")[:500], from_email=from_email, to=list(to), cc=list(cc),
                in_reply_to=(in_reply_to or "")[:255], references=references or "",
                delivery_status=DeliveryStatus.RECEIVED, status_updated_at=at,
            )
    except IntegrityError:
        if message_id and EmailDetail.objects.filter(provider_message_id=message_id).exists():
            return Received(message=None, duplicate=True)
        raise
    announce_reply_needed(message)
    return Received(message=message)


@receiver(inbound, dispatch_uid="communications.messaging.email.on_inbound")
def on_inbound(sender, event, esp_name, **kwargs):
    """anymail's inbound signal: one email that SendGrid (or another ESP) received for the clinic."""
    email = event.message
    sender_address = email.from_email
    if sender_address is None or not sender_address.addr_spec:
        log.warning("Inbound email from %s without a sender ignored", esp_name)
        return
    if len(sender_address.addr_spec) > EMAIL_MAX_LENGTH:
        # No mail server delivers to it (RFC 5321: 254 at most), so there is no one to answer or to file it under.
        log.warning("Inbound email from %s with a %d-character sender ignored", esp_name, len(sender_address.addr_spec))
        return
    receive_email(
        from_email=sender_address.addr_spec, from_name=sender_address.display_name or "",
        to=[a.addr_spec for a in email.to], cc=[a.addr_spec for a in email.cc], subject=email.subject or "",
        text=email.text or _html_to_text(email.html or ""), message_id=email.get("Message-ID", "") or "",
        in_reply_to=next(iter(_MESSAGE_ID.findall(email.get("In-Reply-To", "") or "")), ""),
        references=" ".join(_MESSAGE_ID.findall(" ".join(email.get_all("References", [])))),
    )


def _html_to_text(html):
    from django.utils.html import strip_tags

    return strip_tags(html)
