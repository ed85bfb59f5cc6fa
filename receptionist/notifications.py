"""Confirmations and reminders: what the customer is told when an appointment is booked, moved or cancelled.

It listens to scheduling's signals (sent after the commit by scheduling.services, whatever the
channel: voice, SMS, WhatsApp, email, the staff pages or the API) and sends through communications.messaging:
by text unless the customer opted out or has no phone (on WhatsApp when that is where they last wrote
to us, within WhatsApp's 24-hour window; else SMS), and by email when they have an address.
Each notification has an idempotency key (appointment, change, and the new start of a move), so a
signal heard twice or a booking retried sends one confirmation; each move gets its own.
Reminders (beat) are keyed by the appointment and its start, so running the job twice sends
one, and a moved appointment is reminded of its new time.

The front desk is told when a phone caller leaves a message (Ava's callback task, or a recorded
message): a text to FRONT_DESK_PHONE and/or an email to FRONT_DESK_EMAIL with who called, their
number, the gist and a link to the conversation, once per message (the message's event is the key).

It lives in the receptionist because it joins scheduling and communications, which do not import
each other's workflows, and because it speaks in Ava's voice.
"""

import logging
from datetime import datetime, timedelta

from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone

from communications import messaging
from communications.messaging import delivery
from communications.models import Channel, CommunicationEvent, OutboundMessage, VoiceCallDetail
from communications.phones import display_phone
from communications.signals import conversation_ended
from scheduling.models import Appointment, ClinicSettings
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_rescheduled
from scheduling.spoken import spoken_datetime

log = logging.getLogger(__name__)

STOP_LINE = "Reply STOP to opt out."


@receiver(appointment_booked, dispatch_uid="receptionist.notifications.booked")
def on_booked(sender, appointment_id, **kwargs):
    confirm(appointment_id=appointment_id, change="booked")


@receiver(appointment_rescheduled, dispatch_uid="receptionist.notifications.rescheduled")
def on_rescheduled(sender, appointment_id, start=None, **kwargs):
    confirm(appointment_id=appointment_id, change="rescheduled", start=start)


@receiver(appointment_cancelled, dispatch_uid="receptionist.notifications.cancelled")
def on_cancelled(sender, appointment_id, **kwargs):
    confirm(appointment_id=appointment_id, change="cancelled")


def _appointment(appointment_id):
    return (Appointment.objects.select_related("customer", "service", "provider", "conversation")
            .filter(pk=appointment_id).first())


def _outbox_only(appointment):
    # Booked while a staff member played the customer in the messaging console: the number may be
    # invented, so nothing about it leaves the outbox.
    conversation = appointment.conversation
    return bool(conversation is not None and (conversation.metadata or {}).get("console"))


def confirm(*, appointment_id, change, start=None):
    """Tell the customer their appointment was booked, moved (to `start`) or cancelled, once per change.

    The key is the appointment, the change and, for a move, the new start: a signal heard twice
    sends one message, and each move sends its own. A booking or move that was cancelled before
    this ran is not confirmed (the cancellation is). Returns the OutboundMessages created.
    """
    appointment = _appointment(appointment_id)
    if appointment is None:
        return []
    if change != "cancelled" and appointment.status == Appointment.Status.CANCELLED:
        return []
    if start is not None:
        appointment.start = start  # the time it was moved to, even if it moved again since
    version = appointment.start.isoformat() if change == "rescheduled" else "0"
    clinic = ClinicSettings.load()
    sms, subject, email = confirmation_text(appointment, change=change, clinic=clinic)
    return messaging.notify(
        customer=appointment.customer, kind=OutboundMessage.Kind.CONFIRMATION,
        key=f"appointment:{appointment.pk}:{change}:{version}", sms_body=sms, email_subject=subject, email_body=email,
        outbox_only=_outbox_only(appointment), metadata={"appointment_id": appointment.pk, "change": change},
    )


def confirmation_text(appointment, *, change, clinic):
    """(sms, email subject, email body) for a change to an appointment."""
    when = spoken_datetime(appointment.local_start(clinic.tz))
    what = f"{appointment.service.name} with {appointment.provider.name}"
    if change == "booked":
        sms = f"{clinic.name}: you're booked for {what} on {when}. Reply here to change or cancel."
        subject = f"Booked: {appointment.service.name} on {when}"
        lines = [f"Your {what} is booked for {when}."]
    elif change == "rescheduled":
        sms = f"{clinic.name}: your {what} is moved to {when}. Reply here to change or cancel."
        subject = f"Moved: {appointment.service.name} to {when}"
        lines = [f"Your {appointment.service.name} is now on {when}, with {appointment.provider.name}."]
    else:
        late = (" As it was cancelled with less notice than we ask, our cancellation policy may apply."
                if appointment.late_cancellation else "")
        sms = f"{clinic.name}: your {appointment.service.name} on {when} is cancelled.{late} Reply to book again."
        subject = f"Cancelled: {appointment.service.name} on {when}"
        lines = [f"Your {appointment.service.name} on {when} is cancelled.{late}",
                 "Reply to this email if you would like to book another time."]
    if change != "cancelled":
        if clinic.address:
            lines.append(f"Where: {clinic.address.strip()}")
        if clinic.cancellation_policy:
            lines.append(clinic.cancellation_policy.strip())
        lines.append("Reply to this email to change or cancel it.")
    return f"{sms} {STOP_LINE}", subject, _email_body(appointment, clinic, lines)


def _email_body(appointment, clinic, lines):
    first = appointment.customer.name.split()[0] if appointment.customer.name else ""
    greeting = f"Hi {first}," if first else "Hello,"
    return "\n\n".join([greeting, *lines, f"Best regards,\n{clinic.assistant_name}\n{clinic.name}"])


def send_reminders(*, now=None):
    """Remind customers of scheduled appointments starting within REMINDER_HOURS_BEFORE, once each.

    An appointment booked or moved inside that window is not reminded: its confirmation is fresh.
    Returns how many notifications were created now.
    """
    now = now or timezone.now()
    lead = timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    clinic = ClinicSettings.load()
    created = 0
    upcoming = (Appointment.objects.filter(status=Appointment.Status.SCHEDULED, start__gt=now, start__lte=now + lead)
                .select_related("customer", "service", "provider", "conversation").order_by("start"))
    for appointment in upcoming:
        if appointment.start - _settled_at(appointment) < lead:
            continue
        when = spoken_datetime(appointment.local_start(clinic.tz))
        what = f"{appointment.service.name} with {appointment.provider.name}"
        sms = f"{clinic.name}: a reminder of your {what} on {when}. Reply here to change or cancel. {STOP_LINE}"
        lines = [f"A reminder of your {what} on {when}."]
        if clinic.address:
            lines.append(f"Where: {clinic.address.strip()}")
        lines.append("Reply to this email if you need to change or cancel it.")
        created += len(messaging.notify(
            customer=appointment.customer, kind=OutboundMessage.Kind.REMINDER,
            key=f"appointment:{appointment.pk}:reminder:{appointment.start.isoformat()}", sms_body=sms,
            email_subject=f"Reminder: {appointment.service.name} on {when}",
            email_body=_email_body(appointment, clinic, lines), outbox_only=_outbox_only(appointment),
            metadata={"appointment_id": appointment.pk, "change": "reminder"}, now=now,
        ))
    return created


def _settled_at(appointment):
    """When the appointment got its current time: booked, or last moved."""
    moves = appointment.metadata.get("reschedules") or []
    if moves and moves[-1].get("at"):
        try:
            return max(appointment.created_at, datetime.fromisoformat(moves[-1]["at"]))
        except ValueError:
            pass
    return appointment.created_at


# --- The front desk told of a phone message (issue 16) ----------------------------------------------

@receiver(conversation_ended, dispatch_uid="receptionist.notifications.front_desk")
def on_conversation_ended(sender, conversation_id, **kwargs):
    """A phone call that ended escalated may have left a message: the task finds out (sent after the commit)."""
    if (settings.FRONT_DESK_PHONE or settings.FRONT_DESK_EMAIL) and VoiceCallDetail.objects.filter(
            conversation_id=conversation_id, source=VoiceCallDetail.Source.PHONE, conversation__escalated=True).exists():
        _enqueue_front_desk_note(conversation_id)


def message_left(*, conversation_id):
    """A caller recorded a message (<Record>): tell the front desk once the transaction commits, without
    waiting for the call's end (its status callback may be late, or not configured)."""
    transaction.on_commit(partial(_enqueue_front_desk_note, conversation_id), robust=True)


def _enqueue_front_desk_note(conversation_id):
    from receptionist.tasks import tell_front_desk

    tell_front_desk.delay(str(conversation_id))


def phone_message(conversation_id):
    """The latest message a phone caller left on this call, or None: Ava's callback task or a recording.
    None too when the front desk took the call itself (the transfer was answered)."""
    detail = (VoiceCallDetail.objects.select_related("conversation__customer")
              .filter(conversation_id=conversation_id, source=VoiceCallDetail.Source.PHONE).first())
    if detail is None or detail.transfer_outcome == "completed":
        return None
    for event in (CommunicationEvent.objects.filter(conversation_id=conversation_id, type__in=["staff_task", "voicemail"])
                  .order_by("-at", "-id")):
        if event.type == "voicemail" or (event.data or {}).get("kind") == "callback":
            return detail, event
    return None


def front_desk_note(detail, event, *, clinic):
    """(text, email subject, email body) telling the front desk who called, their number and the gist."""
    customer = detail.conversation.customer
    who = customer.name if customer and customer.name else "a caller"
    data = event.data or {}
    number = data.get("phone") or detail.from_number
    heard = display_phone(number) if number else "number withheld"
    if event.type == "voicemail":
        seconds = data.get("duration_seconds")
        gist = f"Left a recorded message{f' ({seconds} s)' if seconds else ''}; listen to it on the conversation."
    else:
        gist = (data.get("reason") or "Asked to be called back.").strip()
    urgent = "URGENT: " if data.get("urgent") else ""
    link = (settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
            + reverse("dashboard:conversation", args=[detail.conversation_id]))
    text = f"{clinic.name}: {urgent}phone message from {who}, {heard}. {gist} {link}"
    subject = f"{urgent}Phone message from {who} ({heard})"
    body = "\n\n".join([f"{who[:1].upper()}{who[1:]} called {clinic.name} and left a message.",
                         f"Number: {heard}", f"Message: {gist}", f"The conversation: {link}"])
    return text, subject, body


def tell_front_desk(*, conversation_id):
    """Text FRONT_DESK_PHONE and email FRONT_DESK_EMAIL (where set) about the message a phone caller left,
    once per message. Returns the OutboundMessages created now."""
    found = phone_message(conversation_id)
    if found is None:
        return []
    detail, event = found
    text, subject, body = front_desk_note(detail, event, clinic=ClinicSettings.load())
    sends = []
    if settings.FRONT_DESK_PHONE:
        sends.append({"channel": Channel.SMS, "to": settings.FRONT_DESK_PHONE, "body": text, "key": "sms"})
    if settings.FRONT_DESK_EMAIL:
        sends.append({"channel": Channel.EMAIL, "to": settings.FRONT_DESK_EMAIL, "body": body, "subject": subject,
                      "key": "email"})
    created = []
    for send in sends:
        try:
            outbound, new = delivery.queue(
                channel=send["channel"], kind=OutboundMessage.Kind.FRONT_DESK, to=send["to"], body=send["body"],
                subject=send.get("subject", ""), idempotency_key=f"front-desk:{event.pk}:{send['key']}",
                metadata={"conversation_id": str(conversation_id), "event_id": event.pk})
        except delivery.OptedOut:
            log.warning("The front desk's number replied STOP: no text about conversation %s", conversation_id)
            continue
        if new:
            created.append(outbound)
    return created
