"""The availability engine: what a caller would be offered, and what they must never be offered."""

from datetime import date, datetime, timedelta, timezone

import pytest

from scheduling.availability import check_slot, find_availability, nearest_openings
from scheduling.exceptions import BookingRefused
from scheduling.models import Appointment
from scheduling.tests.conftest import NY, at
from scheduling.tests.factories import (
    EVERY_DAY,
    AppointmentFactory,
    ClosureFactory,
    ProviderFactory,
    ServiceFactory,
    TimeOffFactory,
    open_clinic,
)

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 3, 2)
SUNDAY_BEFORE = at(2026, 3, 1, 8)  # "now" for most tests: the Sunday before, early morning


def local_times(openings):
    return [o.start.astimezone(NY).strftime("%H:%M") for o in openings]


@pytest.fixture
def facial(clinic):
    return ServiceFactory(name="HydraFacial", slug="hydrafacial", duration_minutes=60)


@pytest.fixture
def dana(facial):
    return ProviderFactory(name="Dana Lee", services=[facial])


def test_it_offers_every_quarter_hour_that_fits_the_day(facial, dana):
    result = find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE)

    times = local_times(result.openings)
    assert times[0] == "09:00" and times[1] == "09:15"
    assert times[-1] == "16:00"  # a 60-minute treatment must end by 17:00
    assert len(times) == 29
    assert all(o.provider == dana for o in result.openings)
    assert result.openings[0].end - result.openings[0].start == timedelta(minutes=60)


def test_the_slot_interval_is_a_setting(settings, facial, dana):
    settings.SCHEDULING_SLOT_INTERVAL_MINUTES = 30

    times = local_times(find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).openings)

    assert times[:3] == ["09:00", "09:30", "10:00"] and times[-1] == "16:00"


def test_it_only_offers_providers_who_perform_the_service(facial, dana):
    ProviderFactory(name="Sam Ortiz", services=[ServiceFactory(name="Botox", slug="botox")])

    result = find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE)

    assert {o.provider.name for o in result.openings} == {"Dana Lee"}


def test_a_provider_who_does_not_perform_the_service_has_no_openings_and_says_why(facial, dana):
    sam = ProviderFactory(name="Sam Ortiz")

    result = find_availability(service=facial, date=MONDAY, provider=sam, now=SUNDAY_BEFORE)

    assert result.openings == []
    assert result.summary == "Sam Ortiz does not perform HydraFacial."
    assert check_slot(service=facial, provider=dana, start=at(2026, 3, 2, 10), now=SUNDAY_BEFORE) is None


def test_inactive_providers_are_not_offered(facial, dana):
    dana.is_active = False
    dana.save()

    assert find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).openings == []


def test_the_buffer_keeps_the_provider_after_each_appointment(clinic):
    peel = ServiceFactory(name="Peel", slug="peel", duration_minutes=60, buffer_minutes=15)
    dana = ProviderFactory(name="Dana Lee", services=[peel])
    AppointmentFactory(service=peel, provider=dana, start=at(2026, 3, 2, 10))  # holds 10:00-11:15

    times = local_times(find_availability(service=peel, date=MONDAY, now=SUNDAY_BEFORE).openings)

    # 9:00 would run (with its buffer) to 10:15, into the booked 10:00; the next start is 11:15.
    assert "09:00" not in times and "10:45" not in times and "11:00" not in times
    assert times[0] == "11:15"
    # The last start leaves room for the treatment and its buffer before 17:00.
    assert times[-1] == "15:45"


def test_cancelled_appointments_free_their_time(facial, dana):
    AppointmentFactory(service=facial, provider=dana, start=at(2026, 3, 2, 9), status=Appointment.Status.CANCELLED)
    AppointmentFactory(service=facial, provider=dana, start=at(2026, 3, 2, 12))

    times = local_times(find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).openings)

    assert "09:00" in times
    assert not {"11:15", "11:30", "11:45", "12:00", "12:45"} & set(times)
    assert "13:00" in times


def test_a_closure_closes_the_day_and_points_to_the_nearest_days(facial, dana):
    ClosureFactory(date=MONDAY, reason="Staff training")

    result = find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE)

    assert result.openings == []
    # Dana works weekdays only: Friday before is in the past, so Tuesday, Wednesday, Thursday follow.
    assert result.nearest_days == [date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)]
    assert result.summary.startswith("There are no openings for HydraFacial tomorrow.")
    assert "The nearest: Tuesday, March 3 at 9 AM, Wednesday, March 4 at 9 AM and Thursday, March 5 at 9 AM with " \
           "Dana Lee." in result.summary


def test_business_hours_and_the_providers_week_both_apply(clinic, facial):
    open_clinic(hours=[(0, "10:00", "14:00")])
    ProviderFactory(name="Dana Lee", services=[facial], weekly_hours=[(0, "12:00", "18:00"), (1, "09:00", "17:00")])

    monday = local_times(find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).openings)
    tuesday = find_availability(service=facial, date=MONDAY + timedelta(days=1), now=SUNDAY_BEFORE)

    assert monday == ["12:00", "12:15", "12:30", "12:45", "13:00"]
    assert tuesday.openings == []  # the clinic is closed on Tuesdays (no hours)


def test_time_off_is_not_offered(facial, dana):
    TimeOffFactory(provider=dana, starts_at=at(2026, 3, 2, 12), ends_at=at(2026, 3, 2, 14))

    times = local_times(find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).openings)

    assert "11:00" in times and "11:15" not in times and "13:45" not in times and "14:00" in times
    assert check_slot(service=facial, provider=dana, start=at(2026, 3, 2, 12), now=SUNDAY_BEFORE) == "provider_unavailable"


def test_minimum_notice_is_counted_from_now_on_the_grid(facial, dana):
    now = at(2026, 3, 2, 10, 5)  # notice is 120 minutes

    result = find_availability(service=facial, date=MONDAY, now=now)

    assert local_times(result.openings)[0] == "12:15"
    assert check_slot(service=facial, provider=dana, start=at(2026, 3, 2, 12), now=now) == "too_soon"
    assert check_slot(service=facial, provider=dana, start=at(2026, 3, 2, 9), now=now) == "in_the_past"


def test_nothing_is_offered_beyond_the_horizon(clinic, facial, dana):
    clinic.booking_horizon_days = 7
    clinic.save()
    now = at(2026, 3, 2, 8)

    inside = find_availability(service=facial, date=date(2026, 3, 6), now=now)
    beyond = find_availability(service=facial, date=date(2026, 3, 10), now=now)

    assert len(inside.openings) == 29
    assert beyond.openings == []
    assert beyond.nearest_days == [date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 6)]
    assert check_slot(service=facial, provider=dana, start=at(2026, 3, 10, 10), now=now) == "beyond_horizon"


def test_the_horizon_ends_at_the_same_time_of_day_it_is_now(clinic, facial, dana):
    clinic.booking_horizon_days = 7
    clinic.save()

    result = find_availability(service=facial, date=date(2026, 3, 9), now=at(2026, 3, 2, 10, 30))

    assert local_times(result.openings) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]


def test_part_of_day_narrows_the_openings(facial, dana):
    result = find_availability(service=facial, date=MONDAY, part_of_day="afternoon", now=SUNDAY_BEFORE)
    evening = find_availability(service=facial, date=MONDAY, part_of_day="evening", now=SUNDAY_BEFORE)

    assert local_times(result.openings)[0] == "12:00" and local_times(result.openings)[-1] == "16:00"
    assert result.summary.startswith("HydraFacial in the afternoon: tomorrow: afternoon from 12 to 4 PM.")
    assert evening.openings == [] and evening.nearest_days == []
    assert evening.summary == (
        "There are no openings for HydraFacial tomorrow in the evening. Nothing is open in the evening in the next 90 days."
    )


def test_the_summary_names_the_windows_and_the_first_openings(facial, dana):
    ProviderFactory(name="Alex Kim", services=[facial])
    AppointmentFactory(service=facial, provider=dana, start=at(2026, 3, 2, 10))
    AppointmentFactory(service=facial, provider=dana, start=at(2026, 3, 2, 13))

    result = find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE)

    assert result.summary == (
        "HydraFacial: tomorrow: morning from 9 to 11:45 AM; afternoon from 12 to 4 PM. "
        "The first: tomorrow at 9 AM with Alex Kim or Dana Lee; tomorrow at 9:15 AM and 9:30 AM with Alex Kim."
    )
    assert set(result.by_provider) == {dana, result.openings[0].provider}
    assert len(result.by_provider[dana]) == 29 - 7 - 7


def test_it_answers_a_range_and_defaults_to_the_coming_week(facial, dana):
    week = find_availability(service=facial, now=SUNDAY_BEFORE)

    assert {o.start.date() for o in week.openings} == {date(2026, 3, d) for d in range(2, 7)}
    assert week.start_date == date(2026, 3, 1) and week.end_date == date(2026, 3, 7)
    assert "More openings through Friday, March 6." in week.summary


def test_to_dict_is_json_safe_with_times_in_the_clinics_zone(facial, dana):
    import json

    data = find_availability(service=facial, date=MONDAY, now=SUNDAY_BEFORE).to_dict(limit=2)

    json.dumps(data)
    assert data["openings"] == [
        {"provider": {"id": dana.pk, "name": "Dana Lee"}, "start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T10:00:00-05:00"},
        {"provider": {"id": dana.pk, "name": "Dana Lee"}, "start": "2026-03-02T09:15:00-05:00", "end": "2026-03-02T10:15:00-05:00"},
    ]
    assert data["openings_total"] == 29 and data["time_zone"] == "America/New_York"


def test_naive_datetimes_are_refused(facial, dana):
    with pytest.raises(BookingRefused) as refused:
        find_availability(service=facial, date=MONDAY, now=datetime(2026, 3, 1, 8))
    assert refused.value.code == "naive_datetime"


def test_nearest_openings_are_the_closest_to_the_asked_time(facial, dana):
    AppointmentFactory(service=facial, provider=dana, start=at(2026, 3, 2, 11))

    nearest = nearest_openings(service=facial, around=at(2026, 3, 2, 11), now=SUNDAY_BEFORE)

    assert local_times(nearest) == ["09:45", "10:00", "12:00"]


# --- daylight saving time (America/New_York: 2026-03-08 spring forward, 2026-11-01 fall back) ---

@pytest.fixture
def night_clinic(clinic, facial):
    """Open 00:00-04:00 on Sundays, so the hours cross the 2 AM change."""
    open_clinic(hours=[(6, "00:00", "04:00")])
    return ProviderFactory(name="Dana Lee", services=[facial], weekly_hours=[(6, "00:00", "04:00")])


def test_spring_forward_keeps_the_wall_clock_of_the_day(facial):
    ProviderFactory(name="Dana Lee", services=[facial], weekly_hours=EVERY_DAY)
    before = find_availability(service=facial, date=date(2026, 3, 7), now=SUNDAY_BEFORE).openings
    after = find_availability(service=facial, date=date(2026, 3, 8), now=SUNDAY_BEFORE).openings

    assert before[0].start.isoformat() == "2026-03-07T09:00:00-05:00"
    assert after[0].start.isoformat() == "2026-03-08T09:00:00-04:00"
    assert after[0].start.astimezone(timezone.utc).hour == 13  # an hour earlier in UTC than the day before
    assert local_times(before) == local_times(after)


def test_spring_forward_night_has_three_real_hours_and_no_two_oclock(facial, night_clinic):
    openings = find_availability(service=facial, date=date(2026, 3, 8), now=SUNDAY_BEFORE).openings

    assert local_times(openings) == ["00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30", "01:45", "03:00"]
    # 1:45 EST to 3:00 EDT is fifteen real minutes: the grid is real time.
    assert openings[-1].start.timestamp() - openings[-2].start.timestamp() == 15 * 60
    assert openings[-2].end.isoformat() == "2026-03-08T03:45:00-04:00"  # 60 real minutes after 1:45 EST


def test_hours_starting_at_a_skipped_time_start_when_the_clock_jumps(facial, clinic):
    open_clinic(hours=[(6, "00:00", "06:00")])
    ProviderFactory(name="Dana Lee", services=[facial], weekly_hours=[(6, "02:30", "05:00")])

    openings = find_availability(service=facial, date=date(2026, 3, 8), now=SUNDAY_BEFORE).openings

    assert openings[0].start.isoformat() == "2026-03-08T03:00:00-04:00"
    assert local_times(openings)[-1] == "04:00"


def test_fall_back_night_has_five_real_hours_and_one_oclock_twice(facial, night_clinic):
    openings = find_availability(service=facial, date=date(2026, 11, 1), now=at(2026, 10, 25, 8)).openings

    assert len(openings) == 17  # 04:00Z to 09:00Z, last start an hour before the end
    one_thirty = [o.start for o in openings if o.start.strftime("%H:%M") == "01:30"]
    assert [s.utcoffset() for s in one_thirty] == [timedelta(hours=-4), timedelta(hours=-5)]
    assert openings[-1].start.isoformat() == "2026-11-01T03:00:00-05:00"


def test_fall_back_day_keeps_the_wall_clock_of_the_day(facial):
    ProviderFactory(name="Dana Lee", services=[facial], weekly_hours=EVERY_DAY)
    now = at(2026, 10, 25, 8)

    sunday = find_availability(service=facial, date=date(2026, 11, 1), now=now).openings

    assert sunday[0].start.isoformat() == "2026-11-01T09:00:00-05:00"
    assert local_times(sunday)[-1] == "16:00" and len(sunday) == 29


def test_an_appointment_across_the_change_blocks_exactly_its_real_time(facial, night_clinic):
    # 1:30 EST (06:30Z) to 2:30 EST is the second 1:30; the first 1:30 (EDT) stays open.
    AppointmentFactory(service=facial, provider=night_clinic, start=datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc))

    openings = find_availability(service=facial, date=date(2026, 11, 1), now=at(2026, 10, 25, 8)).openings

    starts_utc = {o.start.astimezone(timezone.utc).strftime("%H:%M") for o in openings}
    assert "05:30" in starts_utc  # the first 1:30 (EDT) ends at 06:30Z, just as the booking starts
    assert not {"05:45", "06:00", "06:30", "07:15"} & starts_utc
    assert "07:30" in starts_utc


def test_a_fortnight_for_every_provider_costs_a_fixed_handful_of_queries(facial, dana, django_assert_max_num_queries):
    for name in ("Alex Kim", "Sam Ortiz"):
        provider = ProviderFactory(name=name, services=[facial])
        for day in range(2, 14):
            AppointmentFactory(service=facial, provider=provider, start=at(2026, 3, day, 11))
    ClosureFactory(date=date(2026, 3, 10))
    TimeOffFactory(provider=dana, starts_at=at(2026, 3, 3, 9), ends_at=at(2026, 3, 3, 17))

    # clinic, providers, hours, schedules, closures, time off, appointments: none per day or per slot
    with django_assert_max_num_queries(7):
        result = find_availability(service=facial, start_date=MONDAY, end_date=MONDAY + timedelta(days=13), now=SUNDAY_BEFORE)

    assert len({o.start.date() for o in result.openings}) == 9  # ten weekdays, one closed
    assert not [o for o in result.openings if o.provider == dana and o.start.date() == date(2026, 3, 3)]
