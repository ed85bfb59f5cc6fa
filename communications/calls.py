"""Phone calls' records: the voice conversation a Twilio call opens, and what Twilio reports of it later.

A phone call is a `voice` conversation whose VoiceCallDetail has source "phone" and Twilio's CallSid,
so the status callbacks (which name only the CallSid) find it. The numbers are kept in E.164.
"""

import logging
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from communications import services, usage
from communications.models import CallRecording, Channel, Conversation, Customer, VoiceCallDetail, recordings_storage
from communications.phones import normalise_phone

log = logging.getLogger(__name__)

# Twilio's CallStatus values after which nothing more happens on the call.
FINAL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def phone_number_or_blank(raw):
    """E.164, or "" for a withheld or unreadable caller id (Twilio sends "Anonymous", "+266696687", …)."""
    try:
        return normalise_phone(raw) or ""
    except ValidationError:
        return ""


def open_phone_call(*, call_sid, from_number, to_number, metadata=None):
    """The voice conversation of a Twilio call, opened once however often Twilio retries the webhook.

    A caller whose number belongs to a customer is linked to them; an unknown number creates no customer
    (that waits until the caller gives a name or books). Returns the Conversation.
    """
    existing = VoiceCallDetail.objects.filter(call_sid=call_sid).select_related("conversation").first()
    if existing:
        return existing.conversation
    caller = phone_number_or_blank(from_number)
    customer = Customer.objects.filter(phone=caller, forgotten_at=None).first() if caller else None
    try:
        with transaction.atomic():
            conversation = services.start_conversation(
                channel=Channel.VOICE, customer=customer, metadata={"call_sid": call_sid, **(metadata or {})},
                voice={"source": VoiceCallDetail.Source.PHONE, "call_sid": call_sid, "from_number": caller,
                       "to_number": phone_number_or_blank(to_number)})
    except IntegrityError:
        # The same call's webhook twice at once: the other request opened it.
        return VoiceCallDetail.objects.select_related("conversation").get(call_sid=call_sid).conversation
    return conversation


def attach_stream(*, conversation_id, call_sid, stream_sid, metadata=None):
    """The call's media stream connected: keep its StreamSid (and who holds the call) on the conversation."""
    conversation = Conversation.objects.select_related("voice", "customer").get(pk=conversation_id,
                                                                                voice__call_sid=call_sid)
    VoiceCallDetail.objects.filter(conversation=conversation).update(stream_sid=stream_sid[:64])
    if metadata:
        conversation.metadata = {**conversation.metadata, **metadata}
        conversation.save(update_fields=["metadata"])
    conversation.voice.refresh_from_db()
    return conversation


def hand_over_call(*, conversation_id):
    """Ava put the caller through to the front desk and her stream stopped: the call goes on without her, so
    the conversation stays open until the desk answers (`end_answered_transfer`), Ava takes the call back
    (`take_back_call`), or Twilio reports the call's end."""
    VoiceCallDetail.objects.filter(conversation_id=conversation_id).update(end_reason="transferred")


def end_answered_transfer(*, call_sid):
    """The front desk took the call and it is over: the conversation ends (as transferred, unless it was
    forwarded before Ava ever spoke)."""
    detail = VoiceCallDetail.objects.filter(call_sid=call_sid).first() if call_sid else None
    if detail is not None:
        services.end_conversation(conversation_id=detail.conversation_id,
                                  end_reason=detail.end_reason or "transferred")


def call_to_take_back(*, call_sid):
    """The conversation of a call Ava put through and may take back now that nobody answered, or None: still
    open, and it had Ava's media stream (a call forwarded before she spoke never comes to her)."""
    if not call_sid:
        return None
    detail = (VoiceCallDetail.objects.filter(call_sid=call_sid, conversation__status=Conversation.Status.ACTIVE)
              .exclude(stream_sid="").select_related("conversation").first())
    return detail.conversation if detail else None


def take_back_call(*, conversation_id, call_sid, stream_sid, metadata=None):
    """Ava's new media stream on a call she put through that nobody answered: the same conversation goes on
    (still open; Conversation.DoesNotExist otherwise), with the new StreamSid and a `call_taken_back` event."""
    conversation = Conversation.objects.select_related("voice", "customer").get(
        pk=conversation_id, voice__call_sid=call_sid, status=Conversation.Status.ACTIVE)
    outcome = conversation.voice.transfer_outcome
    VoiceCallDetail.objects.filter(conversation=conversation).update(stream_sid=stream_sid[:64], end_reason="")
    conversation.metadata = {**conversation.metadata, **(metadata or {}), "taken_back": True}
    conversation.save(update_fields=["metadata"])
    services.record_event(conversation_id=conversation.pk, type="call_taken_back",
                          data={"transfer_outcome": outcome, "stream_sid": stream_sid})
    conversation.voice.refresh_from_db()
    return conversation


def record_call_status(*, call_sid, status, duration=None, price=None, currency="USD", end_reason=""):
    """Twilio's status callback on a call: its final status and duration end the conversation (once), and
    its price, when Twilio reports one, is the call's telephony cost. False when the call is not ours."""
    detail = VoiceCallDetail.objects.filter(call_sid=call_sid).first() if call_sid else None
    if detail is None:
        return False
    if status in FINAL_STATUSES:
        updates = {"call_status": status}
        if str(duration or "").isdigit():
            updates["duration_seconds"] = int(duration)  # Twilio's count is what the line was open (and billed)
        with transaction.atomic():
            services.end_conversation(
                conversation_id=detail.conversation_id,
                end_reason=end_reason or detail.end_reason or f"call_{status.replace('-', '_')}",
                status=Conversation.Status.FAILED if status == "failed" else Conversation.Status.COMPLETED)
            VoiceCallDetail.objects.filter(pk=detail.pk).update(**updates)
    if price not in (None, ""):
        usage.record_provider_charge(conversation_id=detail.conversation_id, source_id=call_sid, price=price,
                                     currency=currency, model="twilio-voice",
                                     usage={"Price": price, "PriceUnit": currency, "CallDuration": duration})
    return True


def forward_call(*, conversation_id, reason, to):
    """Ava could not take the call (`reason`): it goes to the front desk `to`, or to a recorded message."""
    end_reason = "forwarded_to_front_desk" if to else "message_offered"
    services.record_event(conversation_id=conversation_id, type="call_forwarded", data={"reason": reason, "to": to})
    VoiceCallDetail.objects.filter(conversation_id=conversation_id).update(end_reason=end_reason)


def record_transfer_outcome(*, call_sid, outcome):
    """How ringing the front desk went: Twilio's DialCallStatus (completed, no-answer, busy, failed, canceled)."""
    updated = VoiceCallDetail.objects.filter(call_sid=call_sid).update(transfer_outcome=outcome[:20]) if call_sid else 0
    return bool(updated)


def record_call_message(*, call_sid, recording_url, duration=None):
    """A message the caller recorded because nobody could take the call: the conversation is escalated
    (staff call back) and keeps the recording's address. Returns the conversation's id; None when the call
    is not ours."""
    detail = VoiceCallDetail.objects.filter(call_sid=call_sid).first() if call_sid else None
    if detail is None or not recording_url:
        return None
    VoiceCallDetail.objects.filter(pk=detail.pk).update(recording_url=recording_url[:200])
    Conversation.objects.filter(pk=detail.conversation_id).update(escalated=True)
    services.record_event(conversation_id=detail.conversation_id, type="voicemail",
                          data={"recording_url": recording_url, "duration_seconds": duration})
    # Staff hear it on the conversation once the audio is ours (Twilio's URL needs the account's auth).
    from communications.tasks import store_call_message

    conversation_id = detail.conversation_id
    transaction.on_commit(lambda: store_call_message.delay(str(conversation_id), duration=duration))
    return detail.conversation_id


class MessageFetchFailed(Exception):
    """Twilio did not hand over a recorded message (yet): worth another try."""


def message_audio_url(recording_url):
    """Where the recorded message's MP3 is: Twilio's RecordingUrl + ".mp3", on TWILIO_API_BASE_URL when set
    (the tests' fake). Only a recording of this account: the URL comes from a webhook and gets our auth."""
    path = urlsplit(recording_url).path.removesuffix(".json").removesuffix(".mp3").removesuffix(".wav")
    if not path.startswith(f"/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Recordings/RE"):
        raise ValueError(f"Not a recording of this Twilio account: {recording_url!r}")
    return (settings.TWILIO_API_BASE_URL or "https://api.twilio.com").rstrip("/") + path + ".mp3"


def store_call_message(*, conversation_id, duration=None):
    """Fetch the caller's recorded message from Twilio into the recordings storage, as the conversation's
    CallRecording (audio/mpeg), so staff play it on the conversation like any call. A call that already has
    Ava's recording keeps it, and the message stays at Twilio's URL (one recording per conversation).
    Returns "stored", "kept" (nothing to do) or raises MessageFetchFailed for another try."""
    detail = VoiceCallDetail.objects.filter(conversation_id=conversation_id).first()
    if detail is None or not detail.recording_url or CallRecording.objects.filter(
            conversation_id=conversation_id).exists():
        return "kept"
    try:
        url = message_audio_url(detail.recording_url)
    except ValueError:
        log.warning("Conversation %s: its recorded message is not this account's; left at its URL", conversation_id)
        return "kept"
    try:
        response = requests.get(url, auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
                                timeout=settings.TWILIO_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise MessageFetchFailed(f"{url}: {error}") from error
    if response.status_code != 200 or not response.content:
        # Twilio answers 404 for a moment after the <Record> action while it finishes the file.
        raise MessageFetchFailed(f"{url}: HTTP {response.status_code}")
    now = timezone.now()
    recording = CallRecording(conversation_id=conversation_id, state=CallRecording.State.COMPLETE,
                              content_type="audio/mpeg", sample_rate=8000, channels=1,
                              duration_ms=int(duration) * 1000 if str(duration or "").isdigit() else None,
                              size_bytes=len(response.content), started_at=now, finished_at=now)
    # Saved through the storage itself (as the call recorder does): the field's storage is fixed at import.
    recording.file.name = recordings_storage().save(now.strftime(f"calls/%Y/%m/%d/{conversation_id}-message.mp3"),
                                                    ContentFile(response.content))
    try:
        with transaction.atomic():
            recording.save()
    except IntegrityError:  # a recording appeared meanwhile (the task ran twice): that one stays
        recordings_storage().delete(recording.file.name)
        return "kept"
    return "stored"
