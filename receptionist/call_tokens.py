"""A call is opened from the call page: a signed, short-lived token issued with the page.

It binds the call to the address that loaded the page, so a script cannot open
calls from anywhere without first asking for a page, and each token expires.
"""

from django.conf import settings
from django.core import signing

_SALT = "ava.receptionist.call-token"


def issue_call_token(*, ip):
    return signing.dumps({"ip": ip}, salt=_SALT)


def call_token_is_valid(token, *, ip):
    """True for a token this server issued to `ip` less than VOICE_CALL_TOKEN_MAX_AGE_SECONDS ago."""
    if not token:
        return False
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.VOICE_CALL_TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:  # tampered, foreign or expired
        return False
    return isinstance(data, dict) and data.get("ip") == ip


# A phone call's media stream: the voice webhook issues a token bound to Twilio's CallSid (and the
# conversation it opened), passed back in the stream's `start` message. Twilio's handshake signature is
# the first lock; this one also holds behind proxies that rewrite the upgrade request.
_STREAM_SALT = "ava.receptionist.phone-stream-token"


def issue_stream_token(*, call_sid, conversation_id, resume=""):
    """`resume` (why Ava takes the call back, or "") is signed too: a stream cannot claim to resume a call
    its token opened afresh, or the other way round."""
    return signing.dumps({"call_sid": call_sid, "conversation_id": str(conversation_id), "resume": resume},
                         salt=_STREAM_SALT)


def read_stream_token(token, *, call_sid, resume=""):
    """The conversation id a valid token names, for this CallSid and `resume` reason and issued less than
    PHONE_STREAM_TOKEN_MAX_AGE_SECONDS ago; None for anything else (tampered, foreign, expired, another call,
    another resume reason)."""
    if not token or not call_sid:
        return None
    try:
        data = signing.loads(token, salt=_STREAM_SALT, max_age=settings.PHONE_STREAM_TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("call_sid") != call_sid or data.get("resume", "") != (resume or ""):
        return None
    return data.get("conversation_id") or None
