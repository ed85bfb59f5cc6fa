"""Celery tasks: thin wrappers that parse ids and dates and call analytics.services."""

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from analytics import services
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)


def longest_wait():
    """The cap on one wait between tries.

    Redis keeps a task that waits (a countdown) unacknowledged; past the broker's visibility timeout it
    hands the task to a second worker. So each wait is capped such that all of them together stay within
    a quarter of that timeout, and within ANALYTICS_SCORING_RETRY_MAX_DELAY.
    """
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    per_try_share = visibility / (4 * max(1, settings.ANALYTICS_SCORING_MAX_RETRIES))
    return int(min(settings.ANALYTICS_SCORING_RETRY_MAX_DELAY, per_try_share))


def retry_wait(retries, *, retry_after=None):
    """Seconds before try number `retries + 2`: Celery's exponential backoff with full jitter (the one the
    project's tasks share), from ANALYTICS_SCORING_RETRY_BASE_DELAY up to longest_wait(). A server's
    Retry-After is honoured when longer, within the same cap."""
    cap = longest_wait()
    wait = get_exponential_backoff_interval(
        factor=max(1, int(settings.ANALYTICS_SCORING_RETRY_BASE_DELAY)), retries=retries, maximum=cap,
        full_jitter=True,
    )
    if retry_after:
        wait = max(wait, min(float(retry_after), cap))
    return wait


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def score_conversation(self, conversation_id, force=False):
    """Score one ended conversation (idempotent: a claim; `force` rescores a scored or failed one).

    Retries on 429, 5xx and timeouts after retry_wait(); the last try records the failure. Returns the
    status: scored, failed, or why there was nothing to do (missing, active, …).
    """
    retries = self.request.retries or 0
    result = services.score_conversation(
        conversation_id=conversation_id, force=force, tries=retries + 1,
        final_try=retries >= settings.ANALYTICS_SCORING_MAX_RETRIES,
    )
    if result.status == "retry":
        countdown = retry_wait(retries, retry_after=result.retry_after)
        log.info("Scoring %s: %s; try %d in %.0f s", conversation_id, result.reason, retries + 2, countdown)
        # Returned, not raised: under a worker the next try is queued by now; run in-process, Celery's
        # apply() makes it at once instead of raising Retry into whoever ended the conversation.
        return self.retry(countdown=countdown, max_retries=settings.ANALYTICS_SCORING_MAX_RETRIES, throw=False)
    return result.status


@shared_task(acks_late=True, ignore_result=True, reports={"closed": "calls closed", "requeued": "scorings requeued"})
def close_stale_conversations():
    """Beat: close conversations nobody closed (their ending enqueues scoring), and requeue lost scorings."""
    closed = services.close_stale_conversations()
    requeued = services.conversations_left_unscored()
    for conversation_id in requeued:
        score_conversation.delay(str(conversation_id))
    return {"closed": len(closed), "requeued": len(requeued)}


@shared_task(acks_late=True, ignore_result=True, reports="day rolled up")
def rollup_daily_metrics(date=None):
    """Upsert the DailyMetric rows of one clinic-local day: None/"today", "yesterday" or "YYYY-MM-DD"."""
    clinic = ClinicSettings.load()
    day = services.resolve_rollup_date(date, today=clinic.local_now().date())
    services.rollup_day(day=day, tz=clinic.tz)
    return day.isoformat()
