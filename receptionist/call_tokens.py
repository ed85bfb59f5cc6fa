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
