"""The availability engine: when can this service be done, and by whom.

An open start time honours the clinic's business hours and closures (in the clinic's
time zone, across daylight-saving changes), each provider's weekly schedule and time
off, only providers who perform the service, the service's duration plus its buffer,
the minimum booking notice, the booking horizon, live appointments, busy times from
the calendar backend, and the slot interval (settings.SCHEDULING_SLOT_INTERVAL_MINUTES).

Speed: one call loads everything for its date range in a handful of queries (hours,
closures, schedules, time off, appointments) and then works on integer timestamps in
memory; nothing is queried per day or per slot.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date as date_type
from datetime import datetime, time, timedelta, timezone

from django.conf import settings

from scheduling.exceptions import BookingRefused, SchedulingError
from scheduling.models import Appointment, BusinessHours, ClinicSettings, Closure, ProviderSchedule, TimeOff
from scheduling.spoken import spoken_day, spoken_time

PARTS_OF_DAY = {"morning": (0, 12 * 60), "afternoon": (12 * 60, 17 * 60), "evening": (17 * 60, 24 * 60)}
DEFAULT_RANGE_DAYS = 7
SUMMARY_DAYS = 3
SUMMARY_FIRST_OPENINGS = 3
NEAREST_DAYS = 3


@dataclass(frozen=True)
class Opening:
    """One open start time with one provider. `end` is when the treatment ends (the buffer follows)."""

    provider: object
    start: datetime
    end: datetime

    def to_dict(self):
        return {
            "provider": {"id": self.provider.pk, "name": self.provider.name},
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


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


# --- public reads -----------------------------------------------------------------------------

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
    result.openings = _engine(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar).openings(
        start_date, end_date, part_of_day=part_of_day
    )
    if not result.openings:
        result.nearest_days, result.nearest_openings = _nearest(
            clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
            start_date=start_date, end_date=end_date, part_of_day=part_of_day, time_of_day=time_of_day,
        )
    result.summary = _summary(result, today=today, tz=tz, clinic=clinic, now=now)
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
    engine = _engine(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
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
    engine = _engine(clinic=clinic, service=service, providers=[provider], now=now, calendar=calendar,
                     ignore_appointment=ignore_appointment)
    return engine.reason(provider, start)


def require_aware(value, name):
    """Naive datetimes are refused: they say nothing about which 9 o'clock is meant."""
    return _aware(value, name)


# --- the engine ---------------------------------------------------------------------------------

def _engine(*, clinic, service, providers, now, calendar, ignore_appointment=None):
    """The local engine, or the backend's own when it holds availability itself (Boulevard)."""
    own = getattr(calendar, "engine", None)
    if own is not None:
        return own(clinic=clinic, service=service, providers=providers, now=now, ignore_appointment=ignore_appointment)
    return _Engine(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
                   ignore_appointment=ignore_appointment)


class _Engine:
    """Availability for one service and some providers, loaded lazily for the ranges asked."""

    def __init__(self, *, clinic, service, providers, now, calendar, ignore_appointment=None):
        self.clinic = clinic
        self.tz = clinic.tz
        self.service = service
        self.providers = list(providers)
        self.now = int(now.timestamp())
        self.calendar = calendar
        self.ignore = ignore_appointment
        self.step = settings.SCHEDULING_SLOT_INTERVAL_MINUTES * 60
        self.blocked = service.blocked_minutes * 60
        self.duration_seconds = service.duration_minutes * 60
        self.earliest = self.now + clinic.min_booking_notice_minutes * 60
        # The horizon is N calendar days on the clinic's clock (a DST week is not 7 x 24 hours).
        self.latest = int((now.astimezone(self.tz) + timedelta(days=clinic.booking_horizon_days)).timestamp())
        self._hours = None
        self._schedules = None

    # Loading: one query each, for the whole range.
    def _load_week(self):
        if self._hours is not None:
            return
        self._hours = defaultdict(list)
        for weekday, opens, closes in BusinessHours.objects.filter(clinic_id=self.clinic.pk).values_list(
            "weekday", "opens_at", "closes_at"
        ):
            self._hours[weekday].append((opens, closes))
        self._schedules = defaultdict(list)
        for provider_id, weekday, starts, ends in ProviderSchedule.objects.filter(
            provider__in=[p.pk for p in self.providers]
        ).values_list("provider_id", "weekday", "starts_at", "ends_at"):
            self._schedules[(provider_id, weekday)].append((starts, ends))

    def _load_range(self, first_day, last_day):
        self._load_week()
        range_start = _instant(first_day, time.min, self.tz)
        range_end = _instant(last_day + timedelta(days=1), time.min, self.tz)
        start_dt = datetime.fromtimestamp(range_start, timezone.utc)
        end_dt = datetime.fromtimestamp(range_end, timezone.utc)
        provider_ids = [p.pk for p in self.providers]
        closures = set(
            Closure.objects.filter(clinic_id=self.clinic.pk, date__gte=first_day, date__lte=last_day).values_list(
                "date", flat=True
            )
        )
        off = defaultdict(list)
        for provider_id, starts, ends in TimeOff.objects.filter(
            provider__in=provider_ids, starts_at__lt=end_dt, ends_at__gt=start_dt
        ).values_list("provider_id", "starts_at", "ends_at"):
            off[provider_id].append((int(starts.timestamp()), int(ends.timestamp())))
        busy = defaultdict(list)
        appointments = Appointment.objects.filter(
            provider__in=provider_ids, start__lt=end_dt, end__gt=start_dt
        ).exclude(status=Appointment.Status.CANCELLED)
        if self.ignore is not None:
            appointments = appointments.exclude(pk=self.ignore.pk)
        for provider_id, starts, ends in appointments.values_list("provider_id", "start", "end"):
            busy[provider_id].append((int(starts.timestamp()), int(ends.timestamp())))
        for provider_id, intervals in self.calendar.busy_times(
            providers=self.providers, start=start_dt, end=end_dt
        ).items():
            intervals = [(int(s.timestamp()), int(e.timestamp())) for s, e in intervals]
            if self.ignore is not None and provider_id == self.ignore.provider_id:
                # Our own event for the appointment being moved shows as busy on its calendar.
                intervals = _subtract(intervals, (int(self.ignore.start.timestamp()), int(self.ignore.end.timestamp())))
            busy[provider_id].extend(intervals)
        return closures, {pid: _merge(v) for pid, v in off.items()}, {pid: _merge(v) for pid, v in busy.items()}

    def _windows(self, provider_id, day, closures):
        """Working time of one provider on one day: business hours ∩ weekly schedule, as timestamps."""
        if day in closures:
            return []
        weekday = day.weekday()
        windows = []
        for opens, closes in self._hours.get(weekday, ()):
            for starts, ends in self._schedules.get((provider_id, weekday), ()):
                begin, finish = max(opens, starts), min(closes, ends)
                if begin < finish:
                    a, b = _instant(day, begin, self.tz), _instant(day, finish, self.tz)
                    if a < b:
                        windows.append((a, b))
        return _merge(windows)

    def openings(self, first_day, last_day, *, part_of_day=None):
        today = datetime.fromtimestamp(self.now, self.tz).date()
        last_bookable = datetime.fromtimestamp(self.latest, self.tz).date()
        first_day, last_day = max(first_day, today), min(last_day, last_bookable)
        if first_day > last_day or not self.providers:
            return []
        closures, off, busy = self._load_range(first_day, last_day)
        part = PARTS_OF_DAY.get(part_of_day) if part_of_day else None
        found = []
        for provider in self.providers:
            blocked_by = _merge(off.get(provider.pk, []) + busy.get(provider.pk, []))
            day = first_day
            while day <= last_day:
                for window_start, window_end in self._windows(provider.pk, day, closures):
                    for start in _starts(window_start, window_end, blocked_by, self._first_start(window_start),
                                         self.latest, self.blocked, self.step):
                        local = datetime.fromtimestamp(start, self.tz)
                        if part and not part[0] <= local.hour * 60 + local.minute < part[1]:
                            continue
                        # From the timestamp, not local + duration: wall-clock arithmetic is wrong across a DST change.
                        end = datetime.fromtimestamp(start + self.duration_seconds, self.tz)
                        found.append(Opening(provider=provider, start=local, end=end))
                day += timedelta(days=1)
        found.sort(key=lambda opening: (opening.start, opening.provider.name, opening.provider.pk))
        return found

    def _first_start(self, window_start):
        """The first start on the clinic's wall-clock grid at or after both the window and the notice."""
        earliest = max(window_start, self.earliest)
        offset = int(datetime.fromtimestamp(window_start, self.tz).utcoffset().total_seconds())
        return _ceil(earliest + offset, self.step) - offset

    def reason(self, provider, start):
        start_ts = int(start.timestamp())
        end_ts = start_ts + self.blocked
        if start_ts < self.now:
            return "in_the_past"
        if start_ts < self.earliest:
            return "too_soon"
        if start_ts > self.latest:
            return "beyond_horizon"
        day = start.astimezone(self.tz).date()
        closures, off, busy = self._load_range(day, day)
        if day in closures:
            return "closed"
        if not any(a <= start_ts and end_ts <= b for a, b in self._windows(provider.pk, day, closures)):
            return "outside_hours"
        if _overlaps(off.get(provider.pk, []), start_ts, end_ts):
            return "provider_unavailable"
        if _overlaps(busy.get(provider.pk, []), start_ts, end_ts):
            return "taken"
        return None


def _starts(window_start, window_end, busy, first, latest, blocked, step):
    """Grid starts in [window_start, window_end) whose blocked time fits and hits no busy interval.

    `busy` is sorted and merged, so one forward pointer walks it: linear in slots + intervals.
    """
    offset = first % step
    start = first
    index = bisect.bisect_right(busy, (start, float("inf"))) - 1 if busy else 0
    index = max(index, 0)
    while start + blocked <= window_end and start <= latest:
        while index < len(busy) and busy[index][1] <= start:
            index += 1
        if index < len(busy) and busy[index][0] < start + blocked:
            # Jump past the busy interval, back onto the grid.
            start = _ceil(busy[index][1] - offset, step) + offset
            continue
        yield start
        start += step


# --- nearest days and the spoken summary ---------------------------------------------------------

def _nearest(*, clinic, service, providers, now, calendar, start_date, end_date, part_of_day, time_of_day):
    """Up to three days closest to the asked range that have openings (before it from today, after it to the
    horizon), and on each the opening nearest the time asked for (else the day's first in the part asked for)."""
    if not providers:
        return [], []
    engine = _engine(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar)
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


def _summary(result, *, today, tz, clinic, now):
    service = result.service
    asked = _spoken_range(result.start_date, result.end_date, today)
    part = f" in the {result.part_of_day}" if result.part_of_day else ""
    if not result.openings:
        text = f"There are no openings for {service.name} {asked}{part}."
        if result.nearest_openings:
            text += f" The nearest: {_spoken_openings(result.nearest_openings, today)}."
        else:
            text += f" Nothing is open{part} in the next {clinic.booking_horizon_days} days."
        return text
    step = timedelta(minutes=settings.SCHEDULING_SLOT_INTERVAL_MINUTES)
    by_day = defaultdict(list)
    for opening in result.openings:
        by_day[opening.start.date()].append(opening.start)
    day_texts = []
    for day in sorted(by_day)[:SUMMARY_DAYS]:
        parts = []
        for name, (low, high) in PARTS_OF_DAY.items():
            starts = sorted({s for s in by_day[day] if low <= s.hour * 60 + s.minute < high})
            if starts:
                parts.append(f"{name} {_join([_spoken_run(run) for run in _runs(starts, step)])}")
        day_texts.append(f"{spoken_day(day, today)}: {'; '.join(parts)}")
    text = f"{service.name}{part}: " + ". ".join(day_texts) + "."
    if len(by_day) > SUMMARY_DAYS:
        text += f" More openings through {spoken_day(max(by_day), today)}."
    # The first few start times, grouped when they share a day and providers ("tomorrow at 9 AM and 9:15 AM with Dana").
    groups = []
    for start in sorted({opening.start for opening in result.openings})[:SUMMARY_FIRST_OPENINGS]:
        names = [o.provider.name for o in result.openings if o.start == start]
        who = _join(names[:2], last="or") + (" and others" if len(names) > 2 else "")
        key = (start.date(), who)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(start)
        else:
            groups.append((key, [start]))
    firsts = [
        f"{spoken_day(day, today)} at {_join([spoken_time(s) for s in starts])} with {who}"
        for (day, who), starts in groups
    ]
    text += " The first: " + "; ".join(firsts) + "."
    return text


def _spoken_openings(openings, today):
    """'Monday, March 2 at 12 PM and Wednesday, March 4 at 1 PM with Hannah Cole' (one provider named once)."""
    names = {opening.provider.name for opening in openings}
    items = [f"{spoken_day(o.start.date(), today)} at {spoken_time(o.start)}"
             + ("" if len(names) == 1 else f" with {o.provider.name}") for o in openings]
    return _join(items) + (f" with {names.pop()}" if len(names) == 1 else "")


def _runs(starts, step):
    runs, current = [], [starts[0]]
    for start in starts[1:]:
        if start - current[-1] <= step:
            current.append(start)
        else:
            runs.append(current)
            current = [start]
    runs.append(current)
    return runs


def _spoken_run(run):
    if len(run) == 1:
        return f"at {spoken_time(run[0])}"
    first, last = run[0], run[-1]
    if (first.hour < 12) == (last.hour < 12):
        return f"from {spoken_time(first, meridiem=False)} to {spoken_time(last)}"
    return f"from {spoken_time(first)} to {spoken_time(last)}"


def _spoken_range(first, last, today):
    if first == last:
        return spoken_day(first, today) if first in (today, today + timedelta(days=1)) else f"on {spoken_day(first, today)}"
    return f"between {spoken_day(first, today)} and {spoken_day(last, today)}"


def _join(items, *, last="and"):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


# --- small helpers ----------------------------------------------------------------------------

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


def _instant(day, time_of_day, tz):
    """The Unix time at which the clinic's wall clock shows `time_of_day` on `day`.

    On a fall-back day a repeated time means its first occurrence. On a spring-forward day a
    skipped time (2:30 when clocks jump from 2:00 to 3:00) means the moment of the jump: hours
    "until 2:30" end when the clock passes 2:30, and hours "from 2:30" begin then.
    """
    naive = datetime.combine(day, time_of_day)
    first = int(naive.replace(tzinfo=tz, fold=0).timestamp())
    second = int(naive.replace(tzinfo=tz, fold=1).timestamp())
    if first == second:
        return first
    if datetime.fromtimestamp(min(first, second), tz).replace(tzinfo=None) == naive:
        return min(first, second)  # repeated: both readings happen
    # Skipped: find the jump between the two readings (the offset changes exactly once there).
    low, high = min(first, second), max(first, second)
    after = datetime.fromtimestamp(high, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


def _ceil(value, step):
    return -(-value // step) * step


def _merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals, cut):
    out = []
    for start, end in intervals:
        if end <= cut[0] or start >= cut[1]:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if end > cut[1]:
            out.append((cut[1], end))
    return out


def _overlaps(intervals, start, end):
    return any(a < end and start < b for a, b in intervals)
