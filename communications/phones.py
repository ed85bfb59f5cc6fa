"""Phone numbers in one form: E.164 ("+12125550123")."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalise_phone(raw, *, region=None):
    """Return `raw` as E.164, None when blank; ValidationError when it is no phone number."""
    if raw is None or not str(raw).strip():
        return None
    try:
        parsed = phonenumbers.parse(str(raw), region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"“{raw}” is not a phone number.", code="invalid_phone") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(f"“{raw}” is not a phone number.", code="invalid_phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
