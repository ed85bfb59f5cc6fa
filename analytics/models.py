"""What analytics keeps beside the conversations: how each was scored, and the daily rollups."""

from django.db import models

from communications.models import Channel, Conversation


class ConversationScore(models.Model):
    """Scoring's state for one conversation: who may score it now, how it was scored, or why it could not be.

    Conversation keeps the results the dashboard and the metrics read (outcome, satisfaction, sentiment,
    summary, frustration and success notes); everything about the scoring itself lives here. A worker
    claims the row with a conditional update on `claimed_at` (analytics.services.claim_for_scoring).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Not scored yet"
        SCORED = "scored", "Scored"
        FAILED = "failed", "Scoring failed"

    conversation = models.OneToOneField(Conversation, primary_key=True, on_delete=models.CASCADE, related_name="score")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Claimed by a scoring worker at.")
    scored_at = models.DateTimeField(null=True, blank=True, help_text="Of the last score (kept if a rescore fails).")
    scorer = models.CharField(max_length=50, blank=True, help_text="openai, heuristic or rules (no customer words).")
    version = models.CharField(max_length=50, blank=True, help_text="The scorer's version (prompt/model).")
    model = models.CharField(max_length=100, blank=True)
    escalation_requested = models.BooleanField(default=False, help_text="The customer asked for a person.")
    answer = models.JSONField(default=dict, blank=True, help_text="The scorer's answer before the data overrode it.")
    overridden = models.JSONField(default=dict, blank=True, help_text="Fields the data overrode, and why.")
    failure_reason = models.TextField(blank=True)
    tries = models.PositiveSmallIntegerField(default=0, help_text="Task tries the last scoring took (retries + 1).")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Of the call that answered.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="score_status_updated")]

    def __str__(self):
        return f"{self.get_status_display()} by {self.scorer or '-'}: {self.conversation_id}"

    @property
    def failed(self):
        return self.status == self.Status.FAILED


def no_hours():
    return [0] * 24


class DailyMetric(models.Model):
    """One clinic-local day on one channel, recomputed (upserted) by analytics.services.rollup_day.

    Counts are stored beside the rates and averages so periods can be summed and the rates derived
    again (an average of daily rates would weigh a quiet day like a busy one). Definitions
    (docs/metrics.md):

    - A conversation belongs to the clinic-local day it started on.
    - conversion_rate = booked_conversations / booking_intent_conversations, where a conversation
      shows booking intent when the assistant checked availability or tried to book in it
      (tool calls check_availability / book_appointment) or an appointment was booked in it,
      and is booked when Ava booked at least one appointment in it. Empty (null) with no intent.
    - escalation_rate = escalations / conversations; an escalation is a transfer to staff.
    - containment_rate = contained / (conversations - abandoned): of the conversations where the
      customer engaged, the share Ava handled alone (no transfer, no staff reply).
    - average_first_response_seconds (SMS and email): from the customer's first message to the
      first reply after it, averaged over conversations that have both.
    - availability_checked / booking_attempted (the booking funnel), outcome_* and sentiment_*
      (conversations by outcome and by tone; the rest are not scored yet) and conversations_by_hour
      (the heat map) are counted over the same conversations.
    """

    date = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices)

    conversations = models.PositiveIntegerField(default=0)
    voice_calls = models.PositiveIntegerField(default=0)
    talk_time_seconds = models.PositiveIntegerField(default=0)
    calls_with_duration = models.PositiveIntegerField(default=0)
    average_call_seconds = models.FloatField(null=True, blank=True)

    appointments_booked = models.PositiveIntegerField(default=0, help_text="Booked by Ava in these conversations.")
    appointments_rescheduled = models.PositiveIntegerField(default=0)
    appointments_cancelled = models.PositiveIntegerField(default=0)
    booking_intent_conversations = models.PositiveIntegerField(default=0)
    booked_conversations = models.PositiveIntegerField(default=0)
    conversion_rate = models.FloatField(null=True, blank=True)

    satisfaction_sum = models.PositiveIntegerField(default=0)
    satisfaction_count = models.PositiveIntegerField(default=0)
    average_satisfaction = models.FloatField(null=True, blank=True)

    escalations = models.PositiveIntegerField(default=0)
    escalation_rate = models.FloatField(null=True, blank=True)
    abandoned = models.PositiveIntegerField(default=0)
    contained = models.PositiveIntegerField(default=0)
    containment_rate = models.FloatField(null=True, blank=True)

    first_response_count = models.PositiveIntegerField(default=0)
    first_response_seconds_total = models.PositiveIntegerField(default=0)
    average_first_response_seconds = models.FloatField(null=True, blank=True)

    # What the day's conversations cost (communications.usage), in USD: what has a price, and how many usage
    # records have none (then the cost is at least this much; never counted as zero).
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    cost_unpriced = models.PositiveIntegerField(default=0, help_text="Usage records with no price.")
    cost_per_booking = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True,
                                           help_text="cost / appointments_booked.")

    # The overview's breakdowns, stored so a week or a month is read, not counted (bench/README.md).
    availability_checked = models.PositiveIntegerField(default=0, help_text="Conversations with a check_availability call.")
    booking_attempted = models.PositiveIntegerField(default=0, help_text="Conversations with a book_appointment call.")
    outcome_booked = models.PositiveIntegerField(default=0)
    outcome_rescheduled = models.PositiveIntegerField(default=0)
    outcome_cancelled = models.PositiveIntegerField(default=0)
    outcome_info_only = models.PositiveIntegerField(default=0)
    outcome_escalated = models.PositiveIntegerField(default=0)
    outcome_abandoned = models.PositiveIntegerField(default=0)
    outcome_unresolved = models.PositiveIntegerField(default=0)
    outcome_failed = models.PositiveIntegerField(default=0)
    sentiment_positive = models.PositiveIntegerField(default=0)
    sentiment_neutral = models.PositiveIntegerField(default=0)
    sentiment_negative = models.PositiveIntegerField(default=0)
    sentiment_mixed = models.PositiveIntegerField(default=0)
    conversations_by_hour = models.JSONField(
        default=no_hours, blank=True, help_text="24 counts: conversations started in each clinic-local hour."
    )
    # The voice row's counts again per source, {"phone": {...}, "web": {...}} (the names of the counts above;
    # cost as an exact string): phone calls vs web calls, summed and derived like the channels. Empty on the
    # other channels, and on voice rows rolled up before the split (those days are counted live until
    # backfill_metrics rolls them up again).
    by_source = models.JSONField(default=dict, blank=True, help_text="Voice only: the counts per source.")
    has_breakdowns = models.BooleanField(
        default=True,
        help_text="False on rows rolled up before the breakdowns above were stored: those days are computed "
                  "live until backfill_metrics rolls them up again.",
    )

    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "channel"]
        constraints = [models.UniqueConstraint(fields=["date", "channel"], name="daily_metric_date_channel")]

    def __str__(self):
        return f"{self.date} {self.channel}: {self.conversations} conversations"
