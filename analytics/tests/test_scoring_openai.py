"""Scoring against a local OpenAI HTTP server, through the real SDK and the real Celery task (eager)."""

import threading
import uuid
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection

from analytics import selectors, services, tasks
from analytics.models import ConversationScore
from communications.models import Conversation
from tests.fakes.openai_http import Reply

from .helpers import ASSISTANT, CUSTOMER, book, make_conversation, tool

pytestmark = pytest.mark.django_db

AT = datetime(2025, 6, 3, 14, 0, tzinfo=dt_timezone.utc)

ANSWER = {
    "satisfaction_score": 8,
    "sentiment": "positive",
    "frustration_indicators": [],
    "success_markers": ["question answered", "customer thanked Ava"],
    "outcome": "info_only",
    "summary": "The caller asked about HydraFacial prices. Ava answered and the caller thanked her.",
    "escalation_requested": False,
}


def talk(**kwargs):
    return make_conversation(at=AT, lines=[
        (CUSTOMER, "How much is a HydraFacial?"),
        tool("get_service_info", {"service": "hydrafacial"}, {"price": "$199"}),
        (ASSISTANT, "A HydraFacial is $199."),
        (CUSTOMER, "Great, thank you!"),
    ], **kwargs)


def score(conversation, **kwargs):
    return tasks.score_conversation.delay(str(conversation.pk), **kwargs).get()


def test_it_saves_the_models_structured_answer(clinic, fake_openai):
    conversation = talk()
    fake_openai.structured(ANSWER)

    assert score(conversation) == "scored"

    assert len(fake_openai.requests) == 1
    sent = fake_openai.requests[0].json
    assert fake_openai.requests[0].path == "/v1/chat/completions"
    assert sent["model"] == "gpt-scoring-test"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    schema = sent["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == set(ANSWER) and schema["additionalProperties"] is False
    transcript = sent["messages"][-1]["content"]
    assert "Caller: How much is a HydraFacial?" in transcript
    assert '[tool call] get_service_info({"service": "hydrafacial"}) -> {"price": "$199"}' in transcript
    assert "Ava (assistant): A HydraFacial is $199." in transcript

    conversation.refresh_from_db()
    assert conversation.score.scorer == "openai"
    assert conversation.score.scored_at is not None and conversation.score.claimed_at is None
    assert (conversation.satisfaction_score, conversation.sentiment, conversation.outcome) == (8, "positive", "info_only")
    assert conversation.summary == ANSWER["summary"]
    assert conversation.success_markers == ANSWER["success_markers"]
    assert conversation.score.version.endswith("gpt-scoring-test")
    record = ConversationScore.objects.get(conversation=conversation)
    assert (record.status, record.prompt_tokens, record.completion_tokens, record.tries) == ("scored", 120, 40, 1)


def test_a_second_enqueue_does_not_score_again(clinic, fake_openai):
    conversation = talk()
    fake_openai.structured(ANSWER)
    score(conversation)

    assert score(conversation) == "already_scored"
    assert len(fake_openai.requests) == 1


def test_it_retries_after_a_429_and_then_scores(clinic, fake_openai):
    conversation = talk()
    fake_openai.rate_limited(retry_after=1).structured(ANSWER)

    assert score(conversation) == "scored"

    assert len(fake_openai.requests) == 2
    conversation.refresh_from_db()
    assert conversation.outcome == "info_only" and conversation.score.failure_reason == ""
    assert ConversationScore.objects.get(conversation=conversation).tries == 2


def test_it_retries_a_server_error(clinic, fake_openai):
    conversation = talk()
    fake_openai.server_error(503).structured(ANSWER)

    assert score(conversation) == "scored"
    assert len(fake_openai.requests) == 2


def test_a_timeout_is_retried(clinic, fake_openai, settings):
    settings.ANALYTICS_SCORING_TIMEOUT = 0.5
    conversation = talk()
    fake_openai.hang(10).structured(ANSWER)

    assert score(conversation) == "scored"

    assert len(fake_openai.requests) == 2
    assert fake_openai.requests[1].at - fake_openai.requests[0].at < 5  # gave up on the hang, did not wait it out
    conversation.refresh_from_db()
    assert conversation.sentiment == "positive"


def test_invalid_json_is_asked_for_once_more(clinic, fake_openai):
    conversation = talk()
    fake_openai.text("Sure! Here is the score: 8/10").structured(ANSWER)

    assert score(conversation) == "scored"
    assert len(fake_openai.requests) == 2


def test_invalid_json_twice_marks_the_conversation_scoring_failed(clinic, fake_openai):
    conversation = talk()
    fake_openai.text('{"satisfaction_score": 8, "sentiment": "pos').text("not json either")

    assert score(conversation) == "failed"

    assert len(fake_openai.requests) == 2
    conversation.refresh_from_db()
    record = ConversationScore.objects.get(conversation=conversation)
    assert record.scored_at is None and record.claimed_at is None
    assert record.status == "failed" and record.failure_reason.startswith("invalid answer twice")
    assert "not JSON" in record.failure_reason
    assert [f["conversation_id"] for f in selectors.scoring_failures()] == [conversation.pk]
    # A failed conversation is not retried by another enqueue, only when asked (force).
    assert score(conversation) == "already_failed"
    assert len(fake_openai.requests) == 2


def test_an_answer_outside_the_schema_counts_as_invalid(clinic, fake_openai):
    conversation = talk()
    fake_openai.structured({**ANSWER, "satisfaction_score": 42}).structured({**ANSWER, "outcome": "happy"})

    assert score(conversation) == "failed"
    conversation.refresh_from_db()
    assert "outcome 'happy'" in conversation.score.failure_reason


def test_exhausted_quota_is_not_retried(clinic, fake_openai):
    conversation = talk()
    fake_openai.quota_exhausted().structured(ANSWER)

    assert score(conversation) == "failed"

    assert len(fake_openai.requests) == 1
    conversation.refresh_from_db()
    assert "quota" in conversation.score.failure_reason and conversation.score.scored_at is None


def test_an_invalid_request_is_not_retried(clinic, fake_openai):
    conversation = talk()
    fake_openai.error(400, "Invalid schema for response_format 'conversation_score'").structured(ANSWER)

    assert score(conversation) == "failed"

    assert len(fake_openai.requests) == 1
    conversation.refresh_from_db()
    assert "Invalid schema" in conversation.score.failure_reason


def test_it_gives_up_after_the_last_retry(clinic, fake_openai, settings):
    settings.ANALYTICS_SCORING_MAX_RETRIES = 2
    conversation = talk()
    fake_openai.default = Reply(status=503, body={"error": {"message": "overloaded", "type": "server_error"}})

    assert score(conversation) == "failed"

    assert len(fake_openai.requests) == 3
    conversation.refresh_from_db()
    assert conversation.score.failure_reason.startswith("gave up after 3 tries")
    assert conversation.score.tries == 3


def test_force_scores_a_scored_conversation_again(clinic, fake_openai):
    conversation = talk()
    fake_openai.structured(ANSWER).structured({**ANSWER, "satisfaction_score": 5, "sentiment": "mixed"})
    score(conversation)

    assert score(conversation, force=True) == "scored"

    assert len(fake_openai.requests) == 2
    conversation.refresh_from_db()
    assert (conversation.satisfaction_score, conversation.sentiment) == (5, "mixed")


def test_force_rescores_a_failed_conversation(clinic, fake_openai):
    conversation = talk()
    fake_openai.quota_exhausted().structured(ANSWER)
    score(conversation)

    assert score(conversation, force=True) == "scored"
    conversation.refresh_from_db()
    assert conversation.score.failure_reason == "" and conversation.score.scored_at is not None
    assert conversation.score.status == "scored"


def test_a_booking_in_the_conversation_beats_the_models_outcome(clinic, fake_openai):
    conversation = make_conversation(at=AT, lines=[
        (CUSTOMER, "Can I book a HydraFacial Friday at 10?"),
        tool("book_appointment", {"service": "hydrafacial"}, {"appointment_id": 1}),
        (ASSISTANT, "You're booked for Friday at 10."),
    ])
    book(conversation, start=AT + timedelta(days=3))
    fake_openai.structured({**ANSWER, "outcome": "unresolved"})

    score(conversation)

    conversation.refresh_from_db()
    assert conversation.outcome == "booked"
    record = ConversationScore.objects.get(conversation=conversation)
    assert record.answer["outcome"] == "unresolved"
    assert record.overridden == {"outcome": {"scorer": "unresolved", "data": "booked"}}


def test_a_transfer_makes_the_outcome_escalated(clinic, fake_openai):
    conversation = make_conversation(at=AT, lines=[
        (CUSTOMER, "I need to talk to someone about a reaction."),
        ("escalated", "possible adverse reaction"),
    ])
    fake_openai.structured({**ANSWER, "outcome": "info_only", "escalation_requested": True})

    score(conversation)

    conversation.refresh_from_db()
    assert conversation.outcome == "escalated"
    assert ConversationScore.objects.get(conversation=conversation).escalation_requested is True
    assert "[transferred to staff: possible adverse reaction]" in fake_openai.requests[0].json["messages"][-1]["content"]


def test_a_caller_who_said_nothing_is_abandoned_and_never_sent_to_the_model(clinic, fake_openai):
    conversation = make_conversation(at=AT, lines=[
        (ASSISTANT, "Thank you for calling. How can I help you today?"),
        (CUSTOMER, "   "),
    ])

    assert score(conversation) == "scored"

    assert fake_openai.requests == []
    conversation.refresh_from_db()
    assert (conversation.outcome, conversation.score.scorer, conversation.satisfaction_score) == ("abandoned", "rules", None)


def test_a_call_that_failed_before_the_caller_spoke_is_failed_not_abandoned(clinic, fake_openai):
    conversation = make_conversation(at=AT, lines=[], status=Conversation.Status.FAILED, end_reason="upstream_unavailable")

    assert score(conversation) == "scored"

    assert fake_openai.requests == []
    conversation.refresh_from_db()
    assert (conversation.status, conversation.outcome, conversation.score.scorer) == ("failed", "failed", "rules")


def test_a_vanished_conversation_is_nothing_to_do(clinic, fake_openai):
    assert tasks.score_conversation.delay(str(uuid.uuid4())).get() == "missing"
    assert fake_openai.requests == []


def test_an_active_conversation_is_not_scored(clinic, fake_openai):
    conversation = talk(end=False)

    assert score(conversation) == "active"
    assert fake_openai.requests == []


def test_a_claim_is_taken_once(clinic):
    conversation = talk()

    first = services.claim_for_scoring(conversation_id=conversation.pk)
    second = services.claim_for_scoring(conversation_id=conversation.pk)

    assert first is not None and second is None


def test_a_stale_claim_can_be_taken_again(clinic, settings):
    conversation = talk()
    taken = services.claim_for_scoring(conversation_id=conversation.pk)
    soon = taken + timedelta(seconds=settings.ANALYTICS_SCORING_CLAIM_TIMEOUT - 1)
    later = taken + timedelta(seconds=settings.ANALYTICS_SCORING_CLAIM_TIMEOUT + 1)

    assert services.claim_for_scoring(conversation_id=conversation.pk, now=soon) is None
    assert services.claim_for_scoring(conversation_id=conversation.pk, now=later) == later


def test_a_worker_whose_claim_was_taken_over_does_not_write(clinic, fake_openai, settings):
    conversation = talk()
    fake_openai.structured(ANSWER)
    taken = services.claim_for_scoring(conversation_id=conversation.pk)
    # The first worker looked dead; a second one took the claim and is scoring now.
    ConversationScore.objects.filter(pk=conversation.pk).update(claimed_at=taken + timedelta(hours=1))

    assert services._save_score(
        conversation_id=conversation.pk, claimed_at=taken, final=ANSWER, answer=ANSWER, overridden={},
        scorer="openai", version="x", tries=1, usage={},
    ) is False
    assert ConversationScore.objects.get(pk=conversation.pk).scored_at is None
    assert Conversation.objects.get(pk=conversation.pk).summary == ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="racing workers need a database that serves two writers: SQLite's in-memory test database locks "
           "the whole table across threads (and the embedded default has no second worker); CI runs it on PostgreSQL",
)
def test_two_workers_racing_for_one_conversation_make_one_model_call(clinic, fake_openai):
    # Closed on the model (no signal): here commits are real, and the signal would score it at once.
    conversation = talk(end=False)
    conversation.close(at=AT + timedelta(minutes=2))
    # The answer comes slowly, so both workers are inside scoring at the same time.
    fake_openai.structured(ANSWER, delay=0.5).structured(ANSWER)
    start = threading.Barrier(2)
    results = []

    def worker():
        try:
            start.wait()
            results.append(tasks.score_conversation.apply(args=[str(conversation.pk)]).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(results) == ["claimed_elsewhere", "scored"]
    assert len(fake_openai.requests) == 1
    conversation.refresh_from_db()
    assert conversation.outcome == "info_only"
