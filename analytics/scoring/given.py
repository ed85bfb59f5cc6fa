"""Scores given rather than asked for: conversations written with their scores already known (the demo
history, an import). They are filled in as a scorer's would be, and recorded with a ConversationScore
row like any scored conversation, so the dashboard and the figures cannot tell them apart.
"""

from dataclasses import dataclass, field

from analytics.models import ConversationScore


@dataclass
class GivenScore:
    outcome: str
    satisfaction_score: int | None
    sentiment: str
    summary: str
    frustration_indicators: list = field(default_factory=list)
    success_markers: list = field(default_factory=list)
    escalation_requested: bool = False

    def answer(self):
        """In the shape of a scorer's answer (analytics.scoring.schema)."""
        return {
            "outcome": self.outcome, "satisfaction_score": self.satisfaction_score, "sentiment": self.sentiment,
            "summary": self.summary, "frustration_indicators": self.frustration_indicators,
            "success_markers": self.success_markers, "escalation_requested": self.escalation_requested,
        }


def apply_given_score(conversation, score, *, scorer, version, scored_at):
    """Fill an unsaved conversation's results; returns its ConversationScore (how it was scored), to save after it."""
    conversation.outcome = score.outcome
    conversation.satisfaction_score = score.satisfaction_score
    conversation.sentiment = score.sentiment
    conversation.summary = score.summary
    conversation.frustration_indicators = score.frustration_indicators
    conversation.success_markers = score.success_markers
    return ConversationScore(
        conversation=conversation, status=ConversationScore.Status.SCORED, scorer=scorer, version=version,
        scored_at=scored_at, tries=1, escalation_requested=score.escalation_requested, answer=score.answer(),
    )


def write_given_scores(scores):
    """Save the ConversationScore rows apply_given_score returned (their conversations saved first)."""
    ConversationScore.objects.bulk_create(scores, batch_size=1000)
