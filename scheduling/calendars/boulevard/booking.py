"""Booking, moving and cancelling in Boulevard: the cart, its reservation and checkout, and the
appointment's reschedule and cancellation."""

import logging
from datetime import datetime

from scheduling.calendars.boulevard.availability import variant_for
from scheduling.calendars.boulevard.caching import bump_generation
from scheduling.calendars.boulevard.client import BoulevardDown, BoulevardRefused
from scheduling.calendars.boulevard.errors import CARD_CODES, TAKEN_CODES
from scheduling.exceptions import BookingRefused, CalendarUnavailable

logger = logging.getLogger(__name__)


class BoulevardBooking:
    """BoulevardCalendar's writes: each returns Boulevard's appointment id or raises a scheduling error."""

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
        bump_generation()
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
        bump_generation()
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
        bump_generation()
        from scheduling.models import Appointment

        if appointment.status == Appointment.Status.CANCELLED and answer is not None:
            reason = (answer.get("cancellation") or {}).get("reason", "")
            appointment.late_cancellation = reason == "CLIENT_LATE_CANCEL"
            appointment.metadata = {**appointment.metadata,
                                    "boulevard": {**appointment.metadata.get("boulevard", {}), "cancellation": reason}}
            appointment.save(update_fields=["late_cancellation", "metadata", "updated_at"])

    def _remote_start(self, appointment):
        found = self._call(lambda: self._execute("Appointment", {"id": appointment.calendar_event_id}))["appointment"]
        return datetime.fromisoformat(found["startAt"]) if found else None


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

