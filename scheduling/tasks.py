"""Scheduling's background work: the Boulevard catalogue sync (beat, hourly)."""

import logging

from celery import shared_task
from django.conf import settings

from scheduling.exceptions import CalendarUnavailable

logger = logging.getLogger(__name__)


@shared_task(bind=True, ignore_result=True, max_retries=3)
def sync_boulevard_catalogue(self):
    """Bring Boulevard's services, staff and location into the catalogue; nothing to do on other backends.

    Idempotent (rows are matched by Boulevard's ids); retried with backoff when Boulevard is down.
    """
    if settings.CALENDAR_BACKEND != "boulevard":
        return None
    from scheduling.calendars import get_calendar
    from scheduling.calendars.boulevard.sync import sync_catalogue

    try:
        counts = sync_catalogue(calendar=get_calendar())
    except CalendarUnavailable as error:
        raise self.retry(exc=error, countdown=min(600, 60 * 2 ** self.request.retries)) from error
    logger.info("Boulevard catalogue synced: %s", counts)
    return counts
