"""How the clinic says its times and days, in one place: to callers, in texts and emails, on pages.

    spoken_time(2:30 PM) -> "2:30 PM"      spoken_time(2 PM) -> "2 PM"      (what Ava says)
    clock_time(2 PM)     -> "2:00 PM"                                        (opening hours, listings)
    spoken_datetime(...) -> "Tuesday, December 1 at 2 PM"
    spoken_day(day, today) -> "today", "tomorrow" or "Tuesday, December 1"

Written by hand rather than with strftime's "%-I", which is glibc's and not Python's (Windows and
some libcs reject it). Times are taken as they come: convert to the clinic's zone first.
"""

from datetime import timedelta


def _meridiem(moment):
    return "AM" if moment.hour < 12 else "PM"


def spoken_time(moment, *, meridiem=True):
    """'2 PM', '2:30 PM' (or '2', '2:30' without the meridiem) from a datetime or a time."""
    hour = moment.hour % 12 or 12
    text = f"{hour}:{moment.minute:02d}" if moment.minute else f"{hour}"
    return f"{text} {_meridiem(moment)}" if meridiem else text


def clock_time(moment):
    """'2:00 PM', '9:30 AM': a time as a clock or a timetable shows it."""
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {_meridiem(moment)}"


def spoken_date(day):
    """'Tuesday, December 1' from a date or a datetime."""
    return f"{day:%A, %B} {day.day}"


def spoken_datetime(moment):
    """'Tuesday, December 1 at 2 PM', as the assistant's tools and messages say a time."""
    return f"{spoken_date(moment)} at {spoken_time(moment)}"


def spoken_day(day, today):
    """'today', 'tomorrow', else 'Tuesday, December 1'."""
    if day == today:
        return "today"
    if day == today + timedelta(days=1):
        return "tomorrow"
    return spoken_date(day)
