"""Boulevard's failures and refusals as what scheduling understands: unavailable, taken, needs a card."""

import logging

from django.utils import timezone

from scheduling.calendars.boulevard.caching import bump_generation
from scheduling.calendars.boulevard.client import BoulevardDown, BoulevardRefused
from scheduling.exceptions import BookingRefused, CalendarUnavailable, SlotTaken
from scheduling.spoken import spoken_datetime

logger = logging.getLogger(__name__)

TAKEN_CODES = {"BOOKABLE_TIME_UNAVAILABLE"}
CARD_CODES = {"CART_MISSING_ITEM_PAYMENT_METHOD"}


class BoulevardErrors:
    """How BoulevardCalendar turns a failed or refused call into a scheduling error."""

    def _taken(self, appointment, *, moving=False):
        """SlotTaken with fresh alternatives (the cached times are cleared first)."""
        from scheduling.availability import nearest_openings
        from scheduling.exceptions import SchedulingError

        bump_generation()
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

    def _call(self, work):
        try:
            return work()
        except (BoulevardDown, BoulevardRefused) as error:
            logger.warning("Boulevard failed: %s", error)
            raise CalendarUnavailable() from error
