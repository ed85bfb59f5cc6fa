"""An in-memory diary for laying out demo appointments that never collide.

It reads the real rules from the database (clinic hours, closures, each provider's
weekly hours, time off, who performs what), so the history it produces is one the
availability engine would have allowed.
"""

from collections import defaultdict
from datetime import time, timedelta

from conventions.clinic_time import local_datetime
from scheduling.models import Closure, ProviderSchedule, TimeOff

GRID_MINUTES = 15


def _minutes(t):
    return t.hour * 60 + t.minute


class DemoCalendar:
    def __init__(self, *, clinic, providers):
        self.tz = clinic.tz
        self.providers = list(providers)
        self.clinic_hours = defaultdict(list)
        for row in clinic.hours.all():
            self.clinic_hours[row.weekday].append((_minutes(row.opens_at), _minutes(row.closes_at)))
        self.closed_days = set(Closure.objects.values_list("date", flat=True))
        self.schedules = defaultdict(list)
        for row in ProviderSchedule.objects.filter(provider__in=self.providers):
            self.schedules[row.provider_id, row.weekday].append((_minutes(row.starts_at), _minutes(row.ends_at)))
        self.time_off = defaultdict(list)
        for row in TimeOff.objects.filter(provider__in=self.providers):
            self.time_off[row.provider_id].append((row.starts_at, row.ends_at))
        self.performs = defaultdict(set)
        for provider in self.providers:
            for service_id in provider.services.values_list("id", flat=True):
                self.performs[service_id].add(provider.id)
        self._held = defaultdict(list)  # (provider id, date) -> [(start, end)]
        self._customer_held = defaultdict(list)  # (customer key, date) -> [(start, end)]

    def is_open(self, day):
        return bool(self.clinic_hours.get(day.weekday())) and day not in self.closed_days

    def providers_for(self, service):
        return [p for p in self.providers if p.id in self.performs[service.id]]

    def working_days(self, provider):
        return sorted({day for (provider_id, day) in self.schedules if provider_id == provider.id})

    def add_time_off(self, provider, start, end):
        self.time_off[provider.id].append((start, end))

    def _windows(self, provider, day):
        """The provider's working minutes that fall inside the clinic's opening hours that day."""
        for start, end in self.schedules.get((provider.id, day.weekday()), []):
            for opens, closes in self.clinic_hours.get(day.weekday(), []):
                lo, hi = max(start, opens), min(end, closes)
                if lo < hi:
                    yield lo, hi

    def options(self, *, service, day, customer_key=None, provider=None, earliest=None, after=None, before=None):
        """Free (provider, start) pairs for `service` on `day`, in time order.

        `after`/`before` are wall-clock times bounding the start (a caller's "after 3").
        """
        if not self.is_open(day):
            return []
        blocked = service.blocked_minutes
        found = []
        for candidate in self.providers_for(service):
            if provider is not None and candidate.id != provider.id:
                continue
            for lo, hi in self._windows(candidate, day):
                first = -(-lo // GRID_MINUTES) * GRID_MINUTES
                for minute in range(first, hi - blocked + 1, GRID_MINUTES):
                    if after and minute < _minutes(after) or before and minute > _minutes(before):
                        continue
                    start = local_datetime(day, time(minute // 60, minute % 60), self.tz)
                    end = start + timedelta(minutes=blocked)
                    if earliest and start < earliest:
                        continue
                    if self._free(candidate.id, customer_key, day, start, end):
                        found.append((candidate, start))
        found.sort(key=lambda option: (option[1], option[0].name))
        return found

    def _free(self, provider_id, customer_key, day, start, end):
        def clear(intervals):
            return all(end <= s or e <= start for s, e in intervals)

        return (
            clear(self._held[provider_id, day])
            and clear(self.time_off[provider_id])
            and (customer_key is None or clear(self._customer_held[customer_key, day]))
        )

    def hold(self, *, provider, service, start, customer_key=None):
        """Take the slot; returns its end (start + duration + buffer)."""
        end = start + timedelta(minutes=service.blocked_minutes)
        day = start.astimezone(self.tz).date()
        if not self._free(provider.id, customer_key, day, start, end):
            raise ValueError(f"{provider} is not free at {start}")
        self._held[provider.id, day].append((start, end))
        if customer_key is not None:
            self._customer_held[customer_key, day].append((start, end))
        return end

    def search(self, *, service, first_day, days, **filters):
        """The options on the first open day from `first_day` (within `days`) that has any."""
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            found = self.options(service=service, day=day, **filters)
            if found:
                return found
        return []

    @staticmethod
    def spread(options, rng, count=2):
        """A few options a receptionist would offer: different times, in order."""
        by_start = {}
        for provider, start in options:
            by_start.setdefault(start, []).append(provider)
        # Times at least an hour apart, as a person offering choices would give them.
        picked = []
        for start in rng.sample(sorted(by_start), len(by_start)):
            if all(abs(start - other) >= timedelta(hours=1) for other in picked):
                picked.append(start)
            if len(picked) == count:
                break
        return [(rng.choice(by_start[start]), start) for start in sorted(picked)]
