"""The TwiML Ava answers a call with, built with twilio's own VoiceResponse (docs/phone.md)."""

from django.conf import settings
from twilio.twiml.voice_response import Connect, VoiceResponse

STREAM_PATH = "/ws/twilio/media"


def public_url(request, path):
    """The address Twilio reaches `path` at: TWILIO_WEBHOOK_BASE_URL behind a proxy, else this request's host."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def stream_url(request):
    """The media stream's wss:// address (ws:// only where the webhooks themselves are plain http)."""
    url = public_url(request, STREAM_PATH)
    return "wss://" + url.removeprefix("https://") if url.startswith("https://") else "ws://" + url.removeprefix("http://")


def connect_stream(*, url, call_sid, token, resume=""):
    """Hand the call to Ava's media-stream socket; the CallSid and its token travel as <Parameter>s
    (Twilio passes them in the stream's `start` message, never in the URL). `resume` names why Ava takes
    back a call she put through (the stream then continues its conversation)."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=url)
    stream.parameter(name="callSid", value=call_sid)
    stream.parameter(name="token", value=token)
    if resume:
        stream.parameter(name="resume", value=resume)
    response.append(connect)
    return str(response)


def put_through(*, say, dial_action_url, message_url, whisper_url=None):
    """Say why, then ring the front desk; the <Dial> action hears how it went (no answer: a message).
    With no front desk number the caller may leave a message instead."""
    response = VoiceResponse()
    if not settings.FRONT_DESK_PHONE:
        response.say(say + " " + LEAVE_A_MESSAGE)
        _record(response, message_url)
        return str(response)
    response.say(say)
    dial = response.dial(action=dial_action_url, timeout=settings.PHONE_TRANSFER_RING_SECONDS)
    dial.number(settings.FRONT_DESK_PHONE, **({"url": whisper_url} if whisper_url else {}))
    return str(response)


LEAVE_A_MESSAGE = "Please leave your name, your number and a short message after the tone, and we will call you back."


def take_message(*, say, message_url):
    response = VoiceResponse()
    response.say(say + " " + LEAVE_A_MESSAGE)
    _record(response, message_url)
    return str(response)


def _record(response, message_url):
    # <Record> without an action would fetch the call's webhook again (and record again): it goes to the
    # message URL, which keeps the message and says goodbye. A caller who says nothing hangs up the same way.
    response.record(action=message_url, max_length=settings.PHONE_MESSAGE_MAX_SECONDS, play_beep=True, timeout=5)
    response.say("We did not get a message. Goodbye.")
    response.hangup()


def goodbye(say):
    response = VoiceResponse()
    if say:
        response.say(say)
    response.hangup()
    return str(response)


def say_only(line):
    response = VoiceResponse()
    response.say(line)
    return str(response)
