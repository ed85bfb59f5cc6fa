"""The phone number's webhooks (docs/phone.md). Each is signed like the SMS webhook: 403 unless
X-Twilio-Signature verifies against TWILIO_WEBHOOK_BASE_URL + the path (communications.webhooks).

- `voice`: a call comes in. Ava answers with <Connect><Stream> to her media-stream socket, with the
  CallSid and a short-lived token bound to it; when she cannot (no OpenAI key, too many calls at once)
  the caller hears why and is put through to the front desk, or may leave a message.
- `voice_status`: the call's status changes; the final one ends the conversation, with Twilio's duration
  and price.
- `voice_dialed`: how ringing the front desk went (<Dial action>). Answered: the call ends when they hang
  up. No answer: back to Ava on the same conversation, who takes a message; a recorded message where she
  cannot (no OpenAI key, or a call she never spoke on: forwarded at once, or OpenAI lost).
- `voice_message`: the caller's recorded message (<Record action>): the conversation is escalated.
- `voice_whisper`: what staff hear before a transferred caller is connected (<Number url>).
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from communications import calls
from communications.models import Conversation, VoiceCallDetail
from communications.webhooks import twilio_signed
from receptionist import notifications
from receptionist.call_tokens import issue_stream_token
from receptionist.phone import twiml
from receptionist.phone.transfer import whisper_line
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)
RESUME_AFTER_NO_ANSWER = "transfer_unanswered"


def _twiml(text):
    return HttpResponse(text, content_type="text/xml")


def _urls(request):
    return {"dial_action_url": twiml.public_url(request, reverse("phone:voice-dialed")),
            "message_url": twiml.public_url(request, reverse("phone:voice-message"))}


def phone_calls_in_progress():
    return VoiceCallDetail.objects.filter(source=VoiceCallDetail.Source.PHONE,
                                          conversation__status=Conversation.Status.ACTIVE).count()


@csrf_exempt
@require_POST
@twilio_signed
def voice(request):
    """A call comes in: the conversation opens now, so the status callbacks always find it."""
    data = request.POST
    call_sid = data.get("CallSid", "")
    if not call_sid:
        return HttpResponseBadRequest("CallSid is required.")
    busy = phone_calls_in_progress() >= settings.PHONE_MAX_CONCURRENT_CALLS
    engine = "openai" if settings.OPENAI_API_KEY else "none"
    conversation = calls.open_phone_call(call_sid=call_sid, from_number=data.get("From", ""),
                                         to_number=data.get("To", ""), metadata={"engine": engine})
    clinic = ClinicSettings.load().name
    if engine == "none" or busy:
        # The built-in engine understands typed turns only: on the phone Ava cannot help, a person can.
        reason = "too_many_calls" if engine != "none" else "no_assistant"
        calls.forward_call(conversation_id=conversation.pk, reason=reason, to=settings.FRONT_DESK_PHONE)
        say = (f"Thank you for calling {clinic}. Our virtual receptionist is not available right now."
               + (" Let me put you through to the front desk." if settings.FRONT_DESK_PHONE else ""))
        return _twiml(twiml.put_through(say=say, **_urls(request)))
    token = issue_stream_token(call_sid=call_sid, conversation_id=conversation.pk)
    return _twiml(twiml.connect_stream(url=twiml.stream_url(request), call_sid=call_sid, token=token))


@csrf_exempt
@require_POST
@twilio_signed
def voice_status(request):
    """Twilio's status callback for the call (set on the number: "Call status changes")."""
    data = request.POST
    known = calls.record_call_status(call_sid=data.get("CallSid", ""), status=data.get("CallStatus", ""),
                                     duration=data.get("CallDuration"), price=data.get("Price"),
                                     currency=data.get("PriceUnit") or "USD")
    if not known:
        log.info("Status callback for a call Ava does not know (%s)", data.get("CallStatus", ""))
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@twilio_signed
def voice_dialed(request):
    """The front desk was rung: answered (the call is over when they hang up) or not (take a message)."""
    data = request.POST
    call_sid, outcome = data.get("CallSid", ""), data.get("DialCallStatus", "")
    calls.record_transfer_outcome(call_sid=call_sid, outcome=outcome)
    if outcome == "completed":
        calls.end_answered_transfer(call_sid=call_sid)
        return _twiml(twiml.goodbye(""))
    conversation = calls.call_to_take_back(call_sid=call_sid) if settings.OPENAI_API_KEY else None
    if conversation is not None:
        # Back to Ava, on the same conversation: a fresh token (the first one has expired by now).
        token = issue_stream_token(call_sid=call_sid, conversation_id=conversation.pk, resume=RESUME_AFTER_NO_ANSWER)
        return _twiml(twiml.connect_stream(url=twiml.stream_url(request), call_sid=call_sid, token=token,
                                           resume=RESUME_AFTER_NO_ANSWER))
    return _twiml(twiml.take_message(say="Nobody at the front desk could take your call just now.",
                                     message_url=_urls(request)["message_url"]))


@csrf_exempt
@require_POST
@twilio_signed
def voice_message(request):
    """The caller's recorded message: kept on the conversation, which staff see as escalated."""
    data = request.POST
    conversation_id = calls.record_call_message(call_sid=data.get("CallSid", ""),
                                                recording_url=data.get("RecordingUrl", ""),
                                                duration=data.get("RecordingDuration"))
    if conversation_id:
        notifications.message_left(conversation_id=conversation_id)
    return _twiml(twiml.goodbye("Thank you. We will call you back soon. Goodbye."))


@csrf_exempt
@require_POST
@twilio_signed
def voice_whisper(request):
    """Played to the member of staff who answers a transfer, before the caller is connected."""
    conversation_id = request.GET.get("conversation", "")
    try:
        line = whisper_line(conversation_id)
    except (VoiceCallDetail.DoesNotExist, ValidationError):
        line = "A call from Ava. Connecting you now."
    return _twiml(twiml.say_only(line))
