"""Moving the audit log from communications to conventions moves no rows: every entry is still read, both ways."""

from datetime import datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("communications", "0012_conversation_reply_claim"), ("conventions", None)]
AFTER = [("communications", "0013_audit_log_moves_to_conventions"), ("conventions", "0001_audit_log")]
AT = datetime(2026, 3, 2, 15, 0, tzinfo=dt_timezone.utc)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([target for target in targets if target[1]]).apps  # (app, None): none of it


@pytest.fixture
def old_schema():
    apps = migrate(BEFORE)
    yield apps
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_entries_written_before_the_move_are_read_after_it_and_back(old_schema):
    OldEntry = old_schema.get_model("communications", "AuditEntry")
    ContentType = old_schema.get_model("contenttypes", "ContentType")
    ContentType.objects.get_or_create(app_label="communications", model="auditentry")
    OldEntry.objects.create(at=AT, username="frontdesk", action="view", object_type="customer", object_id="7",
                            ip_address="203.0.113.5", path="/dashboard/customers/7/")

    new = migrate(AFTER)
    entries = new.get_model("conventions", "AuditEntry").objects.values_list("at", "username", "object_type", "object_id")
    assert list(entries) == [(AT, "frontdesk", "customer", "7")]
    kinds = new.get_model("contenttypes", "ContentType").objects.filter(model="auditentry")
    assert list(kinds.values_list("app_label", flat=True)) == ["conventions"]  # admin's permissions follow it

    back = migrate(BEFORE)
    assert back.get_model("communications", "AuditEntry").objects.get().username == "frontdesk"
    assert list(back.get_model("contenttypes", "ContentType").objects.filter(model="auditentry")
                .values_list("app_label", flat=True)) == ["communications"]
