"""A trigram index for the inbox's search in transcripts, on PostgreSQL only.

Django's icontains is `UPPER(content) LIKE UPPER(%s)` on PostgreSQL, so the index
is on UPPER(content). Measured (ARCHITECTURE.md): the first 20 matches among two
million messages in under a millisecond with it. SQLite has no such index and
needs none at demo sizes.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS message_content_trgm ON communications_message USING gin (UPPER(content) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS message_content_trgm"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("communications", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
