"""Indexes for the customers page with 100,000 customers, on PostgreSQL only.

The page lists customers by last contact by walking conversations from the most recent
activity (communications.selectors.customers_by_last_contact): `conv_customer_activity` lets
PostgreSQL read them in that order and stop at the page's end. A search matches part of a
name or an email (icontains: UPPER(col) LIKE UPPER('%q%')) or digits inside a phone (LIKE
'%digits%'): trigram indexes answer those without reading every customer, and
`conv_customer_last_activity` then finds the few matches' conversations. Figures in
bench/README.md ("Customers page"). Built CONCURRENTLY, so the dashboard keeps working while
they build. SQLite needs none of this at demo sizes.
"""

from django.db import migrations

INDEXES = {
    "conv_customer_activity": "communications_conversation (last_activity_at DESC, id DESC) WHERE customer_id IS NOT NULL",
    # With the id too, a search's matches' conversations are read from the index alone (no table rows).
    "conv_customer_last_activity": "communications_conversation (customer_id, last_activity_at DESC, id DESC)",
    "customer_name_trgm": "communications_customer USING gin (UPPER(name) gin_trgm_ops)",
    "customer_email_trgm": "communications_customer USING gin (UPPER(email) gin_trgm_ops)",
    "customer_phone_trgm": "communications_customer USING gin (phone gin_trgm_ops)",
    # The page leaves forgotten customers out; they are few, and this finds them without reading everyone.
    "customer_forgotten": "communications_customer (id) WHERE forgotten_at IS NOT NULL",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # 0002 made it; harmless again
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("communications", "0007_whatsapp_channel")]
    operations = [migrations.RunPython(forwards, backwards)]
