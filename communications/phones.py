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


def display_phone(e164, *, region=None):
    """An E.164 number as staff read and dial it: the clinic country's national format
    ("(201) 555-0107" in the US), international for a foreign number ("+44 20 7946 0958").

    Anything that does not parse is returned unchanged, so nothing a customer gave is hidden.
    """
    if not e164:
        return e164 or ""
    if not str(e164).startswith("+"):
        return e164  # an email address, a channel-prefixed address: not ours to reformat
    region = region or settings.PHONE_DEFAULT_REGION
    try:
        parsed = phonenumbers.parse(str(e164), region)
    except phonenumbers.NumberParseException:
        return e164
    # A number no region claims (555 fictional ones) but with the clinic's country code is read as local.
    local = parsed.country_code == phonenumbers.country_code_for_region(region)
    if local and phonenumbers.region_code_for_number(parsed) in (region, None):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
