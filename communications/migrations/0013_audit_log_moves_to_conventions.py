"""The audit log now belongs to conventions (its 0001): removed from communications' state only, so the
table communications_auditentry and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("communications", "0012_conversation_reply_claim"),
        ("conventions", "0001_audit_log"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AuditEntry")],
            database_operations=[],
        ),
    ]
