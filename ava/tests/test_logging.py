"""Logs mask phone numbers and email addresses, and leave everything else readable."""

import logging
import uuid

from ava.logging import MaskingFormatter, mask_personal_data


def test_it_masks_phone_numbers_in_any_spelling():
    assert mask_personal_data("SMS from +12125550142 received") == "SMS from +•••••••••42 received"
    assert mask_personal_data("call me at (212) 555-0142") == "call me at ••••••••42"


def test_it_masks_email_addresses_but_keeps_the_domain():
    assert mask_personal_data("reply to Dana.Reyes@example.com failed") == "reply to D•••@example.com failed"


def test_it_leaves_ids_dates_and_times_alone():
    conversation = str(uuid.UUID("12345678-1234-5678-1234-567812345678"))
    text = f"conversation {conversation} on 2026-11-26 at 14:30, 42 frames, appointment 1234567"
    assert mask_personal_data(text) == text


def test_the_log_formatter_masks_messages_and_tracebacks():
    formatter = MaskingFormatter("%(levelname)s %(message)s")
    try:
        raise ValueError("no customer with phone +13055550100")
    except ValueError:
        import sys

        record = logging.LogRecord("ava", logging.ERROR, __file__, 1, "booking for %s failed", ("dana@example.com",), sys.exc_info())
    line = formatter.format(record)
    assert "dana@example.com" not in line and "d•••@example.com" in line
    assert "+13055550100" not in line and "+•••••••••00" in line


def test_ava_s_own_log_output_is_masked(capsys, settings):
    import logging.config

    # Configure logging as Django does at start, with stderr captured by the test.
    logging.config.dictConfig(settings.LOGGING)
    logging.getLogger("communications").warning("SMS from %s could not be delivered", "+12125550142")
    assert "+•••••••••42" in capsys.readouterr().err
