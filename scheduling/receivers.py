"""Scheduling's answers to other apps' signals."""

import logging

from django.dispatch import receiver

from communications.signals import customer_forgotten
from scheduling.calendars import get_calendar
from scheduling.exceptions import CalendarUnavailable
from scheduling.models import Appointment

logger = logging.getLogger(__name__)


@receiver(customer_forgotten)
def rewrite_calendar_events_without_the_customer(sender, customer_id, **kwargs):
    """A forgotten customer's name and phone must leave the clinic's calendar too.

    Each event is rewritten from its (now anonymous) appointment. Runs after the commit; a
    calendar that is down is logged with the appointment ids to rewrite, never raised into
    the person who asked for the erasure.
    """
    calendar = get_calendar()
    appointments = (
        Appointment.objects.filter(customer_id=customer_id).exclude(calendar_event_id="")
        .exclude(status=Appointment.Status.CANCELLED).select_related("customer", "service", "provider")
    )
    for appointment in appointments:
        try:
            calendar.update_event(appointment=appointment)
        except CalendarUnavailable:
            logger.error("Calendar event of appointment %s still names a forgotten customer; rewrite it", appointment.pk)
