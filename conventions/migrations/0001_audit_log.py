"""The audit log moves here from communications, in Django's state only: the table keeps its name
(communications_auditentry) and its rows. Its content type follows, so admin's permissions on it do too."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, old="communications", new="conventions"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="auditentry").exists():
        ContentType.objects.filter(app_label=old, model="auditentry").update(app_label=new)


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="conventions", new="communications")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("communications", "0012_conversation_reply_claim"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEntry",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ("username", models.CharField(blank=True, max_length=150)),
                        ("action", models.CharField(choices=[("view", "Viewed"), ("list", "Listed"), ("create", "Created"), ("update", "Changed"), ("delete", "Deleted"), ("export", "Exported"), ("merge", "Merged"), ("cancel", "Cancelled"), ("reschedule", "Rescheduled"), ("rescore", "Rescored"), ("forget", "Forgot (erased personal data)"), ("redact", "Redacted (retention)")], max_length=20)),
                        ("object_type", models.CharField(help_text="conversation, transcript, customer, appointment, …", max_length=40)),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        ("description", models.CharField(blank=True, max_length=300)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("path", models.CharField(blank=True, max_length=500)),
                        ("user", models.ForeignKey(blank=True, help_text="Empty for the system (a scheduled job).", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "audit entry",
                        "verbose_name_plural": "audit log",
                        "db_table": "communications_auditentry",
                        "ordering": ["-at", "-id"],
                        "indexes": [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_at")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
