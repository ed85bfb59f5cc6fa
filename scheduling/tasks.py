"""Scheduling's background work: the Boulevard catalogue sync (beat, hourly)."""

import logging

from celery import shared_task
from django.conf import settings

from scheduling.exceptions import CalendarUnavailable

logger = logging.getLogger(__name__)


# Boulevard down: Celery's own exponential backoff with full jitter (up to 60, 120, 240 s), three times.
@shared_task(ignore_result=True, autoretry_for=(CalendarUnavailable,), max_retries=3, retry_backoff=60,
             retry_backoff_max=600, retry_jitter=True)
def sync_boulevard_catalogue():
    """Bring Boulevard's services, staff and location into the catalogue; nothing to do on other backends.

    Idempotent (rows are matched by Boulevard's ids); retried with backoff when Boulevard is down.
    """
    if settings.CALENDAR_BACKEND != "boulevard":
        return None
    from scheduling.calendars import get_calendar
    from scheduling.calendars.boulevard.sync import sync_catalogue

    counts = sync_catalogue(calendar=get_calendar())
    logger.info("Boulevard catalogue synced: %s", counts)
    return counts
