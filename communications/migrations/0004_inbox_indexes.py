"""Indexes for the inbox's filters with a million conversations, on PostgreSQL only.

The inbox lists the newest conversations that match its filters. With an index per filter
that also holds started_at, PostgreSQL reads the newest matches in order and stops at the
page's end instead of sorting every match. Measured with 1,000,000 conversations
(bench/README.md, "Dashboard pages"), p95: escalated + negative 326-358 -> 87-137 ms, the
month by best score 76-98 -> 15-19 ms, a voice-only page 56-64 -> 13-16 ms. The partial index on escalated keeps it
small (escalations are a few percent). Built CONCURRENTLY, so a live inbox keeps working while
they build. SQLite needs none of this at demo sizes.
"""

from django.db import migrations

INDEXES = {
    "conv_escalated_started": "(started_at DESC) WHERE escalated",
    "conv_sentiment_started": "(sentiment, started_at DESC)",
    "conv_outcome_started": "(outcome, started_at DESC)",
    "conv_score_started": "(satisfaction_score DESC NULLS LAST, started_at DESC)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON communications_conversation {definition}"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("communications", "0003_outbound_message")]
    operations = [migrations.RunPython(forwards, backwards)]
