"""Logs never carry a customer's phone number or email address in full."""

import logging
import re

EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})@([\w-]+(?:\.[\w-]+)+)")
# A phone number: 10 to 15 digits with the usual separators, not part of a longer token (a UUID, an id).
PHONE = re.compile(r"(?<![\w-])\+?\(?\d[\d\s().-]{8,20}\d(?![\w-])")


def _mask_phone(match):
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not 10 <= len(digits) <= 15:
        return text
    return ("+" if text.startswith("+") else "") + "•" * (len(digits) - 2) + digits[-2:]


def _mask_email(match):
    local, domain = match.group(1), match.group(2)
    return f"{local[:1]}•••@{domain}"


def mask_personal_data(text):
    """`text` with phone numbers and email addresses masked (the last two digits and the domain kept)."""
    return PHONE.sub(_mask_phone, EMAIL.sub(_mask_email, text))


class MaskingFormatter(logging.Formatter):
    """Masks the message and any traceback; the time, level and logger name are left as they are."""

    def formatMessage(self, record):
        record.message = mask_personal_data(record.message)
        return super().formatMessage(record)

    def formatException(self, ei):
        return mask_personal_data(super().formatException(ei))
