"""The clinic's calendar days as instants: a day runs from midnight to midnight on the clinic's wall clock.

So a day is 23 or 25 hours long when daylight saving changes. In a request, the clinic's zone is
Django's current zone (ClinicTimeZoneMiddleware activates it); elsewhere pass `tz`.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone


def clinic_today():
    """Today's date on the clinic's wall clock (the current zone: the clinic's in a request)."""
    return timezone.localdate()


def day_bounds(first, last=None, tz=None):
    """[start of `first`, start of the day after `last`) as aware datetimes; `last` defaults to `first`."""
    tz = tz or timezone.get_current_timezone()
    return local_datetime(first, time.min, tz), local_datetime((last or first) + timedelta(days=1), time.min, tz)


def local_datetime(day, time_of_day, tz):
    """An aware datetime for a wall-clock time in `tz` (the first of the two on a fall-back overlap)."""
    return datetime.combine(day, time_of_day, tzinfo=tz)
