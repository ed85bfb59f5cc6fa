"""Celery tasks for SMS and email, threads and retention: thin wrappers around communications' services."""

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from communications.messaging import delivery
from communications.recordings import remove_expired_recordings as remove_recordings
from communications.services import redact_expired_transcripts as redact_transcripts
from communications.threads import close_timed_out_threads as close_threads

log = logging.getLogger(__name__)

# Waits between tries stay far inside the broker's visibility timeout (settings: one hour).
MAX_RETRY_WAIT_SECONDS = 300


def retry_wait(retries):
    """Celery's exponential backoff with full jitter (as every task here waits): up to 5, 10, 20 … seconds,
    at most MAX_RETRY_WAIT_SECONDS."""
    return get_exponential_backoff_interval(factor=5, retries=retries, maximum=MAX_RETRY_WAIT_SECONDS,
                                            full_jitter=True)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver_outbound(self, outbound_id):
    """Send one queued text or email (idempotent: a claim). Retries passing failures with backoff."""
    retries = self.request.retries or 0
    result = delivery.deliver(outbound_id=outbound_id, final_try=retries >= settings.DELIVERY_MAX_RETRIES)
    if result.status == "retry":
        log.info("Delivery of %s failed (%s); try %d", outbound_id, result.error, retries + 2)
        # Returned, not raised: under a worker the next try is queued by now; run in-process, Celery's
        # apply() makes it at once instead of raising Retry into the sender.
        return self.retry(countdown=retry_wait(retries), max_retries=settings.DELIVERY_MAX_RETRIES, throw=False)
    return result.status


@shared_task(acks_late=True, ignore_result=True, reports="threads closed")
def close_timed_out_threads():
    """Beat: end SMS and email conversations idle past their thread window, so they are scored."""
    return len(close_threads())


@shared_task(acks_late=True, ignore_result=True, reports="transcripts redacted")
def redact_expired_transcripts():
    """Beat, nightly: erase the words of conversations past TRANSCRIPT_RETENTION_DAYS, keeping their figures."""
    count = redact_transcripts()
    if count:
        log.info("Retention: redacted %d conversations older than %d days", count, settings.TRANSCRIPT_RETENTION_DAYS)
    return count


@shared_task(acks_late=True, ignore_result=True,
             reports={"removed": "recordings removed", "files_deleted": "files deleted"})
def remove_expired_recordings():
    """Beat, nightly: remove recordings past RECORDING_RETENTION_DAYS (when set), and delete any file an
    earlier removal could not delete. The rows keep their figures."""
    result = remove_recordings()
    if result["removed"]:
        log.info("Retention: removed %d recordings older than %d days", result["removed"],
                 settings.RECORDING_RETENTION_DAYS)
    return result


# A recorded message Twilio will not hand over is retried for about half an hour, then left at its URL
# (VoiceCallDetail.recording_url keeps it whatever happens).
MESSAGE_FETCH_MAX_RETRIES = 8


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=MESSAGE_FETCH_MAX_RETRIES)
def store_call_message(self, conversation_id, duration=None):
    """Fetch a caller's recorded message from Twilio into the recordings storage (communications.calls)."""
    from communications import calls

    try:
        return calls.store_call_message(conversation_id=conversation_id, duration=duration)
    except calls.MessageFetchFailed as error:
        retries = self.request.retries or 0
        if retries >= MESSAGE_FETCH_MAX_RETRIES:
            log.error("Gave up fetching the recorded message of conversation %s: %s", conversation_id, error)
            return "failed"
        log.warning("Fetching the recorded message of conversation %s failed (%s); trying again", conversation_id,
                    error)
        return self.retry(countdown=retry_wait(retries), throw=False)
