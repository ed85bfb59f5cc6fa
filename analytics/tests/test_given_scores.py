"""Scores given rather than asked for (the demo history): recorded as a scorer's are."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from analytics.models import ConversationScore
from analytics.scoring.given import GivenScore, apply_given_score, write_given_scores
from communications.models import Conversation

pytestmark = pytest.mark.django_db
AT = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_a_given_score_is_recorded_like_a_scorers():
    conversation = Conversation(id=uuid.uuid4(), channel="sms", started_at=AT, ended_at=AT + timedelta(minutes=2),
                                status=Conversation.Status.COMPLETED)
    score = apply_given_score(
        conversation, GivenScore(outcome="info_only", satisfaction_score=8, sentiment="positive",
                                      summary="Asked the hours."),
        scorer="demo", version="1", scored_at=AT + timedelta(minutes=5),
    )

    conversation.save()
    write_given_scores([score])

    saved = Conversation.objects.get(pk=conversation.pk)
    assert (saved.outcome, saved.satisfaction_score, saved.summary) == ("info_only", 8, "Asked the hours.")
    row = ConversationScore.objects.get(conversation=saved)
    assert (row.status, row.scorer, row.version, row.scored_at, row.answer["summary"]) == (
        "scored", "demo", "1", AT + timedelta(minutes=5), "Asked the hours.")
