"""Boulevard backend: availability, booking, moving and cancelling through Boulevard's Client API.

At a Boulevard clinic, Boulevard is the calendar. So this backend does more than mirror:
- availability (`engine`): each provider's open times come from a cart holding the service
  with that provider's staff variant (cartBookableDates, then cartBookableTimes per date),
  kept in Django's cache for BOULEVARD_AVAILABILITY_CACHE_SECONDS; any write clears them.
- booking (`create_event`, inside scheduling.services' transaction, after Ava's row exists): a
  fresh cart with the client's details, the service and staff variant, the chosen time reserved,
  then checked out. Boulevard's appointment id becomes the row's `calendar_event_id`, so the
  row is the mirror the dashboard, confirmations and metrics read. Any failure raises and the
  row is rolled back; an unpaid reservation simply expires in Boulevard.
- a card needed at checkout (a deposit policy): nothing is booked; the caller is texted the
  clinic's online booking link (BOULEVARD_BOOKING_URL) after the rollback. Never card numbers by voice.
- moving (`update_event`) through appointmentRescheduleAvailableTimes + appointmentReschedule,
  with the same provider; cancelling (`delete_event`) through cancelAppointment, taking
  Boulevard's verdict on a late cancellation.
"""

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from scheduling.availability import PARTS_OF_DAY, Opening
from scheduling.calendars.boulevard.client import BoulevardClient, BoulevardDown, BoulevardRefused
from scheduling.exceptions import BookingRefused, CalendarUnavailable, SlotTaken
from scheduling.spoken import spoken_datetime

logger = logging.getLogger(__name__)

CART_TTL = 30 * 60  # an availability cart is reused this long (it is never reserved or checked out)
TAKEN_CODES = {"BOOKABLE_TIME_UNAVAILABLE"}
CARD_CODES = {"CART_MISSING_ITEM_PAYMENT_METHOD"}
_GENERATION_KEY = "boulevard:availability:generation"


class BoulevardCalendar:
    name = "boulevard"

    def __init__(self, *, client, location_id, cache_seconds=60, booking_url=""):
        self.client = client
        self.location_id = location_id
        self.cache_seconds = cache_seconds
        self.booking_url = booking_url

    @classmethod
    def from_settings(cls):
        client = BoulevardClient(
            api_url=settings.BOULEVARD_API_URL, business_id=settings.BOULEVARD_BUSINESS_ID,
            api_key=settings.BOULEVARD_API_KEY, timeout=settings.BOULEVARD_TIMEOUT_SECONDS,
        )
        return cls(client=client, location_id=settings.BOULEVARD_LOCATION_ID,
                   cache_seconds=settings.BOULEVARD_AVAILABILITY_CACHE_SECONDS,
                   booking_url=settings.BOULEVARD_BOOKING_URL)

    # --- availability ------------------------------------------------------------------------
    def engine(self, *, clinic, service, providers, now, ignore_appointment=None):
        return BoulevardEngine(self, clinic=clinic, service=service, providers=providers, now=now,
                               ignore_appointment=ignore_appointment)

    def busy_times(self, *, providers, start, end):
        return {}  # availability comes whole from Boulevard (engine), never as busy times

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
            cache.delete(_cart_key(service.boulevard_id, variant))
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
        key = _cart_key(item_id, variant)
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
        full_key = "boulevard:" + ":".join(str(part) for part in (_generation(), *key))
        if not fresh and self.cache_seconds:
            value = cache.get(full_key)
            if value is not None:
                return value
        value = load()
        if self.cache_seconds:
            cache.set(full_key, value, self.cache_seconds)
        return value

    # --- booking -------------------------------------------------------------------------------
    def create_event(self, *, appointment):
        """Book the appointment in Boulevard through a cart; returns Boulevard's appointment id."""
        service, provider, customer = appointment.service, appointment.provider, appointment.customer
        variant = _require_variant(service, provider)
        from scheduling.models import ClinicSettings

        tz = ClinicSettings.load().tz
        day = appointment.start.astimezone(tz).date()
        try:
            cart_id = self._new_cart(item_id=service.boulevard_id, variant=variant,
                                     client_information=_client_information(customer))
            times = self._execute("CartBookableTimes", {"id": cart_id, "searchDate": day.isoformat(), "tz": str(tz)})
            time_id = next((row["id"] for row in times["cartBookableTimes"] or []
                            if datetime.fromisoformat(row["startTime"]) == appointment.start), None)
            if time_id is None:
                raise self._taken(appointment)
            try:
                reserved = self._execute("ReserveCartBookableItems",
                                         {"input": {"id": cart_id, "bookableTimeId": time_id}})
            except BoulevardRefused as refused:
                logger.info("Boulevard refused the reservation for appointment %s: %s", appointment.pk, refused)
                raise self._taken(appointment) from refused
            summary = reserved["reserveCartBookableItems"]["cart"]["summary"]
            if summary["paymentMethodRequired"]:
                raise self._card_required(appointment)
            checkout = self._checkout(cart_id, appointment)
        except BoulevardDown as error:
            logger.warning("Boulevard failed while booking appointment %s: %s", appointment.pk, error)
            raise CalendarUnavailable() from error
        booked = checkout["appointments"][0]
        appointment.metadata = {**appointment.metadata, "boulevard": {"cart_id": cart_id,
                                                                      "client_id": booked["clientId"]}}
        appointment.save(update_fields=["metadata", "updated_at"])
        _bump_generation()
        return booked["appointmentId"]

    def _checkout(self, cart_id, appointment):
        """Check the cart out; when the answer is lost, ask again: Boulevard completes a cart only once."""
        for attempt in range(2):
            try:
                return self._execute("CheckoutCart", {"input": {"id": cart_id}})["checkoutCart"]
            except BoulevardDown:
                if attempt == 1:
                    logger.error("Boulevard checkout of cart %s (appointment %s) unanswered twice; if it landed, "
                                 "the appointment is in Boulevard without Ava's mirror", cart_id, appointment.pk)
                    raise
            except BoulevardRefused as refused:
                if refused.codes & TAKEN_CODES:
                    raise self._taken(appointment) from refused
                if refused.codes & CARD_CODES:
                    raise self._card_required(appointment) from refused
                logger.warning("Boulevard refused the checkout of cart %s: %s", cart_id, refused)
                raise CalendarUnavailable() from refused
        raise AssertionError("unreachable")

    def update_event(self, *, appointment, previous_provider=None):
        """Move the Boulevard appointment to the row's new start (same provider); returns its id."""
        if not appointment.calendar_event_id:
            return self.create_event(appointment=appointment)
        if previous_provider is not None and previous_provider.pk != appointment.provider_id:
            raise BookingRefused(
                "In Boulevard an appointment moves with its provider; to change provider, cancel and book again.",
                code="provider_change_unsupported",
            )
        from scheduling.models import ClinicSettings

        tz = ClinicSettings.load().tz
        offered = self.reschedule_starts(appointment=appointment, day=appointment.start.astimezone(tz).date(), tz=tz)
        time_id = offered.get(appointment.start)
        if time_id is None:
            raise self._taken(appointment, moving=True)
        try:
            self._execute("AppointmentReschedule", {"input": {
                "appointmentId": appointment.calendar_event_id, "bookableTimeId": time_id, "sendNotification": True,
            }})
        except BoulevardRefused as refused:
            raise self._taken(appointment, moving=True) from refused
        except BoulevardDown as error:
            # The move may have landed: believe Boulevard's own record of the appointment.
            if self._remote_start(appointment) != appointment.start:
                raise CalendarUnavailable() from error
        _bump_generation()
        return appointment.calendar_event_id

    def delete_event(self, *, appointment):
        """Cancel in Boulevard; a cancelled row takes Boulevard's late-cancellation verdict."""
        if not appointment.calendar_event_id:
            return
        try:
            answer = self._execute("CancelAppointment", {"input": {
                "id": appointment.calendar_event_id, "notes": appointment.cancellation_reason or None,
            }})["cancelAppointment"]["appointment"]
        except (BoulevardDown, BoulevardRefused) as error:
            # A lost answer may have cancelled it; an already cancelled one is what we want.
            answer = self._call(lambda: self._execute("Appointment", {"id": appointment.calendar_event_id}))["appointment"]
            if answer is not None and not answer["cancelled"]:
                logger.warning("Boulevard did not cancel appointment %s: %s", appointment.pk, error)
                raise CalendarUnavailable() from error
        _bump_generation()
        from scheduling.models import Appointment

        if appointment.status == Appointment.Status.CANCELLED and answer is not None:
            reason = (answer.get("cancellation") or {}).get("reason", "")
            appointment.late_cancellation = reason == "CLIENT_LATE_CANCEL"
            appointment.metadata = {**appointment.metadata,
                                    "boulevard": {**appointment.metadata.get("boulevard", {}), "cancellation": reason}}
            appointment.save(update_fields=["late_cancellation", "metadata", "updated_at"])

    # --- helpers -------------------------------------------------------------------------------
    def _remote_start(self, appointment):
        found = self._call(lambda: self._execute("Appointment", {"id": appointment.calendar_event_id}))["appointment"]
        return datetime.fromisoformat(found["startAt"]) if found else None

    def _taken(self, appointment, *, moving=False):
        """SlotTaken with fresh alternatives (the cached times are cleared first)."""
        from scheduling.availability import nearest_openings
        from scheduling.exceptions import SchedulingError

        _bump_generation()
        try:
            alternatives = nearest_openings(
                service=appointment.service, around=appointment.start,
                provider=appointment.provider if moving else None, now=timezone.now(), calendar=self,
                ignore_appointment=appointment if moving else None,
            )
        except SchedulingError:
            logger.warning("Could not read alternatives from Boulevard", exc_info=True)
            alternatives = []
        return SlotTaken(alternatives=alternatives)

    def _card_required(self, appointment):
        from communications import messaging
        from communications.models import OutboundMessage
        from scheduling.models import ClinicSettings

        customer, service = appointment.customer, appointment.service
        clinic = ClinicSettings.load()
        can_text = bool(self.booking_url and customer.phone and messaging.text_channel_for(customer) is not None)
        if can_text:
            message = (f"{service.name} needs a card on file to book, and I can't take card details over the phone. "
                       "I've texted you a link to finish the booking online.")
        else:
            message = (f"{service.name} needs a card on file to book, and I can't take card details over the phone. "
                       "Please book it online or with the front desk.")
        refusal = BookingRefused(message, code="card_required",
                                 details={"link_texted": can_text, "booking_url": self.booking_url})
        if can_text:
            when = appointment.start.astimezone(clinic.tz)
            sms = (f"{clinic.name}: to book {service.name} on {spoken_datetime(when)}, "
                   f"add a card here: {self.booking_url}")

            def text_the_link():
                messaging.notify(customer=customer, kind=OutboundMessage.Kind.CONFIRMATION,
                                 key=f"boulevard-card:{customer.pk}:{service.pk}:{appointment.start.isoformat()}",
                                 sms_body=sms, metadata={"service_id": service.pk, "card_required": True})

            # Run by scheduling.services once the booking is rolled back, so the text is kept.
            refusal.after_rollback = text_the_link
        return refusal

    def _execute(self, operation, variables):
        return self.client.execute(operation, variables)

    def _call(self, work):
        try:
            return work()
        except (BoulevardDown, BoulevardRefused) as error:
            logger.warning("Boulevard failed: %s", error)
            raise CalendarUnavailable() from error


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


def _require_variant(service, provider):
    variant = variant_for(service, provider)
    if variant is None:
        raise BookingRefused(f"{provider.name} does not take {service.name} bookings in Boulevard.",
                             code="provider_does_not_perform")
    return variant


def _client_information(customer):
    first, _, last = (customer.name or "").strip().partition(" ")
    information = {"firstName": first or "Guest", "lastName": last or None,
                   "externalId": f"ava-customer-{customer.pk}"}
    if customer.phone:
        information["phoneNumber"] = customer.phone
    if customer.email:
        information["email"] = customer.email
    return information


def _cart_key(item_id, variant):
    return f"boulevard:cart:{item_id}:{variant}"


def _generation():
    return cache.get_or_set(_GENERATION_KEY, 1, None)


def _bump_generation():
    """Forget every cached bookable time: a booking, move or cancellation changes them."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 2, None)


_local = threading.local()


def get_boulevard_calendar():
    key = (settings.BOULEVARD_API_URL, settings.BOULEVARD_BUSINESS_ID, settings.BOULEVARD_API_KEY,
           settings.BOULEVARD_LOCATION_ID, settings.BOULEVARD_TIMEOUT_SECONDS,
           settings.BOULEVARD_AVAILABILITY_CACHE_SECONDS, settings.BOULEVARD_BOOKING_URL)
    cached = getattr(_local, "calendar", None)
    if cached is None or cached[0] != key:
        cached = (key, BoulevardCalendar.from_settings())
        _local.calendar = cached
    return cached[1]


