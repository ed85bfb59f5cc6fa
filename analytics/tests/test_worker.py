"""A real Celery worker on Redis scores a conversation that ends, and tries again after a 429 (runs in CI, where
REDIS_URL is set)."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from analytics.models import ConversationScore
from ava.celery import app
from communications.models import Conversation
from communications.services import end_conversation

from .helpers import ASSISTANT, CUSTOMER, make_conversation

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs a broker: set REDIS_URL (CI does) to run a real worker"),
]

ANSWER = {
    "satisfaction_score": 9, "sentiment": "positive", "frustration_indicators": [],
    "success_markers": ["hours given"], "outcome": "info_only",
    "summary": "The caller asked when the clinic opens and got the hours.", "escalation_requested": False,
}


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_scores_a_conversation_when_it_ends(clinic, fake_openai):
    assert not app.conf.task_always_eager, "with REDIS_URL set, tasks must go through the broker"
    conversation = make_conversation(at=timezone.now() - timedelta(minutes=2), lines=[
        (CUSTOMER, "When do you open tomorrow?"), (ASSISTANT, "We open at 9."),
    ], end=False)
    fake_openai.structured(ANSWER)
    app.control.purge()  # nothing left over in this Redis db from an earlier run

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # Here commits are real: the signal fires on commit and the task goes to Redis.
        end_conversation(conversation_id=conversation.pk)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            score = ConversationScore.objects.filter(conversation=conversation).first()
            if score and score.status != "pending":
                break
            time.sleep(0.1)

    score = ConversationScore.objects.get(conversation=conversation)
    assert (score.status, score.failure_reason, score.scorer, score.claimed_at) == ("scored", "", "openai", None)
    assert score.scored_at is not None
    conversation.refresh_from_db()
    assert (conversation.outcome, conversation.satisfaction_score) == ("info_only", 9)
    assert len(fake_openai.requests) == 1


def wait_for_a_verdict(conversation, *, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        score = ConversationScore.objects.filter(conversation=conversation).first()
        if score and score.status != "pending":
            return score
        time.sleep(0.1)
    return None


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_tries_again_after_a_rate_limit(clinic, fake_openai, settings):
    settings.ANALYTICS_SCORING_RETRY_BASE_DELAY = 1  # Celery's backoff: the next try within a second
    conversation = make_conversation(at=timezone.now() - timedelta(minutes=2), lines=[
        (CUSTOMER, "When do you open tomorrow?"), (ASSISTANT, "We open at 9."),
    ], end=False)
    fake_openai.rate_limited().structured(ANSWER)
    app.control.purge()

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        end_conversation(conversation_id=conversation.pk)
        score = wait_for_a_verdict(conversation)

    assert score is not None and (score.status, score.tries, score.claimed_at) == ("scored", 2, None)
    assert len(fake_openai.requests) == 2
    assert Conversation.objects.get(pk=conversation.pk).satisfaction_score == 9
