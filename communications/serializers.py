"""What the API says about customers and conversations, and the input it reads (communications/api.py).

Times are ISO 8601 with the clinic's offset: ClinicTimeZoneMiddleware activates the
clinic's zone and DRF's DateTimeField writes in the active zone.
"""

from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from communications.models import (
    CallRecording,
    Channel,
    CommunicationEvent,
    Conversation,
    Customer,
    EmailDetail,
    Message,
    Outcome,
    Sentiment,
    SmsDetail,
    UsageRecord,
    VoiceCallDetail,
)
from communications.phones import normalise_phone
from communications.recordings import is_playable
from communications.selectors import SORTS
from communications.usage import conversation_cost

# Beyond these, a clinic day cannot be turned into an instant on every database (SQLite
# converts to UTC in Python, and 9999-12-31 in New York is year 10000 there).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
LARGEST_ID = 2**63 - 1


def _a_day_we_can_search(value):
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise serializers.ValidationError(f"Give a day between {EARLIEST_DAY} and {LATEST_DAY}.")


# As stored: checked when it comes in through the API, but other channels keep what they were given.
STORED_EMAIL = {"allow_null": True, "help_text": "Empty when unknown."}


class CustomerSerializer(serializers.ModelSerializer):
    email = serializers.CharField(**STORED_EMAIL)

    class Meta:
        model = Customer
        fields = [
            "id", "name", "phone", "email", "is_new_client", "notes", "sms_opted_out", "sms_opted_out_at",
            "whatsapp_opted_out", "whatsapp_opted_out_at", "created_at", "updated_at",
        ]
        read_only_fields = fields


class CustomerInputSerializer(serializers.Serializer):
    """Find the customer with this phone (else email), or create one; a name fills a blank one."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default="",
        help_text="Any common spelling; stored as E.164 (+12125550123). Numbers without a country code are read "
                  "in PHONE_DEFAULT_REGION.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, default="", max_length=254)

    def validate_phone(self, value):
        return _phone(value)

    def validate(self, attrs):
        if not attrs["phone"] and not attrs["email"]:
            raise serializers.ValidationError({"phone": [NEEDS_A_WAY_TO_REACH]})
        return attrs


NEEDS_A_WAY_TO_REACH = "Give a phone number or an email address."


def _phone(value):
    try:
        return normalise_phone(value) or ""
    except DjangoValidationError as error:
        raise serializers.ValidationError(error.messages) from None


class CustomerChangeSerializer(serializers.Serializer):
    """PATCH: the fields given change; `null` or "" clears a phone or email (one of them must stay)."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, allow_null=True,
        help_text="Any common spelling; stored as E.164. Empty or null clears it.",
    )
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True, max_length=254,
                                   help_text="Empty or null clears it.")
    notes = serializers.CharField(required=False, allow_blank=True)
    is_new_client = serializers.BooleanField(required=False, help_text="No completed visit yet.")

    def validate_phone(self, value):
        return _phone(value) if value else ""

    def validate(self, attrs):
        customer = self.instance
        if "phone" in attrs or "email" in attrs:
            phone = attrs["phone"] if "phone" in attrs else customer.phone
            email = attrs["email"] if "email" in attrs else customer.email
            if not phone and not email:
                raise serializers.ValidationError({"phone": [NEEDS_A_WAY_TO_REACH]})
        return attrs


class CustomerActivitySerializer(serializers.Serializer):
    """communications.selectors.customer_summary, without the customer."""

    first_contact = serializers.DateTimeField(allow_null=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=Channel.choices))
    conversations = serializers.IntegerField()
    bookings = serializers.IntegerField(help_text="Appointments ever booked, whatever became of them.")
    cancellations = serializers.IntegerField()
    no_shows = serializers.IntegerField()
    average_satisfaction = serializers.FloatField(allow_null=True, help_text="0-10, over scored conversations.")


class CustomerDetailSerializer(CustomerSerializer):
    summary = CustomerActivitySerializer(help_text="Counted over every conversation and appointment.")

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "summary"]
        read_only_fields = fields


class CustomerRefSerializer(serializers.ModelSerializer):
    email = serializers.CharField(**STORED_EMAIL)

    class Meta:
        model = Customer
        fields = ["id", "name", "phone", "email"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(allow_null=True, help_text="Empty for an anonymous caller.")
    # Declared, because DRF leaves `allow_blank` off read-only model fields: both are "" until scored.
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, help_text="Empty until scored.")
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, allow_blank=True, help_text="Empty until scored.")
    duration_seconds = serializers.IntegerField(allow_null=True, help_text="Empty while it goes on.")
    source = serializers.SerializerMethodField(help_text="Voice calls: phone or web (the call page); "
                                                         "empty on other channels.")

    class Meta:
        model = Conversation
        fields = [
            "id", "channel", "source", "status", "customer", "started_at", "last_activity_at", "ended_at",
            "duration_seconds", "outcome", "sentiment", "satisfaction_score", "escalated", "summary",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=VoiceCallDetail.Source.choices, allow_null=True))
    def get_source(self, conversation):
        # Read through the one-to-one (select_related by the lists); a call without details is null too.
        if conversation.channel != Channel.VOICE:
            return None
        voice = getattr(conversation, "voice", None)  # None when the row is missing (DoesNotExist is an AttributeError)
        return voice.source if voice else None


class VoiceCallDetailSerializer(serializers.ModelSerializer):
    recording_url = serializers.CharField(help_text="A URL, or empty when the call was not recorded.")

    class Meta:
        model = VoiceCallDetail
        fields = ["duration_seconds", "end_reason", "interruption_count", "recording_url"]
        read_only_fields = fields


class CallSerializer(ConversationSerializer):
    voice = VoiceCallDetailSerializer(allow_null=True, help_text="The call's own facts.")

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "voice"]
        read_only_fields = fields


class SmsDetailSerializer(serializers.ModelSerializer):
    media_urls = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = SmsDetail
        fields = [
            "provider_message_id", "from_number", "to_number", "delivery_status", "status_updated_at", "sent_at",
            "delivered_at", "error_code", "error_message", "segments", "media_urls",
        ]
        read_only_fields = fields


class EmailDetailSerializer(serializers.ModelSerializer):
    from_email = serializers.CharField(help_text="An address, or empty for mail Ava sent.")
    to = serializers.ListField(child=serializers.CharField())
    cc = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = EmailDetail
        fields = [
            "provider_message_id", "message_id_header", "subject", "from_email", "to", "cc", "in_reply_to",
            "references", "delivery_status", "status_updated_at", "sent_at", "delivered_at", "error_message",
        ]
        read_only_fields = fields


# Where a message is in its call's recording: the same fields in a conversation's detail and a call's transcript.
RECORDING_OFFSETS = {
    "recording_start_ms": {"help_text": "Where the words start in the call's recording (ms); empty off calls."},
    "recording_end_ms": {"help_text": "Where they end (ms); empty when unknown."},
}


class MessageSerializer(serializers.ModelSerializer):
    metadata = serializers.DictField()
    sms = SmsDetailSerializer(allow_null=True, help_text="Delivery facts of a text message; empty on other channels.")
    email = EmailDetailSerializer(allow_null=True, help_text="Headers and delivery of an email; empty on other channels.")

    class Meta:
        model = Message
        fields = [
            "id", "position", "direction", "author", "content", "sent_at", "upstream_item_id", "metadata",
            "recording_start_ms", "recording_end_ms", "sms", "email",
        ]
        read_only_fields = fields
        extra_kwargs = RECORDING_OFFSETS


class EventSerializer(serializers.ModelSerializer):
    data = serializers.DictField()

    class Meta:
        model = CommunicationEvent
        fields = ["id", "type", "at", "message", "data"]
        read_only_fields = fields


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AppointmentBriefSerializer(serializers.Serializer):
    """An appointment as a conversation or a customer history shows it (the full one is /api/appointments)."""

    id = serializers.IntegerField()
    service = NamedRefSerializer()
    provider = NamedRefSerializer()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="When the provider is free again: the treatment plus the buffer.")
    status = serializers.CharField(help_text="scheduled, completed, cancelled or no_show.")
    booked_by = serializers.CharField(help_text="ai, staff or online.")
    conversation = serializers.UUIDField(source="conversation_id", allow_null=True)
    notes = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


class CostPartSerializer(serializers.Serializer):
    part = serializers.ChoiceField(choices=UsageRecord.Kind.choices)
    label = serializers.CharField()
    cost = serializers.CharField(allow_null=True, help_text="USD; null when any of it has no price (unknown).")
    known_cost = serializers.CharField(help_text="USD: the sum of what has a price.")
    records = serializers.IntegerField(help_text="Responses, transcriptions, completions or texts counted.")
    unknown_records = serializers.IntegerField(help_text="Of them, those with no price.")
    models = serializers.ListField(child=serializers.CharField())


class CostSerializer(serializers.Serializer):
    """What the conversation cost (communications.usage): priced from the dated table in settings."""

    currency = serializers.CharField()
    total = serializers.CharField(allow_null=True, help_text="Null when any part is unknown (never shown as zero).")
    known_cost = serializers.CharField()
    unknown_records = serializers.IntegerField()
    parts = CostPartSerializer(many=True, help_text="voice, transcription, text, scoring, telephony: those it has.")


class RecordingSerializer(serializers.ModelSerializer):
    """A call's recording: where staff play it, how long it is, and whether there is anything to play."""

    url = serializers.SerializerMethodField(help_text=(
        "The staff page that serves it (signed-in staff; HTTP ranges; `?download=1` for owners). "
        "Null while the call is recorded, or when it failed or was removed."))
    state = serializers.ChoiceField(choices=CallRecording.State.choices, help_text=(
        "recording (the call goes on), complete, partial (the call's process ended first: it plays up to "
        "there), failed, removed (retention or forgetting: duration_ms is kept, the audio is gone)."))
    duration_ms = serializers.IntegerField(allow_null=True, help_text="Its length in milliseconds; empty while recorded.")

    class Meta:
        model = CallRecording
        fields = ["url", "duration_ms", "state", "content_type"]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, recording):
        if not is_playable(recording):
            return None
        path = reverse("dashboard:conversation-recording", args=[recording.conversation_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ConversationDetailSerializer(ConversationSerializer):
    frustration_indicators = serializers.ListField(child=serializers.CharField())
    success_markers = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    voice = VoiceCallDetailSerializer(allow_null=True, help_text="Voice calls only.")
    recording = RecordingSerializer(allow_null=True, help_text="A call's recording; null when it was not recorded.")
    messages = MessageSerializer(many=True, help_text="In transcript order.")
    events = EventSerializer(many=True, help_text="Tool calls, barge-ins, escalations, errors, … in time order.")
    appointments = AppointmentBriefSerializer(many=True, help_text="Booked, moved or cancelled in this conversation.")
    cost = serializers.SerializerMethodField(help_text="What it cost, in total and by part.")
    # How it was scored is kept by analytics (its ConversationScore, `score`); read here, empty until then.
    scored_at = serializers.DateTimeField(source="score.scored_at", allow_null=True, default=None,
                                          help_text="Empty until scored.")
    scorer = serializers.SerializerMethodField(help_text="openai, heuristic, rules, …; empty until scored.")
    scorer_version = serializers.SerializerMethodField(help_text="Empty until scored.")

    class Meta(ConversationSerializer.Meta):
        fields = [
            *ConversationSerializer.Meta.fields, "frustration_indicators", "success_markers", "scored_at", "scorer",
            "scorer_version", "metadata", "voice", "recording", "messages", "events", "appointments", "cost",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_scorer(self, conversation):
        # DRF would answer null for a score row that does not exist yet; clients were promised a string.
        return getattr(getattr(conversation, "score", None), "scorer", "")

    @extend_schema_field(OpenApiTypes.STR)
    def get_scorer_version(self, conversation):
        return getattr(getattr(conversation, "score", None), "version", "")

    @extend_schema_field(CostSerializer)
    def get_cost(self, conversation):
        return CostSerializer(conversation_cost(conversation.pk)).data


class TranscriptLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["position", "author", "direction", "content", "sent_at", *RECORDING_OFFSETS]
        read_only_fields = fields
        extra_kwargs = RECORDING_OFFSETS


class TranscriptSerializer(serializers.ModelSerializer):
    messages = TranscriptLineSerializer(many=True, help_text="What was said, in order.")

    class Meta:
        model = Conversation
        fields = ["id", "started_at", "ended_at", "messages"]
        read_only_fields = fields


class CustomerHistorySerializer(serializers.Serializer):
    customer = CustomerRefSerializer()
    conversations = ConversationSerializer(many=True, help_text="Every channel, newest first.")
    appointments = AppointmentBriefSerializer(many=True, help_text="Newest start first, cancelled ones included.")


class ConversationFilterSerializer(serializers.Serializer):
    """The query of GET /api/admin/communications (and /api/admin/calls, without `channel`)."""

    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    source = serializers.ChoiceField(choices=VoiceCallDetail.Source.choices, required=False,
                                     help_text="Voice calls that came by phone, or from the call page (web).")
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False)
    escalated = serializers.BooleanField(required=False, allow_null=True, default=None)
    date_from = serializers.DateField(
        required=False, validators=[_a_day_we_can_search],
        help_text="Started on or after this day (YYYY-MM-DD) in the clinic's time zone.",
    )
    date_to = serializers.DateField(
        required=False, validators=[_a_day_we_can_search],
        help_text="Started on or before this day (YYYY-MM-DD) in the clinic's time zone.",
    )
    customer = serializers.IntegerField(required=False, min_value=1, max_value=LARGEST_ID, help_text="A customer id.")
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, default="",
        help_text="Words in the customer's name, email or phone, or anywhere in what was said.",
    )
    sort = serializers.ChoiceField(choices=list(SORTS), required=False, default="newest")

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": ["The end date is before the start date."]})
        if attrs.get("source") and attrs.get("channel", Channel.VOICE) != Channel.VOICE:
            raise serializers.ValidationError({"source": ["Phone and web calls are voice calls: give channel=voice "
                                                          "or no channel."]})
        return attrs


class CallFilterSerializer(ConversationFilterSerializer):
    channel = None
