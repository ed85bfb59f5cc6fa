"""Signal receivers, connected in AnalyticsConfig.ready()."""

import logging

from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def enqueue_scoring(sender, conversation_id, **kwargs):
    """A conversation ended (communications sends this after the commit): score it in the background."""
    from analytics.tasks import score_conversation

    try:
        score_conversation.delay(str(conversation_id))
    except OperationalError:
        # The broker is down. Ending the conversation must not fail for it; the
        # close_stale_conversations beat requeues conversations left unscored.
        log.exception("Could not enqueue scoring of conversation %s", conversation_id)
