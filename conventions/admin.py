from django.contrib import admin

from conventions.access import is_owner
from conventions.models import AuditEntry


class ReadOnlyAdminMixin:
    """Admin pages people only read: nobody adds, changes or deletes a row here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Owners read the log; nobody adds, changes or deletes an entry (the model refuses it too)."""

    list_display = ["at", "username", "action", "object_type", "object_id", "description", "ip_address"]
    list_filter = ["action", "object_type", "at"]
    search_fields = ["username", "object_id", "description", "ip_address", "path"]
    date_hierarchy = "at"
    fields = ["at", "user", "username", "action", "object_type", "object_id", "description", "ip_address", "path"]
    readonly_fields = fields
    actions = None
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return is_owner(request.user)
