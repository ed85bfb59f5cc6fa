from django.contrib import admin

from housekeeping.models import Heartbeat, PeriodicJob


class ReadOnly(admin.ModelAdmin):
    """Written by the background processes; people only read it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnly):
    list_display = ["task", "last_finished_at", "last_state", "last_summary", "runs"]
    readonly_fields = ["task", "last_started_at", "last_finished_at", "last_state", "last_summary", "last_result", "runs"]


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnly):
    list_display = ["name", "seen_at", "host", "pid"]
