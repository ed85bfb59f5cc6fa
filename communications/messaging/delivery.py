"""Queueing and sending OutboundMessages, and keeping their delivery status.

`queue` stores a row and, when a provider is configured, enqueues `communications.tasks.deliver_outbound`
after the commit; with none it stays in the outbox. `deliver` claims the row with a conditional
update (two workers never send one message twice), checks the opt-out again, sends through the
channel's module, and records what the provider said. Provider status callbacks land in
`record_status`, which never moves a status backwards (a late "sent" after "delivered").
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from communications import live
from communications.models import (
    TWILIO_CHANNELS,
    Channel,
    Customer,
    DeliveryStatus,
    EmailDetail,
    OutboundMessage,
    SmsDetail,
)

log = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-send; the row may be taken again.
CLAIM_TIMEOUT = timedelta(minutes=10)
# How far along a status is: a callback may move a message forward, never back.
_RANK = {DeliveryStatus.OUTBOX: 0, DeliveryStatus.QUEUED: 1, DeliveryStatus.SENT: 2, DeliveryStatus.DELIVERED: 3,
         DeliveryStatus.UNDELIVERED: 3, DeliveryStatus.FAILED: 3, DeliveryStatus.RECEIVED: 3}


class DeliveryError(Exception):
    """A send that did not happen. `passing` errors (network, 429, 5xx) are worth another try."""

    def __init__(self, message, *, code="", passing=False, retry_after=None):
        super().__init__(message)
        self.code, self.passing, self.retry_after = str(code or ""), passing, retry_after


@dataclass
class Sent:
    provider_message_id: str | None
    status: str  # a DeliveryStatus


@dataclass
class DeliveryResult:
    status: str  # sent, failed, retry, opted_out, or why there was nothing to do
    error: DeliveryError | None = None


def provider_configured(channel):
    if channel in TWILIO_CHANNELS:
        return settings.SMS_DELIVERY == "twilio"
    return settings.EMAIL_DELIVERY == "send"


def sms_opted_out(phone):
    """True when the customer with this number replied STOP by SMS (and has not replied START since)."""
    return opted_out(Channel.SMS, phone)


def opted_out(channel, phone):
    """True when the customer with this number replied STOP on this channel (SMS or WhatsApp); never for email."""
    if channel not in TWILIO_CHANNELS or not phone:
        return False
    field = "whatsapp_opted_out" if channel == Channel.WHATSAPP else "sms_opted_out"
    return Customer.objects.filter(phone=phone, **{field: True}).exists()


def queue(*, channel, kind, to, body, customer=None, subject="", headers=None, message=None, idempotency_key=None,
          outbox_only=False, metadata=None):
    """Store one outbound text or email and send it after the commit (or keep it in the outbox).

    Returns (outbound, created): with an `idempotency_key` used before, the first row and False.
    Raises OptedOut for a text to a number that replied STOP.
    """
    if opted_out(channel, to):
        raise OptedOut(to)
    status = DeliveryStatus.QUEUED if provider_configured(channel) and not outbox_only else DeliveryStatus.OUTBOX
    now = timezone.now()
    try:
        with transaction.atomic():
            outbound = OutboundMessage.objects.create(
                channel=channel, kind=kind, customer=customer, to=to, subject=subject, body=body,
                headers=headers or {}, message=message, idempotency_key=idempotency_key, status=status,
                created_at=now, status_updated_at=now, metadata=metadata or {},
            )
    except IntegrityError:
        existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if existing is None:
            raise
        return existing, False
    live.publish_outbound(outbound, created=True)
    if status == DeliveryStatus.QUEUED:
        transaction.on_commit(lambda: _enqueue(outbound.pk), robust=True)
    return outbound, True


class OptedOut(Exception):
    """The number replied STOP on this channel: nothing is sent to it there."""


def _enqueue(outbound_id):
    from communications.tasks import deliver_outbound

    deliver_outbound.delay(outbound_id)


def deliver(*, outbound_id, final_try=False):
    """Send one queued OutboundMessage through its provider. Safe to call twice: one send."""
    now = timezone.now()
    claimed = (
        OutboundMessage.objects.filter(pk=outbound_id, status=DeliveryStatus.QUEUED, provider_message_id=None)
        .filter(Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return DeliveryResult("nothing_to_do")
    outbound = OutboundMessage.objects.get(pk=outbound_id)
    if opted_out(outbound.channel, outbound.to):
        # They replied STOP after this was queued: it is not sent.
        _finish(outbound, status=DeliveryStatus.FAILED, error_code="opted_out",
                error_message=f"The customer opted out of {outbound.get_channel_display()} before this was sent.")
        return DeliveryResult("opted_out")
    try:
        sent = _send(outbound)
    except DeliveryError as error:
        if error.passing and not final_try:
            OutboundMessage.objects.filter(pk=outbound.pk).update(
                claimed_at=None, error_code=error.code[:40], error_message=str(error)[:2000])
            live.publish_outbound(outbound)
            return DeliveryResult("retry", error)
        _finish(outbound, status=DeliveryStatus.FAILED, error_code=error.code, error_message=str(error))
        return DeliveryResult("failed", error)
    _finish(outbound, status=sent.status, provider_message_id=sent.provider_message_id, sent=True)
    return DeliveryResult("sent")


def _send(outbound):
    from communications.messaging import email, sms

    if outbound.channel in TWILIO_CHANNELS:
        return sms.send(outbound)
    return email.send(outbound)


def _finish(outbound, *, status, provider_message_id=None, error_code="", error_message="", sent=False):
    now = timezone.now()
    fields = {"status": status, "status_updated_at": now, "claimed_at": None, "error_code": error_code[:40],
              "error_message": error_message[:2000]}
    if provider_message_id:
        fields["provider_message_id"] = provider_message_id
    if sent:
        fields["sent_at"] = now
    OutboundMessage.objects.filter(pk=outbound.pk).update(**fields)
    live.publish_outbound(outbound)
    if outbound.message_id:
        detail_fields = {"delivery_status": status, "status_updated_at": now}
        if provider_message_id:
            detail_fields["provider_message_id"] = provider_message_id
        if sent:
            detail_fields["sent_at"] = now
        if outbound.channel in TWILIO_CHANNELS:
            SmsDetail.objects.filter(message_id=outbound.message_id).update(
                **detail_fields, error_code=error_code[:20], error_message=error_message[:2000])
        else:
            EmailDetail.objects.filter(message_id=outbound.message_id).update(
                **detail_fields, error_message=error_message[:2000])


def record_status(*, provider_message_id, status, error_code="", error_message="", at=None):
    """A provider's report on a message it took (Twilio's status callback). Returns True when it was ours.

    A status never moves backwards, so callbacks that arrive out of order change nothing.
    """
    at = at or timezone.now()
    with transaction.atomic():
        outbound = OutboundMessage.objects.select_for_update().filter(provider_message_id=provider_message_id).first()
        detail = SmsDetail.objects.select_for_update().filter(provider_message_id=provider_message_id).first()
        if outbound is None and detail is None:
            return False
        for row, status_field in ((outbound, "status"), (detail, "delivery_status")):
            if row is None:
                continue
            if _RANK.get(status, 0) < _RANK.get(getattr(row, status_field), 0):
                continue
            setattr(row, status_field, status)
            row.status_updated_at = at
            changed = [status_field, "status_updated_at"]
            if status == DeliveryStatus.SENT and row.sent_at is None:
                row.sent_at = at
                changed.append("sent_at")
            if status == DeliveryStatus.DELIVERED:
                row.delivered_at = at
                changed.append("delivered_at")
            if error_code or error_message:
                row.error_code = str(error_code)[:20]
                row.error_message = error_message[:2000]
                changed += ["error_code", "error_message"]
            row.save(update_fields=changed)
            if row is outbound:
                live.publish_outbound(outbound)
    return True
