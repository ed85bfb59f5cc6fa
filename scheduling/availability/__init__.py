"""The availability engine: when can this service be done, and by whom.

An open start time honours the clinic's business hours and closures (in the clinic's
time zone, across daylight-saving changes), each provider's weekly schedule and time
off, only providers who perform the service, the service's duration plus its buffer,
the minimum booking notice, the booking horizon, live appointments, busy times from
the calendar backend, and the slot interval (settings.SCHEDULING_SLOT_INTERVAL_MINUTES).

Speed: one call loads everything for its date range in a handful of queries (hours,
closures, schedules, time off, appointments) and then works on integer timestamps in
memory; nothing is queried per day or per slot.

The package: this module answers the public reads (find_availability, nearest_openings, check_slot);
engine.py finds the open start times, summaries.py says them in words, intervals.py does the arithmetic.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import datetime, time, timedelta, timezone

from scheduling.availability.engine import PARTS_OF_DAY, Opening, engine_for
from scheduling.availability.summaries import summary
from scheduling.exceptions import BookingRefused, SchedulingError
from scheduling.models import ClinicSettings

__all__ = ["PARTS_OF_DAY", "SANE_YEARS", "Availability", "Opening", "check_slot", "find_availability",
           "nearest_openings", "require_aware"]

DEFAULT_RANGE_DAYS = 7
NEAREST_DAYS = 3


@dataclass
class Availability:
    service: object
    openings: list
    summary: str
    nearest_days: list = field(default_factory=list)
    nearest_openings: list = field(default_factory=list)  # one per nearest day, when the asked days have none
    start_date: date_type | None = None
    end_date: date_type | None = None
    part_of_day: str | None = None
    time_zone: str = ""

    @property
    def by_provider(self):
        grouped = {}
        for opening in self.openings:
            grouped.setdefault(opening.provider, []).append(opening)
        return grouped

    def to_dict(self, *, limit=None):
        """JSON-safe. `limit` keeps the first N openings (a model does not need all 600 of a fortnight)."""
        openings = self.openings if limit is None else self.openings[:limit]
        return {
            "service": {"id": self.service.pk, "name": self.service.name, "duration_minutes": self.service.duration_minutes},
            "time_zone": self.time_zone,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "part_of_day": self.part_of_day,
            "openings": [opening.to_dict() for opening in openings],
            "openings_total": len(self.openings),
            "summary": self.summary,
            "nearest_days": [day.isoformat() for day in self.nearest_days],
            "nearest_openings": [opening.to_dict() for opening in self.nearest_openings],
        }


def find_availability(*, service, date=None, start_date=None, end_date=None, provider=None, part_of_day=None,
                      time_of_day=None, now=None, calendar=None):
    """Open start times for `service` on `date`, or from `start_date` to `end_date` (clinic dates).

    With no dates: the next seven days from today. With only `start_date`: seven days from it.
    `provider` narrows to one provider; `part_of_day` to "morning", "afternoon" or "evening".
    When the asked days have nothing, `nearest_days` lists the closest days that do, and
    `nearest_openings` one opening on each: the one nearest `time_of_day` (a `time` the caller
    asked for), else the first of the part of the day.
    """
    clinic = ClinicSettings.load()
    tz = clinic.tz
    now = _aware(now, "now") if now is not None else datetime.now(timezone.utc)
    if part_of_day is not None and part_of_day not in PARTS_OF_DAY:
        raise SchedulingError(
            f"“{part_of_day}” is not a part of the day; say morning, afternoon or evening.", code="invalid_part_of_day"
        )
    today = now.astimezone(tz).date()
    if date is not None:
        start_date = end_date = _as_date(date, tz)
    else:
        start_date = _as_date(start_date, tz) if start_date is not None else None
        end_date = _as_date(end_date, tz) if end_date is not None else None
        if start_date is None:
            start_date = today if end_date is None or end_date >= today else end_date
        if end_date is None:
            end_date = start_date + timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if end_date < start_date:
        raise SchedulingError("The end date is before the start date.", code="invalid_dates")

    providers = _providers_for(service, provider)
    result = Availability(
        service=service, openings=[], summary="", start_date=start_date, end_date=end_date,
        part_of_day=part_of_day, time_zone=clinic.time_zone,
    )
    if not service.is_active:
        result.summary = f"{service.name} is not offered at the moment."
        return result
    if provider is not None and not providers:
        result.summary = f"{provider.name} does not perform {service.name}."
        return result
    calendar = calendar if calendar is not None else _default_calendar()
    result.openings = engine_for(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar).openings(
        start_date, end_date, part_of_day=part_of_day
    )
    if not result.openings:
        result.nearest_days, result.nearest_openings = _nearest(
            clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
            start_date=start_date, end_date=end_date, part_of_day=part_of_day, time_of_day=time_of_day,
        )
    result.summary = summary(result, today=today, tz=tz, clinic=clinic, now=now)
    return result


def nearest_openings(*, service, around, provider=None, limit=3, now=None, calendar=None, ignore_appointment=None):
    """The `limit` open start times closest to `around` (same day first, then the following days)."""
    clinic = ClinicSettings.load()
    tz = clinic.tz
    around = _aware(around, "around")
    now = _aware(now, "now") if now is not None else datetime.now(timezone.utc)
    providers = _providers_for(service, provider)
    if not providers or not service.is_active:
        return []
    calendar = calendar if calendar is not None else _default_calendar()
    engine = engine_for(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
                     ignore_appointment=ignore_appointment)
    day = around.astimezone(tz).date()
    openings = engine.openings(day - timedelta(days=1), day + timedelta(days=1))
    if len(openings) < limit:
        openings = engine.openings(day - timedelta(days=1), day + timedelta(days=14))
    openings.sort(key=lambda opening: (abs((opening.start - around).total_seconds()), opening.start))
    return sorted(openings[:limit], key=lambda opening: (opening.start, opening.provider.name))


def check_slot(*, service, provider, start, now=None, calendar=None, ignore_appointment=None):
    """Why `provider` cannot do `service` at `start`, as a reason code, or None when they can.

    Codes: in_the_past, too_soon, beyond_horizon, closed, outside_hours, provider_unavailable
    (time off), taken (another appointment or a busy time on their calendar).
    Starts off the slot grid are allowed here: staff may book 10:10 on purpose.
    """
    clinic = ClinicSettings.load()
    start = _aware(start, "start")
    now = _aware(now, "now") if now is not None else datetime.now(timezone.utc)
    calendar = calendar if calendar is not None else _default_calendar()
    engine = engine_for(clinic=clinic, service=service, providers=[provider], now=now, calendar=calendar,
                     ignore_appointment=ignore_appointment)
    return engine.reason(provider, start)


def require_aware(value, name):
    """Naive datetimes are refused: they say nothing about which 9 o'clock is meant."""
    return _aware(value, name)


# --- the engine ---------------------------------------------------------------------------------


def _nearest(*, clinic, service, providers, now, calendar, start_date, end_date, part_of_day, time_of_day):
    """Up to three days closest to the asked range that have openings (before it from today, after it to the
    horizon), and on each the opening nearest the time asked for (else the day's first in the part asked for)."""
    if not providers:
        return [], []
    engine = engine_for(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar)
    local_now = now.astimezone(clinic.tz)
    today, horizon_day = local_now.date(), (local_now + timedelta(days=clinic.booking_horizon_days)).date()
    # Search around the asked days, moved inside [today, horizon] (asking for last year searches from today).
    anchor_start = min(max(start_date, today), horizon_day)
    anchor_end = min(max(end_date, today), horizon_day)
    by_day = defaultdict(list)
    before_from = anchor_start - timedelta(days=7)
    after_to = anchor_end + timedelta(days=14)
    while True:
        for opening in engine.openings(before_from, after_to, part_of_day=part_of_day):
            if not start_date <= opening.start.date() <= end_date:
                by_day[opening.start.date()].append(opening)
        if len(by_day) >= NEAREST_DAYS or after_to >= horizon_day:
            break
        before_from, after_to = after_to + timedelta(days=1), after_to + timedelta(days=28)

    def distance(day):
        return ((start_date - day).days if day < start_date else (day - end_date).days, day)

    days = sorted(sorted(by_day, key=distance)[:NEAREST_DAYS])
    wanted = time_of_day
    if wanted is None and part_of_day:
        wanted = time(PARTS_OF_DAY[part_of_day][0] // 60)
    if wanted is None:
        return days, [by_day[day][0] for day in days]
    target = wanted.hour * 60 + wanted.minute
    # The earlier of two equally near openings (openings are sorted by start, and min keeps the first).
    return days, [min(by_day[day], key=lambda o: abs(o.start.hour * 60 + o.start.minute - target)) for day in days]


def _providers_for(service, provider):
    providers = service.providers.filter(is_active=True).order_by("name", "pk")
    if provider is not None:
        providers = providers.filter(pk=provider.pk)
    return list(providers)


def _default_calendar():
    from scheduling.calendars import get_calendar

    return get_calendar()


# Dates outside these years are typos (or fuzzers); refusing them keeps date arithmetic in range.
SANE_YEARS = (1970, 2200)


def _aware(value, name):
    if not isinstance(value, datetime):
        raise BookingRefused(f"“{name}” must be a date and time.", code="invalid_datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BookingRefused(
            f"The time given for “{name}” has no time zone, so it could mean two different moments.",
            code="naive_datetime",
        )
    if not SANE_YEARS[0] <= value.year <= SANE_YEARS[1]:
        raise BookingRefused(f"{value.year} is not a year we can book.", code="invalid_datetime")
    return value


def _as_date(value, tz):
    if isinstance(value, datetime):
        return _aware(value, "date").astimezone(tz).date()
    if not isinstance(value, date_type):
        try:
            value = date_type.fromisoformat(str(value))
        except ValueError:
            raise SchedulingError(f"“{value}” is not a date (YYYY-MM-DD).", code="invalid_date") from None
    if not SANE_YEARS[0] <= value.year <= SANE_YEARS[1]:
        raise SchedulingError(f"{value.year} is not a year we can book.", code="invalid_date")
    return value
