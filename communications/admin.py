from django.contrib import admin
from django.db import models

from communications.audit import AuditedAdmin, AuditEntryAdmin
from communications.models import (
    AuditEntry,
    CommunicationEvent,
    Conversation,
    Customer,
    Message,
    OutboundMessage,
    VoiceCallDetail,
)

admin.site.register(AuditEntry, AuditEntryAdmin)


@admin.register(Customer)
class CustomerAdmin(AuditedAdmin):
    list_display = ["name", "phone", "email", "is_new_client", "sms_opted_out", "created_at"]
    list_filter = ["is_new_client", "sms_opted_out"]
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
