"""Celery tasks of the receptionist: answering texts and emails, and appointment reminders.

`reply_to_conversation` is enqueued when communications announces `reply_needed` (after the
inbound message commits), so the webhook answers the provider at once.
"""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.dispatch import receiver

from communications.messaging import reply_needed
from communications.tasks import retry_wait
from receptionist import notifications, text_agent

log = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 3
EAGER_BUSY_WAITS = 50  # × 0.2 s: in-process (no broker), wait for the other reply to finish


@receiver(reply_needed, dispatch_uid="receptionist.tasks.enqueue_reply")
def enqueue_reply(sender, conversation_id, **kwargs):
    reply_to_conversation.delay(str(conversation_id))


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def reply_to_conversation(self, conversation_id):
    """Answer a text conversation's new messages (idempotent). Retries while OpenAI is unavailable."""
    retries = self.request.retries or 0
    result = text_agent.reply_to_conversation(conversation_id=conversation_id,
                                              final_try=retries >= settings.TEXT_AGENT_MAX_RETRIES)
    if self.request.is_eager:
        waits = 0
        while result.status == "busy" and waits < EAGER_BUSY_WAITS:
            time.sleep(0.2)
            waits += 1
            result = text_agent.reply_to_conversation(conversation_id=conversation_id)
        if result.status == "retry":
            return self.apply(args=[conversation_id], retries=retries + 1).result
        return result.status
    if result.status == "busy":
        # Another worker is writing this conversation's reply; look again when it is done.
        raise self.retry(countdown=BUSY_RETRY_SECONDS, max_retries=None)
    if result.status == "retry":
        log.info("Reply to %s: %s; try %d", conversation_id, result.error, retries + 2)
        raise self.retry(countdown=retry_wait(retries), max_retries=settings.TEXT_AGENT_MAX_RETRIES)
    return result.status


@shared_task(acks_late=True, ignore_result=True, reports="reminders sent")
def send_appointment_reminders():
    """Beat: remind customers of appointments REMINDER_HOURS_BEFORE ahead; each reminder goes once."""
    return notifications.send_reminders()
