"""Admin for clinic managers: the catalogue, hours, providers, FAQ and appointments."""

from functools import partial

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet, modelformset_factory
from django.urls import reverse
from django.utils.html import format_html

from conventions.admin import ReadOnlyAdminMixin
from conventions.audit import AuditedAdmin
from scheduling.calendars.boulevard import sync as boulevard_sync
from scheduling.models import (
    FAQ,
    Appointment,
    BusinessHours,
    ClinicSettings,
    Closure,
    Provider,
    ProviderSchedule,
    Service,
    TimeOff,
)


class HeldByBoulevardAdmin(admin.ModelAdmin):
    """At a Boulevard clinic, what the catalogue sync writes is read-only here, and the page says so."""

    held_by_boulevard = []
    boulevard_note = "Kept in Boulevard and copied here by the catalogue sync: edit {fields} in Boulevard."

    def held(self):
        return self.held_by_boulevard if settings.CALENDAR_BACKEND == "boulevard" else []

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.held()]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.held():
            return fieldsets
        (name, options), *rest = fieldsets
        words = ", ".join(str(self.model._meta.get_field(field).verbose_name) for field in self.held())
        return [(name, {**options, "description": self.boulevard_note.format(fields=words)}), *rest]

    def get_prepopulated_fields(self, request, obj=None):
        return {field: sources for field, sources in super().get_prepopulated_fields(request, obj).items()
                if not set(sources) & set(self.held())}

    def editable_in_the_list(self):
        return [field for field in self.list_editable if field not in self.held()]

    def get_changelist_instance(self, request):
        # The list's editable columns, like the form, leave out what the sync overwrites.
        changelist = super().get_changelist_instance(request)
        changelist.list_editable = self.editable_in_the_list()
        return changelist

    def get_changelist_formset(self, request, **kwargs):
        return modelformset_factory(
            self.model, self.get_changelist_form(request), extra=0, fields=self.editable_in_the_list(),
            formfield_callback=partial(self.formfield_for_dbfield, request=request), **kwargs,
        )


class NoOverlapByWeekdayFormSet(BaseInlineFormSet):
    """Refuses two rows of one weekday whose times overlap (9-13 and 12-17, say)."""

    start_field = "opens_at"
    end_field = "closes_at"

    def clean(self):
        super().clean()
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or form.errors:
                continue
            start, end = data.get(self.start_field), data.get(self.end_field)
            if data.get("weekday") is not None and start and end:
                rows.append((data["weekday"], start, end, form))
        rows.sort(key=lambda row: (row[0], row[1]))
        for (day, _, end, _), (next_day, next_start, next_end, form) in zip(rows, rows[1:]):
            if day == next_day and next_start < end:
                label = dict(form.fields["weekday"].choices)[day]
                raise ValidationError(
                    f"{label} has overlapping hours: {next_start:%H:%M}–{next_end:%H:%M} starts before {end:%H:%M}."
                )


class BusinessHoursFormSet(NoOverlapByWeekdayFormSet):
    start_field, end_field = "opens_at", "closes_at"


class ProviderScheduleFormSet(NoOverlapByWeekdayFormSet):
    start_field, end_field = "starts_at", "ends_at"


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    formset = BusinessHoursFormSet
    extra = 0


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(HeldByBoulevardAdmin):
    held_by_boulevard = boulevard_sync.CLINIC_FIELDS
    # A manager types "lumiere.example"; we mean https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [BusinessHoursInline, ClosureInline]
    fieldsets = [
        ("Clinic", {"fields": ["name", "phone", "email", "address", "website", "time_zone"]}),
        ("Assistant", {"fields": ["assistant_name", "greeting", "persona"]}),
        (
            "Booking rules",
            {"fields": ["min_booking_notice_minutes", "booking_horizon_days", "cancellation_notice_hours", "cancellation_policy"]},
        ),
    ]

    def has_add_permission(self, request):
        # One clinic: the row exists from the first migration on (ClinicSettings.load()).
        return not ClinicSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Service)
class ServiceAdmin(HeldByBoulevardAdmin):
    held_by_boulevard = boulevard_sync.SERVICE_FIELDS
    list_display = ["name", "category", "duration_minutes", "buffer_minutes", "price_min", "price_max", "requires_consultation", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["category", "is_active", "requires_consultation"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "is_active", "display_order"]}),
        ("Time", {"fields": ["duration_minutes", "buffer_minutes"]}),
        ("Price", {"fields": ["price_min", "price_max", "price_text"]}),
        ("What callers are told", {"fields": ["description", "preparation", "aftercare", "requires_consultation"]}),
    ]


class ProviderScheduleInline(admin.TabularInline):
    model = ProviderSchedule
    formset = ProviderScheduleFormSet
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Provider)
class ProviderAdmin(HeldByBoulevardAdmin):
    held_by_boulevard = boulevard_sync.PROVIDER_FIELDS
    list_display = ["name", "title", "credentials", "is_active"]
    list_filter = ["is_active", "services"]
    search_fields = ["name", "title", "specialties"]
    filter_horizontal = ["services"]
    inlines = [ProviderScheduleInline, TimeOffInline]


@admin.register(FAQ)
class FAQAdmin(admin.ModelAdmin):
    list_display = ["question", "category", "is_active", "display_order"]
    list_editable = ["is_active", "display_order"]
    list_filter = ["category", "is_active"]
    search_fields = ["question", "answer"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    """Read-only here. Booking, moving and cancelling go through scheduling.services on the dashboard,
    which send the confirmation and keep the calendar (Google, Boulevard) in step; a save here did neither."""

    list_display = ["start", "customer", "service", "provider", "status", "booked_by", "late_cancellation",
                    "on_the_dashboard"]
    list_filter = ["status", "booked_by", "late_cancellation", "provider", "service"]
    search_fields = ["customer__name", "customer__phone", "customer__email", "calendar_event_id"]
    date_hierarchy = "start"
    raw_id_fields = ["customer", "conversation"]
    list_select_related = ["customer", "service", "provider"]
    fields = ["on_the_dashboard", "customer", "service", "provider", "start", "end", "status", "booked_by",
              "conversation", "notes", "cancelled_at", "cancelled_by", "cancellation_reason", "late_cancellation",
              "calendar_event_id", "metadata", "created_at", "updated_at"]
    readonly_fields = fields

    @admin.display(description="Change it")
    def on_the_dashboard(self, appointment):
        url = reverse("dashboard:appointment", args=[appointment.pk])
        return format_html('<a href="{}">Move or cancel on the dashboard</a>', url)

