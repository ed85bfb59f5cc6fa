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


# The scorer's answer keeps its figures; its words about the conversation go with the conversation's.
_SCORE_FIGURES = ("satisfaction_score", "sentiment", "outcome", "escalation_requested")


def redact_scores(sender, conversation_ids, **kwargs):
    """Conversations' words were erased (retention, a forgotten customer): erase the scorer's notes on them too.

    Runs inside the transaction that redacted them. Scores, outcomes and the daily metrics stay.
    """
    from analytics.models import ConversationScore

    scores = list(ConversationScore.objects.filter(conversation_id__in=conversation_ids))
    for score in scores:
        score.answer = {key: score.answer[key] for key in _SCORE_FIGURES if key in (score.answer or {})}
        score.overridden = {key: True for key in (score.overridden or {})}
        score.failure_reason = ""
    ConversationScore.objects.bulk_update(scores, ["answer", "overridden", "failure_reason"], batch_size=500)
