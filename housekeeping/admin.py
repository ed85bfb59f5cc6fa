from django.contrib import admin

from conventions.admin import ReadOnlyAdminMixin
from housekeeping.models import Heartbeat, PeriodicJob


class ReadOnly(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the background processes; people only read it."""


@admin.register(PeriodicJob)
class PeriodicJobAdmin(ReadOnly):
    list_display = ["task", "last_finished_at", "last_state", "last_summary", "runs"]
    readonly_fields = ["task", "last_started_at", "last_finished_at", "last_state", "last_summary", "last_result", "runs"]


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnly):
    list_display = ["name", "seen_at", "host", "pid"]
