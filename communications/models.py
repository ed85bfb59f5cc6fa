"""Customers and every conversation with them, on every channel, word for word."""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from communications.phones import display_phone, normalise_phone


class Channel(models.TextChoices):
    VOICE = "voice", "Voice call"
    SMS = "sms", "SMS"
    # Twilio delivers WhatsApp to the same webhook as SMS, with "whatsapp:+E164" addresses.
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"


# The channels whose messages Twilio carries (threaded the same way, answered by the same sender).
TWILIO_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


class Outcome(models.TextChoices):
    # The vocabulary shared with the scorer and the metrics (ARCHITECTURE.md, Contracts).
    BOOKED = "booked", "Booked"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"
    INFO_ONLY = "info_only", "Information only"
    ESCALATED = "escalated", "Escalated to staff"
    ABANDONED = "abandoned", "Abandoned"
    UNRESOLVED = "unresolved", "Unresolved"
    FAILED = "failed", "Failed"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"
    MIXED = "mixed", "Mixed"


class Customer(models.Model):
    name = models.CharField(max_length=200, blank=True)
    # E.164, normalised on save; NULL (not "") when unknown so uniqueness ignores it.
    phone = models.CharField(max_length=20, null=True, blank=True)
    email = models.EmailField(null=True, blank=True)
    is_new_client = models.BooleanField(default=True, help_text="No completed visit yet.")
    notes = models.TextField(blank=True)
    sms_opted_out = models.BooleanField("SMS opt-out", default=False, help_text="Replied STOP; never text them.")
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    # Consent is per channel, as STOP is: a STOP on WhatsApp stops WhatsApp, one by SMS stops SMS.
    whatsapp_opted_out = models.BooleanField("WhatsApp opt-out", default=False,
                                             help_text="Replied STOP on WhatsApp; never message them there.")
    whatsapp_opted_out_at = models.DateTimeField(null=True, blank=True)
    # Set by communications.services.forget_customer: the row stays (appointments and metrics count it), nothing personal does.
    forgotten_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["phone"], condition=models.Q(phone__isnull=False), name="customer_phone_unique"),
            models.UniqueConstraint(Lower("email"), condition=models.Q(email__isnull=False), name="customer_email_unique_ci"),
        ]

    def __str__(self):
        # Staff read this (dashboard, admin, audit log): the number as they dial it, not E.164.
        return self.name or display_phone(self.phone) or self.email or f"Customer {self.pk}"

    def clean(self):
        self.phone = normalise_phone(self.phone)
        self.email = (self.email or "").strip() or None

    def save(self, *args, **kwargs):
        # Normalise here too, so services and the API cannot store two spellings of one number.
        self.phone = normalise_phone(self.phone)
        self.email = (self.email or "").strip() or None
        super().save(*args, **kwargs)

    def opt_out_of_sms(self, *, at=None):
        self.sms_opted_out = True
        self.sms_opted_out_at = at or timezone.now()
        self.save(update_fields=["sms_opted_out", "sms_opted_out_at", "updated_at"])

    def opted_out_of(self, channel):
        """True when the customer replied STOP on this channel (SMS or WhatsApp)."""
        if channel == Channel.WHATSAPP:
            return self.whatsapp_opted_out
        return channel == Channel.SMS and self.sms_opted_out

    def set_opt_out(self, channel, opted_out, *, at=None):
        """Record STOP (True) or START (False) on SMS or WhatsApp."""
        prefix = "whatsapp" if channel == Channel.WHATSAPP else "sms"
        setattr(self, f"{prefix}_opted_out", opted_out)
        setattr(self, f"{prefix}_opted_out_at", (at or timezone.now()) if opted_out else None)
        self.save(update_fields=[f"{prefix}_opted_out", f"{prefix}_opted_out_at", "updated_at"])


class Conversation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations",
        help_text="Empty for an anonymous caller.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    # Filled by the scorer after the conversation ends (how it was scored is analytics' ConversationScore).
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    satisfaction_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    summary = models.TextField(blank=True)
    frustration_indicators = models.JSONField(default=list, blank=True)
    success_markers = models.JSONField(default=list, blank=True)
    escalated = models.BooleanField(default=False)
    # A text reply being written (communications.services.claim_reply): one writer at a time.
    reply_claimed_at = models.DateTimeField(null=True, blank=True)
    reply_claimed_by = models.CharField(max_length=64, blank=True, help_text="The task writing the reply.")

    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["channel", "-started_at"], name="conv_channel_started"),
            models.Index(fields=["-started_at"], name="conv_started"),
            models.Index(fields=["outcome"], name="conv_outcome"),
            models.Index(fields=["status", "last_activity_at"], name="conv_status_activity"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(satisfaction_score__isnull=True) | models.Q(satisfaction_score__lte=10),
                name="conversation_score_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="conversation_ends_after_start",
            ),
        ]

    def __str__(self):
        who = self.customer or "anonymous"
        return f"{self.get_channel_display()} with {who} on {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.status == self.Status.ACTIVE

    @property
    def duration_seconds(self):
        if self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.started_at).total_seconds()))

    def close(self, *, status=Status.COMPLETED, outcome="", at=None):
        """End the conversation once; a second close keeps the first end. Returns True when it closed it."""
        if not self.is_active:
            return False
        self.status = status
        self.ended_at = at or timezone.now()
        self.last_activity_at = max(self.last_activity_at, self.ended_at)
        if outcome:
            self.outcome = outcome
        self.save(update_fields=["status", "ended_at", "last_activity_at", "outcome"])
        return True


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ASSISTANT = "assistant", "Assistant"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author = models.CharField(max_length=10, choices=Author.choices)
    content = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    # Order within the conversation. Voice transcripts arrive out of order (the
    # caller's often after Ava's reply), so the relay assigns positions from the
    # upstream item order rather than by arrival.
    position = models.PositiveIntegerField(default=0)
    upstream_item_id = models.CharField(max_length=64, blank=True, help_text="The Realtime item this utterance came from.")
    # Where the words are in the call's recording (milliseconds from its start); empty off calls.
    recording_start_ms = models.PositiveIntegerField(null=True, blank=True)
    recording_end_ms = models.PositiveIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["conversation", "position", "sent_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "position", "sent_at"], name="message_order"),
            models.Index(fields=["-sent_at"], name="message_sent"),
        ]

    def __str__(self):
        return f"{self.get_author_display()}: {self.content[:60]}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    UNDELIVERED = "undelivered", "Undelivered"
    RECEIVED = "received", "Received"
    OUTBOX = "outbox", "Kept in the outbox (no provider configured)"


class VoiceCallDetail(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Web call"
        PHONE = "phone", "Phone call"

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="voice")
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.WEB)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    end_reason = models.CharField(max_length=50, blank=True, help_text="caller_hung_up, assistant_ended, error, …")
    interruption_count = models.PositiveIntegerField(default=0)
    recording_url = models.URLField(blank=True)
    # A phone call as Twilio knows it (empty on the call page). NULL, not "", so uniqueness ignores web calls.
    call_sid = models.CharField("CallSid", max_length=64, null=True, blank=True, unique=True)
    stream_sid = models.CharField("StreamSid", max_length=64, blank=True)
    from_number = models.CharField(max_length=20, blank=True, help_text="E.164; empty when the number was withheld.")
    to_number = models.CharField(max_length=20, blank=True)
    call_status = models.CharField(max_length=20, blank=True, help_text="Twilio's final CallStatus.")
    transfer_outcome = models.CharField(max_length=20, blank=True,
                                        help_text="Put through to staff: completed, no-answer, busy, failed, …")

    def __str__(self):
        return f"Call details of {self.conversation_id}"


def recordings_storage():
    """The "recordings" storage (settings.STORAGES): private files, never under a public URL."""
    from django.core.files.storage import storages

    return storages["recordings"]


class CallRecording(models.Model):
    """A call as the caller heard it: the caller on the left, Ava (cut where she was interrupted) on the right.

    Written to a local spool file while the call runs (FLAC frames: what was written plays if the process
    dies; the closer keeps it as a partial recording), then moved into the recordings storage. Retention and forgetting remove the file and
    keep this row's figures.
    """

    class State(models.TextChoices):
        RECORDING = "recording", "Recording"
        COMPLETE = "complete", "Complete"
        PARTIAL = "partial", "Partial: the call's process ended before the call did"
        FAILED = "failed", "Failed: could not be written"
        REMOVED = "removed", "Removed by retention or forgetting"

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="recording")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RECORDING)
    file = models.FileField(storage=recordings_storage, upload_to="calls/%Y/%m/%d/", max_length=255, blank=True)
    spool_path = models.CharField(max_length=500, blank=True, help_text="The file being written while the call runs.")
    content_type = models.CharField(max_length=40, default="audio/flac")
    sample_rate = models.PositiveIntegerField(default=24000)
    channels = models.PositiveSmallIntegerField(default=2)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "started_at"], name="recording_state_started")]

    def __str__(self):
        return f"Recording of {self.conversation_id}"


class SmsDetail(models.Model):
    """A message Twilio carried: an SMS, or a WhatsApp message (its conversation's channel says which).

    Numbers are stored in E.164 either way; the "whatsapp:" prefix is Twilio's addressing, added on send.
    """

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="sms")
    provider_message_id = models.CharField(max_length=64, null=True, blank=True, unique=True, help_text="Twilio MessageSid.")
    from_number = models.CharField(max_length=20, blank=True)
    to_number = models.CharField(max_length=20, blank=True)
    delivery_status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=20, blank=True)
    error_message = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    media_urls = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"SMS {self.provider_message_id or self.message_id}"


class EmailDetail(models.Model):
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email")
    provider_message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    message_id_header = models.CharField("Message-ID", max_length=255, blank=True, db_index=True)
    subject = models.CharField(max_length=500, blank=True)
    from_email = models.EmailField(blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    delivery_status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    def __str__(self):
        return self.subject or f"Email {self.message_id}"


class CommunicationEvent(models.Model):
    """Something that happened in a conversation besides words: a tool call, a barge-in, consent, an error."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    type = models.CharField(max_length=50, help_text="tool_call, interruption, consent, error, …")
    at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["conversation", "at", "id"]
        indexes = [
            models.Index(fields=["conversation", "at"], name="event_conversation_at"),
            models.Index(fields=["type", "at"], name="event_type_at"),
        ]

    def __str__(self):
        return f"{self.type} at {self.at:%H:%M:%S}"


class UsageRecord(models.Model):
    """What one paid piece of a conversation spent: a voice response, the transcription of a caller's turn,
    a text reply's completion, a scoring call, or a text Twilio carried.

    Written as each happens (communications.usage), so a process that dies mid-call keeps what was spent.
    Tokens are split the way prices are: `text_in` and `audio_in` are the uncached input tokens, the
    cached ones are counted apart. `cost` is priced when written from the dated table in settings (or is
    the provider's own charge); NULL when the model has no price there: unknown, never zero.
    """

    class Kind(models.TextChoices):
        VOICE = "voice", "Voice"
        TRANSCRIPTION = "transcription", "Transcription"
        TEXT = "text", "Text replies"
        SCORING = "scoring", "Scoring"
        TELEPHONY = "telephony", "Twilio"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="usage_records")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    model = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=100, blank=True,
                                 help_text="The response, item, completion or MessageSid it came from.")
    at = models.DateTimeField(default=timezone.now)
    text_in = models.PositiveIntegerField(default=0)
    cached_text_in = models.PositiveIntegerField(default=0)
    audio_in = models.PositiveIntegerField(default=0)
    cached_audio_in = models.PositiveIntegerField(default=0)
    text_out = models.PositiveIntegerField(default=0)
    audio_out = models.PositiveIntegerField(default=0)
    audio_seconds = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                        help_text="Billed by duration (some transcription models).")
    cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True, help_text="Empty: unknown.")
    currency = models.CharField(max_length=3, default="USD")
    priced_as_of = models.CharField(max_length=20, blank=True, help_text="The date of the price used.")
    usage = models.JSONField(default=dict, blank=True, help_text="As the provider reported it.")

    class Meta:
        ordering = ["conversation", "at", "id"]
        indexes = [models.Index(fields=["conversation", "kind"], name="usage_conversation_kind")]
        constraints = [
            # A response, a transcription or a text is counted once, however often it is reported.
            models.UniqueConstraint(fields=["kind", "source_id"], condition=~models.Q(source_id=""),
                                    name="usage_kind_source_unique"),
        ]

    def __str__(self):
        return f"{self.kind} {self.model} {self.cost if self.cost is not None else 'unknown'}"


class OutboundMessage(models.Model):
    """One text or email Ava sends (a reply, a confirmation, a reminder): the outbox and the delivery log.

    With no provider configured a row stays in the outbox (status OUTBOX) and the messaging
    console shows it; nothing is ever dropped silently. `idempotency_key` makes each
    notification happen once (appointment + kind + version); `claimed_at` lets one worker send it.
    """

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply"
        CONFIRMATION = "confirmation", "Confirmation"
        REMINDER = "reminder", "Reminder"
        FRONT_DESK = "front_desk", "Front desk note"  # a phone message taken for the staff (receptionist)

    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="outbound_messages")
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound",
                                   help_text="The reply as it stands in its conversation.")
    to = models.CharField(max_length=255, help_text="E.164 number or email address.")
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True, help_text="Email: Message-ID, In-Reply-To, References.")
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    provider_message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Taken by a delivery worker.")
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["channel", "-created_at"], name="outbound_channel_created"),
            models.Index(fields=["status", "created_at"], name="outbound_status_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} by {self.get_channel_display()} to {self.to}"
