"""One reader for every date and time a tool takes: what the tools hand out is always taken back.

check_availability lists openings as ISO datetimes in the clinic's zone (`2026-12-01T09:00-05:00`), and a
model passes them back wherever it likes: as a date, a time or a start. So each reader takes, besides its
own plain form (`2026-12-01`, `14:30`, `2:30 PM`), any ISO datetime, read on the clinic's clock. What it
cannot read is refused with the forms it expected, so the model can correct itself in one step.
"""

import re
from datetime import date, datetime, time

from receptionist.tools.registry import ToolRefusal
from scheduling.availability import SANE_YEARS

EXAMPLE_START = "2026-12-01T09:00-05:00"
_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK_24H = re.compile(r"(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?")
_CLOCK_12H = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\.?", re.I)
_DATE_AND_CLOCK = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\s*(.+)")


def read_date(value, *, field, tz):
    """The clinic date meant by `value`: YYYY-MM-DD, or the date of an ISO datetime on the clinic's clock."""
    text = _text(value)
    if text and _PLAIN_DATE.fullmatch(text):
        day = _plain_date(text)
        if day is not None:
            return _sane(day, value, field)
    moment = _moment(text, tz)
    if moment is not None:
        return _sane(moment, value, field).date()
    raise ToolRefusal(f"“{value}” is not a date; use YYYY-MM-DD, or a start from check_availability "
                      f"such as {EXAMPLE_START}.", code="invalid_date", field=field)


def read_time(value, *, field, tz):
    """The clinic wall-clock time meant by `value`: HH:MM (24h), 2:30 PM, or the time of an ISO datetime."""
    text = _text(value)
    clock = _clock(text) if text else None
    if clock is not None:
        return clock
    moment = _moment(text, tz)
    if moment is not None:
        return _sane(moment, value, field).time().replace(second=0, microsecond=0)
    raise ToolRefusal(f"“{value}” is not a time; use HH:MM on a 24-hour clock (such as 14:30), or a start from "
                      f"check_availability such as {EXAMPLE_START}.", code="invalid_time", field=field)


def read_start(value, *, field, tz):
    """The moment meant by `value`: an ISO datetime (no offset: the clinic's wall clock), or a date and a time."""
    text = _text(value)
    moment = _moment(text, tz)
    if moment is None and text:
        parts = _DATE_AND_CLOCK.fullmatch(text)  # "2026-12-01 2:30 PM"
        day, clock = (_plain_date(parts.group(1)), _clock(parts.group(2))) if parts else (None, None)
        if day is not None and clock is not None:
            moment = datetime.combine(day, clock, tzinfo=tz)
    if moment is not None:
        # The model speaks in the clinic's wall-clock time; an offset it adds is honoured.
        return _sane(moment if moment.tzinfo else moment.replace(tzinfo=tz), value, field)
    hint = " is a date without a time" if text and _plain_date(text) else " is not a date and time"
    raise ToolRefusal(f"“{value}”{hint}; use YYYY-MM-DDTHH:MM in the clinic's time, or a start exactly as "
                      f"check_availability lists it, such as {EXAMPLE_START}.", code="invalid_start", field=field)


def date_in(value, *, tz):
    """The clinic date an ISO datetime carries, or None (a plain time carries none)."""
    moment = _moment(_text(value), tz)
    return moment.date() if moment is not None and SANE_YEARS[0] <= moment.year <= SANE_YEARS[1] else None


# --- helpers -----------------------------------------------------------------------------------------

def _text(value):
    return value.strip() if isinstance(value, str) else ""


def _plain_date(text):
    try:
        return date.fromisoformat(text) if _PLAIN_DATE.fullmatch(text) else None
    except ValueError:
        return None


def _moment(text, tz):
    """An ISO datetime with a time part, on the clinic's clock when it has an offset; naive stays naive."""
    if not text or _PLAIN_DATE.fullmatch(text) or not _DATE_AND_CLOCK.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(tz)
        except (OverflowError, ValueError):  # year 1 at -05:00
            return None
    return moment


def _clock(text):
    for pattern, twelve_hour in ((_CLOCK_24H, False), (_CLOCK_12H, True)):
        match = pattern.fullmatch(text)
        if not match:
            continue
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if twelve_hour:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
        return time(hour, minute) if hour < 24 and minute < 60 else None
    return None


def _sane(moment, value, field):
    if not SANE_YEARS[0] <= moment.year <= SANE_YEARS[1]:
        raise ToolRefusal(f"“{value}” is not in a year we can book.", code="invalid_date", field=field)
    return moment
