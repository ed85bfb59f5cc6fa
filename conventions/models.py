"""The audit log's one model: who looked at or changed personal data (written through conventions.audit)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone


class AuditLogIsAppendOnly(PermissionDenied):
    """Raised on any attempt to change or delete an audit entry (a 403 if it ever reaches a request)."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """Who looked at or changed personal data, from where, and when. Append-only (conventions.audit).

    No personal data goes in here (ids, not names), so forgetting a customer never has to edit it.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Listed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DELETE = "delete", "Deleted"
        EXPORT = "export", "Exported"
        MERGE = "merge", "Merged"
        CANCEL = "cancel", "Cancelled"
        RESCHEDULE = "reschedule", "Rescheduled"
        RESCORE = "rescore", "Rescored"
        FORGET = "forget", "Forgot (erased personal data)"
        REDACT = "redact", "Redacted (retention)"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="Empty for the system (a scheduled job).")
    # Kept as written, so the entry still says who after the account is deleted.
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=40, help_text="conversation, transcript, customer, appointment, …")
    object_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        # Kept from when communications held the log: moving the model moved no rows.
        db_table = "communications_auditentry"
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_at")]

    def __str__(self):
        who = self.username or "system"
        return f"{who} {self.get_action_display().lower()} {self.object_type} {self.object_id}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")
