"""A clinic day runs midnight to midnight on its wall clock, 23 or 25 hours when the clocks change."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

from conventions.clinic_time import clinic_today, day_bounds, local_datetime

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def test_a_day_is_its_wall_clock_midnights():
    start, end = day_bounds(date(2027, 6, 1), tz=NEW_YORK)
    assert (start, end) == (datetime(2027, 6, 1, tzinfo=NEW_YORK), datetime(2027, 6, 2, tzinfo=NEW_YORK))


def test_the_spring_and_autumn_change_days_are_23_and_25_hours():
    def hours(day):
        start, end = day_bounds(day, tz=NEW_YORK)
        return (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1)  # elapsed, not wall-clock

    assert (hours(date(2027, 3, 14)), hours(date(2027, 6, 1)), hours(date(2027, 11, 7))) == (23, 24, 25)


def test_a_range_ends_at_the_start_of_the_day_after_its_last():
    start, end = day_bounds(date(2027, 6, 1), date(2027, 6, 7), NEW_YORK)
    assert end == datetime(2027, 6, 8, tzinfo=NEW_YORK) and end - start == timedelta(days=7)


def test_without_a_zone_the_current_one_is_the_clinics():
    with timezone.override(TOKYO):
        assert day_bounds(date(2027, 6, 1))[0] == datetime(2027, 6, 1, tzinfo=TOKYO)


def test_today_is_the_clinics_date_not_the_servers():
    with time_machine.travel(datetime(2027, 6, 1, 20, 30, tzinfo=NEW_YORK), tick=False):  # already June 2 in Tokyo
        with timezone.override(NEW_YORK):
            assert clinic_today() == date(2027, 6, 1)
        with timezone.override(TOKYO):
            assert clinic_today() == date(2027, 6, 2)


def test_a_repeated_wall_clock_time_is_its_first_occurrence():
    moment = local_datetime(date(2027, 11, 7), time(1, 30), NEW_YORK)
    assert moment.utcoffset() == timedelta(hours=-4)  # still daylight time
