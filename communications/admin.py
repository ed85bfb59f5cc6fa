from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from communications.models import (
    CallRecording,
    CommunicationEvent,
    Conversation,
    Customer,
    Message,
    OutboundMessage,
    VoiceCallDetail,
)
from communications.phones import normalise_phone
from communications.services import CustomerConflict, customer_with_email
from conventions.admin import ReadOnlyAdminMixin
from conventions.audit import AuditedAdmin



class CustomerAdminForm(forms.ModelForm):
    """Says which customer already holds a phone or email (the unique index alone says "Constraint … is violated")."""

    class Meta:
        model = Customer
        fields = "__all__"

    def clean_phone(self):
        try:
            phone = normalise_phone(self.cleaned_data.get("phone"))
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        holder = Customer.objects.filter(phone=phone).exclude(pk=self.instance.pk).first() if phone else None
        if holder is not None:
            raise forms.ValidationError(self._held_by(CustomerConflict(field="phone", holder=holder)))
        return phone

    def clean_email(self):
        email = (self.cleaned_data.get("email") or "").strip() or None
        holder = customer_with_email(email, exclude=self.instance if self.instance.pk else None) if email else None
        if holder is not None:
            raise forms.ValidationError(self._held_by(CustomerConflict(field="email", holder=holder)))
        return email

    @staticmethod
    def _held_by(conflict):
        return f"{conflict.message[:-1]}: {conflict.holder} (customer {conflict.holder.pk}). Merge them on the dashboard."


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin):
    form = CustomerAdminForm
    list_display = ["name", "phone", "email", "is_new_client", "sms_opted_out", "whatsapp_opted_out", "created_at"]
    list_filter = ["is_new_client", "sms_opted_out", "whatsapp_opted_out"]
    search_fields = ["name", "phone", "email"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["position", "sent_at", "author", "direction", "content"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = CommunicationEvent
    fields = ["at", "type", "data"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class VoiceCallDetailInline(admin.StackedInline):
    model = VoiceCallDetail
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(AuditedAdmin):
    # Transcripts are records: readable here, changed only by the assistant and the scorer.
    list_display = ["started_at", "channel", "customer", "status", "outcome", "satisfaction_score", "escalated"]
    list_filter = ["channel", "status", "outcome", "sentiment", "escalated"]
    search_fields = ["customer__name", "customer__phone", "customer__email", "summary"]
    date_hierarchy = "started_at"
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    inlines = [VoiceCallDetailInline, MessageInline, EventInline]

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A recording cannot be deleted on its own (CallRecordingAdmin), but it goes with its call, and its
        # file after the commit (communications.signals).
        perms_needed.discard(CallRecording._meta.verbose_name)
        return deleted, counts, perms_needed, protected


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """What Ava sent or keeps in the outbox: a delivery log, read-only (changed only by delivery)."""

    list_display = ["created_at", "channel", "kind", "to", "status", "attempts"]
    list_filter = ["channel", "kind", "status"]
    search_fields = ["to", "subject", "provider_message_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["customer", "message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CallRecording)
class CallRecordingAdmin(ReadOnlyAdminMixin, AuditedAdmin):
    """Recordings, read-only: the recorder writes them, retention and forgetting remove them. No upload."""

    list_display = ["started_at", "conversation", "state", "duration_ms", "size_bytes", "removed_at"]
    list_filter = ["state"]
    date_hierarchy = "started_at"
    list_select_related = ["conversation"]
    fields = ["conversation", "state", "listen", "file_name", "content_type", "sample_rate", "channels",
              "duration_ms", "size_bytes", "started_at", "finished_at", "removed_at", "error"]
    readonly_fields = fields

    @admin.display(description="File")
    def file_name(self, recording):
        return recording.file.name or "–"

    @admin.display(description="Listen")
    def listen(self, recording):
        # Served by the staff view (ranges, audit), never by a storage URL.
        url = reverse("dashboard:conversation", args=[recording.conversation_id])
        return format_html('<a href="{}">On the conversation\'s page</a>', url)

    def has_delete_permission(self, request, obj=None):
        # Alone, never: retention and forgetting remove the audio and keep the row's figures. A recording
        # goes with its conversation (ConversationAdmin), its file with it.
        return False
