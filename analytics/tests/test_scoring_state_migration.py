"""Moving scoring's state from Conversation to ConversationScore keeps every conversation's values, both ways."""

import uuid
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("analytics", "0004_dailymetric_cost"), ("communications", "0009_usage_records")]
AFTER = [("analytics", "0005_scoring_state"), ("communications", "0010_scoring_state_moves_to_analytics")]
AT = datetime(2026, 3, 2, 15, 0, tzinfo=dt_timezone.utc)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_each_conversations_scoring_state_moves_to_analytics_and_back(old_schema):
    Conversation = old_schema.get_model("communications", "Conversation")
    OldScore = old_schema.get_model("analytics", "ConversationScore")

    def conversation(**fields):
        return Conversation.objects.create(id=uuid.uuid4(), channel="voice", status="completed", started_at=AT,
                                           ended_at=AT + timedelta(minutes=3), **fields)

    scored = conversation(scored_at=AT + timedelta(minutes=4), scorer="openai", scorer_version="score-3/gpt-x",
                          outcome="booked")
    OldScore.objects.create(conversation_id=scored.pk, status="scored", scorer="openai", model="gpt-x", tries=2)
    failed = conversation(scoring_error="scoring_failed: gave up after 3 tries: 503", scorer="openai")
    claimed = conversation(scoring_started_at=AT + timedelta(minutes=5))
    untouched = conversation()

    new = migrate(AFTER)
    Score = new.get_model("analytics", "ConversationScore")
    rows = {row.conversation_id: row for row in Score.objects.all()}
    assert set(rows) == {scored.pk, failed.pk, claimed.pk}  # nothing made up for the untouched one
    assert (rows[scored.pk].status, rows[scored.pk].scored_at, rows[scored.pk].scorer, rows[scored.pk].version,
            rows[scored.pk].model, rows[scored.pk].tries) == (
        "scored", AT + timedelta(minutes=4), "openai", "score-3/gpt-x", "gpt-x", 2)
    assert (rows[failed.pk].status, rows[failed.pk].failure_reason, rows[failed.pk].scored_at) == (
        "failed", "gave up after 3 tries: 503", None)
    assert (rows[claimed.pk].status, rows[claimed.pk].claimed_at) == ("pending", AT + timedelta(minutes=5))
    assert new.get_model("communications", "Conversation").objects.get(pk=scored.pk).outcome == "booked"

    back = migrate(BEFORE)
    Conversation = back.get_model("communications", "Conversation")
    assert list(Conversation.objects.filter(pk=scored.pk).values_list("scored_at", "scorer", "scorer_version")) == [
        (AT + timedelta(minutes=4), "openai", "score-3/gpt-x")]
    assert Conversation.objects.get(pk=failed.pk).scoring_error == "scoring_failed: gave up after 3 tries: 503"
    assert Conversation.objects.get(pk=claimed.pk).scoring_started_at == AT + timedelta(minutes=5)
    assert Conversation.objects.get(pk=untouched.pk).scored_at is None
