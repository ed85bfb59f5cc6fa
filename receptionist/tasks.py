"""Celery tasks of the receptionist: answering texts and emails, and appointment reminders.

`reply_to_conversation` is enqueued when communications announces `reply_needed` (after the
inbound message commits), so the webhook answers the provider at once.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.dispatch import receiver

from communications.messaging import reply_needed
from communications.tasks import retry_wait
from receptionist import notifications, text_agent

log = logging.getLogger(__name__)


@receiver(reply_needed, dispatch_uid="receptionist.tasks.enqueue_reply")
def enqueue_reply(sender, conversation_id, **kwargs):
    reply_to_conversation.delay(str(conversation_id))


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def reply_to_conversation(self, conversation_id):
    """Answer a text conversation's new messages (idempotent). Retries while OpenAI is unavailable.

    A conversation another worker is answering is left to it ("busy"): that worker answers what came
    meanwhile before it lets go (text_agent.reply_to_conversation), so this task neither waits nor retries.
    """
    retries = self.request.retries or 0
    result = text_agent.reply_to_conversation(conversation_id=conversation_id, owner=self.request.id,
                                              final_try=retries >= settings.TEXT_AGENT_MAX_RETRIES)
    if result.status == "retry":
        log.info("Reply to %s: %s; try %d", conversation_id, result.error, retries + 2)
        # Returned, not raised: under a worker the next try is queued by now; run in-process, Celery's
        # apply() makes it at once instead of raising Retry into the webhook.
        return self.retry(countdown=retry_wait(retries), max_retries=settings.TEXT_AGENT_MAX_RETRIES, throw=False)
    return result.status


@shared_task(acks_late=True, ignore_result=True)
def tell_front_desk(conversation_id):
    """Tell the front desk a phone caller left a message (idempotent: once per message; delivery retries)."""
    return len(notifications.tell_front_desk(conversation_id=conversation_id))


@shared_task(acks_late=True, ignore_result=True, reports="reminders sent")
def send_appointment_reminders():
    """Beat: remind customers of appointments REMINDER_HOURS_BEFORE ahead; each reminder goes once."""
    return notifications.send_reminders()
