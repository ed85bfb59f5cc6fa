"""The slot engine: open start times for one service and some providers, on integer timestamps in memory.

It loads everything for a date range in a handful of queries (hours, closures, schedules, time off,
appointments, the calendar's busy times) and then walks the slot grid; nothing is queried per day or slot.
"""

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from django.conf import settings

from scheduling.availability.intervals import ceil_to, merge, overlaps, subtract
from scheduling.models import Appointment, BusinessHours, Closure, ProviderSchedule, TimeOff

PARTS_OF_DAY = {"morning": (0, 12 * 60), "afternoon": (12 * 60, 17 * 60), "evening": (17 * 60, 24 * 60)}


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


def engine_for(*, clinic, service, providers, now, calendar, ignore_appointment=None):
    """The local engine, or the backend's own when it holds availability itself (Boulevard)."""
    own = getattr(calendar, "engine", None)
    if own is not None:
        return own(clinic=clinic, service=service, providers=providers, now=now, ignore_appointment=ignore_appointment)
    return SlotEngine(clinic=clinic, service=service, providers=providers, now=now, calendar=calendar,
                   ignore_appointment=ignore_appointment)


class SlotEngine:
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
        range_start = wall_clock_instant(first_day, time.min, self.tz)
        range_end = wall_clock_instant(last_day + timedelta(days=1), time.min, self.tz)
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
                intervals = subtract(intervals, (int(self.ignore.start.timestamp()), int(self.ignore.end.timestamp())))
            busy[provider_id].extend(intervals)
        return closures, {pid: merge(v) for pid, v in off.items()}, {pid: merge(v) for pid, v in busy.items()}

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
                    a, b = wall_clock_instant(day, begin, self.tz), wall_clock_instant(day, finish, self.tz)
                    if a < b:
                        windows.append((a, b))
        return merge(windows)

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
            blocked_by = merge(off.get(provider.pk, []) + busy.get(provider.pk, []))
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
        return ceil_to(earliest + offset, self.step) - offset

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
        if overlaps(off.get(provider.pk, []), start_ts, end_ts):
            return "provider_unavailable"
        if overlaps(busy.get(provider.pk, []), start_ts, end_ts):
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
            start = ceil_to(busy[index][1] - offset, step) + offset
            continue
        yield start
        start += step


# --- nearest days and the spoken summary ---------------------------------------------------------


def wall_clock_instant(day, time_of_day, tz):
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
