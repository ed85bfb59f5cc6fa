"""The "Owners" group (ava.auth.OWNERS_GROUP): staff in it have Django admin and the audit log, as superusers do."""

from django.db import migrations

OWNERS_GROUP = "Owners"


def create_owners_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=OWNERS_GROUP)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("communications", "0005_audit_log_and_forgotten_customers"),
    ]

    operations = [migrations.RunPython(create_owners_group, migrations.RunPython.noop)]
