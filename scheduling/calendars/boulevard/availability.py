"""Availability from Boulevard: bookable times read through carts, and the engine scheduling asks."""

import logging
from datetime import datetime, timedelta

from django.core.cache import cache

from scheduling.availability import PARTS_OF_DAY, Opening
from scheduling.calendars.boulevard.caching import CART_TTL, cart_key, generation
from scheduling.calendars.boulevard.client import BoulevardDown, BoulevardRefused
from scheduling.exceptions import CalendarUnavailable

logger = logging.getLogger(__name__)


class BoulevardAvailability:
    """BoulevardCalendar's reads: each provider's bookable start times, cached."""

    def starts(self, *, service, provider, first_day, last_day, tz, fresh=False):
        """Boulevard's bookable start times (aware) for `provider` doing `service` on those clinic days."""
        variant = variant_for(service, provider)
        if variant is None:
            return []
        cart_id = self._availability_cart(service.boulevard_id, variant)
        try:
            return self._starts(cart_id, first_day, last_day, tz, fresh)
        except BoulevardDown as error:
            logger.warning("Boulevard failed while reading bookable times: %s", error)
            raise CalendarUnavailable() from error
        except BoulevardRefused:
            # The cart expired or was completed elsewhere: make a new one, once.
            cache.delete(cart_key(service.boulevard_id, variant))
            cart_id = self._availability_cart(service.boulevard_id, variant)
            return self._call(lambda: self._starts(cart_id, first_day, last_day, tz, fresh))

    def _starts(self, cart_id, first_day, last_day, tz, fresh):
        days, lower = [], first_day
        while lower <= last_day:
            # Boulevard answers at most the first week of a longer range.
            upper = min(last_day, lower + timedelta(days=6))
            days += self._cached(("dates", cart_id, lower, upper), fresh, lambda lower=lower, upper=upper: [
                row["date"] for row in self._execute("CartBookableDates", {
                    "id": cart_id, "searchRangeLower": lower.isoformat(), "searchRangeUpper": upper.isoformat(),
                    "tz": str(tz),
                })["cartBookableDates"] or []
            ])
            lower = upper + timedelta(days=1)
        found = []
        for day in days:
            times = self._cached(("times", cart_id, day), fresh, lambda day=day: [
                row["startTime"] for row in self._execute("CartBookableTimes", {
                    "id": cart_id, "searchDate": day, "tz": str(tz),
                })["cartBookableTimes"] or []
            ])
            found += [datetime.fromisoformat(text) for text in times]
        return found

    def reschedule_starts(self, *, appointment, day, tz):
        """Start times Boulevard offers for moving this appointment on `day`: {start: bookableTimeId}."""
        answer = self._call(lambda: self._execute("AppointmentRescheduleAvailableTimes", {"input": {
            "appointmentId": appointment.calendar_event_id, "date": day.isoformat(), "tz": str(tz),
        }}))
        return {datetime.fromisoformat(row["startTime"]): row["bookableTimeId"]
                for row in answer["appointmentRescheduleAvailableTimes"]["availableTimes"]}

    def _availability_cart(self, item_id, variant):
        key = cart_key(item_id, variant)
        cart_id = cache.get(key)
        if cart_id is None:
            cart_id = self._call(lambda: self._new_cart(item_id=item_id, variant=variant))
            cache.set(key, cart_id, CART_TTL)
        return cart_id

    def _new_cart(self, *, item_id, variant, client_information=None):
        create = {"locationId": self.location_id}
        if client_information:
            create["clientInformation"] = client_information
        cart_id = self._execute("CreateCart", {"input": create})["createCart"]["cart"]["id"]
        self._execute("AddCartBookableItem", {"input": {"id": cart_id, "itemId": item_id, "itemStaffVariantId": variant}})
        return cart_id

    def _cached(self, key, fresh, load):
        full_key = "boulevard:" + ":".join(str(part) for part in (generation(), *key))
        if not fresh and self.cache_seconds:
            value = cache.get(full_key)
            if value is not None:
                return value
        value = load()
        if self.cache_seconds:
            cache.set(full_key, value, self.cache_seconds)
        return value


class BoulevardEngine:
    """What scheduling.availability asks of an engine, answered from Boulevard's bookable times."""

    def __init__(self, backend, *, clinic, service, providers, now, ignore_appointment=None):
        self.backend = backend
        self.clinic = clinic
        self.tz = clinic.tz
        self.service = service
        self.ignore = ignore_appointment
        if ignore_appointment is not None:
            # Boulevard moves an appointment with its own provider only.
            providers = [p for p in providers if p.pk == ignore_appointment.provider_id]
        self.providers = list(providers)
        self.now = now
        self.earliest = now + timedelta(minutes=clinic.min_booking_notice_minutes)
        self.latest = now + timedelta(days=clinic.booking_horizon_days)

    def openings(self, first_day, last_day, *, part_of_day=None):
        today = self.now.astimezone(self.tz).date()
        first_day, last_day = max(first_day, today), min(last_day, self.latest.astimezone(self.tz).date())
        if first_day > last_day or not self.service.boulevard_id:
            return []
        part = PARTS_OF_DAY.get(part_of_day) if part_of_day else None
        length = timedelta(minutes=self.service.duration_minutes)
        found = []
        for provider in self.providers:
            for start in self._starts(provider, first_day, last_day):
                if not self.earliest <= start <= self.latest:
                    continue
                local = start.astimezone(self.tz)
                if part and not part[0] <= local.hour * 60 + local.minute < part[1]:
                    continue
                found.append(Opening(provider=provider, start=local, end=(start + length).astimezone(self.tz)))
        found.sort(key=lambda opening: (opening.start, opening.provider.name, opening.provider.pk))
        return found

    def _starts(self, provider, first_day, last_day):
        if self.ignore is not None and self.ignore.calendar_event_id:
            starts, day = [], first_day
            while day <= last_day:
                starts += list(self.backend.reschedule_starts(appointment=self.ignore, day=day, tz=self.tz))
                day += timedelta(days=1)
            return starts
        return self.backend.starts(service=self.service, provider=provider, first_day=first_day, last_day=last_day,
                                   tz=self.tz)

    def reason(self, provider, start):
        if start < self.now:
            return "in_the_past"
        if start < self.earliest:
            return "too_soon"
        if start > self.latest:
            return "beyond_horizon"
        if variant_for(self.service, provider) is None:
            return "provider_unavailable"
        if self.ignore is not None and provider.pk != self.ignore.provider_id:
            return "taken"  # Boulevard moves an appointment with its own provider only
        day = start.astimezone(self.tz).date()
        if self.ignore is not None and self.ignore.calendar_event_id:
            starts = self.backend.reschedule_starts(appointment=self.ignore, day=day, tz=self.tz)
        else:
            # A booking decides on fresh times, never the cached ones.
            starts = self.backend.starts(service=self.service, provider=provider, first_day=day, last_day=day,
                                         tz=self.tz, fresh=True)
        return None if start in set(starts) else "taken"


def variant_for(service, provider):
    if not service.boulevard_id or not provider.boulevard_id:
        return None
    return (service.boulevard_staff_variants or {}).get(provider.boulevard_id)
