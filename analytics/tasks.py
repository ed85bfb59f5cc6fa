"""Celery tasks: thin wrappers that parse ids and dates and call analytics.services."""

import logging

from celery import shared_task
from django.conf import settings

from analytics import services
from analytics.backoff import retry_countdown
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def score_conversation(self, conversation_id, force=False):
    """Score one ended conversation (idempotent: a claim; `force` rescores a scored or failed one).

    Retries with backoff and jitter on 429, 5xx and timeouts; the last try records the failure.
    Returns the status: scored, failed, or why there was nothing to do (missing, active, …).
    """
    retries = self.request.retries or 0
    result = services.score_conversation(
        conversation_id=conversation_id, force=force, tries=retries + 1,
        final_try=retries >= settings.ANALYTICS_SCORING_MAX_RETRIES,
    )
    if result.status == "retry":
        if self.request.is_eager:
            # No broker (the embedded default, tests): Celery would raise Retry into whoever
            # ended the conversation, as eager errors propagate. Try again at once instead.
            log.info("Scoring %s: %s; try %d now (eager)", conversation_id, result.reason, retries + 2)
            return self.apply(args=[conversation_id], kwargs={"force": force}, retries=retries + 1).result
        countdown = retry_countdown(retries, retry_after=result.retry_after)
        log.info("Scoring %s: %s; try %d in %.0f s", conversation_id, result.reason, retries + 2, countdown)
        raise self.retry(countdown=countdown, max_retries=settings.ANALYTICS_SCORING_MAX_RETRIES)
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
