"""The one way times and days are said: what a caller hears and a customer reads."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from scheduling.spoken import clock_time, spoken_datetime, spoken_day, spoken_time

NY = ZoneInfo("America/New_York")


def test_a_time_on_the_hour_is_said_without_minutes():
    assert spoken_time(time(14)) == "2 PM"
    assert spoken_time(time(9)) == "9 AM"


def test_a_time_past_the_hour_keeps_its_minutes():
    assert spoken_time(time(14, 30)) == "2:30 PM"
    assert spoken_time(time(9, 5)) == "9:05 AM"
    assert spoken_time(time(14, 30), meridiem=False) == "2:30"


def test_midnight_and_noon_are_twelve():
    assert spoken_time(time(0)) == "12 AM"
    assert spoken_time(time(12, 15)) == "12:15 PM"
    assert clock_time(time(0)) == "12:00 AM"


def test_a_clock_time_always_shows_its_minutes():
    assert clock_time(time(9)) == "9:00 AM"
    assert clock_time(time(19, 30)) == "7:30 PM"


def test_a_moment_is_said_with_its_weekday_and_date():
    assert spoken_datetime(datetime(2026, 12, 1, 14, tzinfo=NY)) == "Tuesday, December 1 at 2 PM"
    assert spoken_datetime(datetime(2026, 12, 1, 9, 45, tzinfo=NY)) == "Tuesday, December 1 at 9:45 AM"


def test_today_and_tomorrow_are_said_as_such():
    today = date(2026, 11, 30)
    assert spoken_day(today, today) == "today"
    assert spoken_day(date(2026, 12, 1), today) == "tomorrow"
    assert spoken_day(date(2026, 12, 2), today) == "Wednesday, December 2"
