"""The daily figures, computed from conversations, events and appointments (definitions: docs/metrics.md).

Shared by the rollup (which stores them per day and channel) and the selectors (which compute
today live). Counts add up across days and channels; `derive` turns summed counts into rates
and averages, so a month's conversion rate is booked ÷ intent over the month, not an average
of daily rates.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, Sum
from django.db.models.fields.json import KT

from communications.models import (
    Channel,
    CommunicationEvent,
    Conversation,
    Message,
    Outcome,
    Sentiment,
    UsageRecord,
    VoiceCallDetail,
)
from communications.usage import CURRENCY, money
from conventions.clinic_time import day_bounds
from scheduling.models import Appointment

CHANNELS = [choice.value for choice in Channel]
# How a voice call came: the clinic's phone number or the call page. A call with no details is a web call
# (the call page was the only way before phone calls), so the sources always add up to the voice channel.
PHONE, WEB = VoiceCallDetail.Source.PHONE.value, VoiceCallDetail.Source.WEB.value
SOURCES = [PHONE, WEB]
SOURCES_FIELD = "by_source"  # on the voice channel's figures: {source: counts}

# Summable counts, in the order the API shows them.
COUNT_FIELDS = [
    "conversations", "voice_calls", "talk_time_seconds", "calls_with_duration",
    "appointments_booked", "appointments_rescheduled", "appointments_cancelled",
    "booking_intent_conversations", "booked_conversations",
    "satisfaction_sum", "satisfaction_count",
    "escalations", "abandoned", "contained",
    "first_response_count", "first_response_seconds_total",
    # What the conversations cost (communications.usage): the USD sum of what has a price, and how many
    # usage records have none (a model missing from the price table): then the cost is "at least".
    "cost", "cost_unpriced",
]
DERIVED_FIELDS = [
    "average_call_seconds", "conversion_rate", "average_satisfaction", "escalation_rate",
    "containment_rate", "average_first_response_seconds", "cost_per_booking",
]
# The overview's breakdowns: summable too, stored beside the counts but not part of the headline
# figures. Conversations without an outcome (or a tone) are the ones not scored yet.
OUTCOME_FIELDS = {value: f"outcome_{value}" for value in Outcome.values}
SENTIMENT_FIELDS = {value: f"sentiment_{value}" for value in Sentiment.values}
BREAKDOWN_FIELDS = ["availability_checked", "booking_attempted", *OUTCOME_FIELDS.values(), *SENTIMENT_FIELDS.values()]
HOURS_FIELD = "conversations_by_hour"  # 24 counts, by the clinic-local hour a conversation started

# Tool calls (the assistant's contract, ARCHITECTURE.md) that show booking intent.
INTENT_TOOLS = {"check_availability", "book_appointment"}


def empty_counts():
    return dict.fromkeys(COUNT_FIELDS, 0)


def empty_sources():
    return {source: empty_counts() for source in SOURCES}


def empty_figures():
    """The counts plus the breakdowns: one day on one channel, as the rollup stores it.

    SOURCES_FIELD holds the counts again per voice source; it stays empty on the other channels.
    """
    return {**empty_counts(), **dict.fromkeys(BREAKDOWN_FIELDS, 0), HOURS_FIELD: [0] * 24,
            SOURCES_FIELD: empty_sources()}


def add_counts(total, more):
    for name in COUNT_FIELDS:
        total[name] += more[name]
    return total


def add_figures(total, more):
    """add_counts for empty_figures(): the breakdowns and the hours too."""
    add_counts(total, more)
    for name in BREAKDOWN_FIELDS:
        total[name] += more[name]
    total[HOURS_FIELD] = [a + b for a, b in zip(total[HOURS_FIELD], more[HOURS_FIELD])]
    for source in SOURCES:
        add_counts(total[SOURCES_FIELD][source], more[SOURCES_FIELD][source])
    return total


def sources_to_store(sources):
    """by_source as DailyMetric keeps it (JSON): the counts, money as an exact string."""
    return {source: {**counts, "cost": money(Decimal(counts["cost"]))} for source, counts in sources.items()}


def sources_from_store(stored):
    """DailyMetric.by_source read back into counts; {} (a row from before the split) gives None."""
    if not stored:
        return None
    sources = {}
    for source in SOURCES:
        counts = {**empty_counts(), **stored.get(source, {})}
        counts["cost"] = Decimal(counts["cost"])
        sources[source] = counts
    return sources


def _ratio(numerator, denominator, digits=4):
    return round(numerator / denominator, digits) if denominator else None


def _cost_per(cost, count):
    return money(Decimal(cost) / count) if count else None


def derive(counts):
    """Counts plus the rates and averages they imply (None where the denominator is zero).

    Money is a string of dollars (exact), as the API shows it.
    """
    engaged = counts["conversations"] - counts["abandoned"]
    return {
        **{name: counts[name] for name in COUNT_FIELDS},
        "cost": money(Decimal(counts["cost"])),
        "cost_per_booking": _cost_per(counts["cost"], counts["appointments_booked"]),
        "average_call_seconds": _ratio(counts["talk_time_seconds"], counts["calls_with_duration"], 1),
        "conversion_rate": _ratio(counts["booked_conversations"], counts["booking_intent_conversations"]),
        "average_satisfaction": _ratio(counts["satisfaction_sum"], counts["satisfaction_count"], 2),
        "escalation_rate": _ratio(counts["escalations"], counts["conversations"]),
        "containment_rate": _ratio(counts["contained"], engaged),
        "average_first_response_seconds": _ratio(
            counts["first_response_seconds_total"], counts["first_response_count"], 1
        ),
    }


def figures_by_day(first, last, tz):
    """{date: {channel: empty_figures()}} for every clinic-local day in [first, last], empty days included."""
    start, end = day_bounds(first, last, tz)
    figures = _figures(start, end, tz)
    days = {}
    day = first
    while day <= last:
        days[day] = figures.get(day) or {channel: empty_figures() for channel in CHANNELS}
        day += timedelta(days=1)
    return days


def _figures(start, end, tz):
    """Figures per clinic-local day and channel for conversations that started in [start, end)."""
    in_range = {"conversation__started_at__gte": start, "conversation__started_at__lt": end}
    conversations = list(
        Conversation.objects.filter(started_at__gte=start, started_at__lt=end).values_list(
            "pk", "channel", "escalated", "outcome", "sentiment", "satisfaction_score", "started_at", "ended_at",
            "voice__duration_seconds", "voice__source",
        ).order_by()
    )
    escalated_ids = set()
    intent_ids = set()
    availability_ids = set()
    attempted_ids = set()
    rescheduled = defaultdict(int)
    cancelled = defaultdict(int)
    events = (
        CommunicationEvent.objects.filter(type__in=["tool_call", "escalated"], **in_range)
        .annotate(
            tool=KT("data__name"),
            failed=ExpressionWrapper(Q(data__result__has_key="error"), output_field=BooleanField()),
        )
        .values_list("conversation_id", "type", "tool", "failed")
        .order_by()  # no sort needed; the models' default orderings would add one
    )
    for conversation_id, type_, tool, failed in events:
        if type_ == "escalated":
            escalated_ids.add(conversation_id)
        elif tool in INTENT_TOOLS:
            intent_ids.add(conversation_id)
            (availability_ids if tool == "check_availability" else attempted_ids).add(conversation_id)
        elif tool == "reschedule_appointment" and not failed:
            rescheduled[conversation_id] += 1
        elif tool == "cancel_appointment" and not failed:
            cancelled[conversation_id] += 1

    booked = defaultdict(int)
    for conversation_id in Appointment.objects.filter(booked_by=Appointment.BookedBy.AI, **in_range).values_list(
        "conversation_id", flat=True
    ).order_by():
        booked[conversation_id] += 1

    costs = {
        row["conversation_id"]: row
        for row in UsageRecord.objects.filter(**in_range).order_by().values("conversation_id").annotate(
            known=Sum("cost", filter=Q(cost__isnull=False, currency=CURRENCY)),
            unpriced=Count("id", filter=Q(cost__isnull=True) | ~Q(currency=CURRENCY)),
        )
    }

    staff_ids = set(
        Message.objects.filter(author=Message.Author.STAFF, **in_range).values_list("conversation_id", flat=True)
        .order_by()
    )
    first_response = _first_response_seconds(start, end)

    figures = {}
    for pk, channel, escalated, outcome, sentiment, score, started_at, ended_at, voice_duration, source in (
        conversations
    ):
        local = started_at.astimezone(tz)
        day = local.date()
        if day not in figures:  # (not setdefault: building the default for every row costs ~10 ms a day)
            figures[day] = {name: empty_figures() for name in CHANNELS}
        row = figures[day].get(channel) or figures[day].setdefault(channel, empty_figures())
        row[HOURS_FIELD][local.hour] += 1
        if outcome in OUTCOME_FIELDS:
            row[OUTCOME_FIELDS[outcome]] += 1
        if sentiment in SENTIMENT_FIELDS:
            row[SENTIMENT_FIELDS[sentiment]] += 1
        if pk in availability_ids:
            row["availability_checked"] += 1
        if pk in attempted_ids:
            row["booking_attempted"] += 1
        duration = None
        if channel == Channel.VOICE:
            duration = voice_duration
            if duration is None and ended_at is not None:
                duration = max(0, int((ended_at - started_at).total_seconds()))
            # A call counts on its channel and again on its source (phone or web), never twice in a total.
            counted = (row, row[SOURCES_FIELD][PHONE if source == PHONE else WEB])
        else:
            counted = (row,)
        was_escalated = escalated or pk in escalated_ids
        for counts in counted:
            counts["conversations"] += 1
            if channel == Channel.VOICE:
                counts["voice_calls"] += 1
                if duration is not None:
                    counts["talk_time_seconds"] += duration
                    counts["calls_with_duration"] += 1
            counts["appointments_booked"] += booked[pk]
            counts["appointments_rescheduled"] += rescheduled[pk]
            counts["appointments_cancelled"] += cancelled[pk]
            if pk in intent_ids or booked[pk]:
                counts["booking_intent_conversations"] += 1
                if booked[pk]:
                    counts["booked_conversations"] += 1
            if score is not None:
                counts["satisfaction_sum"] += score
                counts["satisfaction_count"] += 1
            if was_escalated:
                counts["escalations"] += 1
            if outcome == Outcome.ABANDONED:
                counts["abandoned"] += 1
            elif not was_escalated and pk not in staff_ids:
                counts["contained"] += 1
            if pk in first_response:
                counts["first_response_count"] += 1
                counts["first_response_seconds_total"] += first_response[pk]
            if pk in costs:  # counted on the day the conversation started, like everything else here
                counts["cost"] += costs[pk]["known"] or 0
                counts["cost_unpriced"] += costs[pk]["unpriced"]
    return figures


def _first_response_seconds(start, end):
    """Seconds from the customer's first message to the first reply after it, per SMS/WhatsApp/email conversation."""
    rows = (
        Message.objects.filter(
            conversation__started_at__gte=start, conversation__started_at__lt=end,
            conversation__channel__in=[Channel.SMS, Channel.WHATSAPP, Channel.EMAIL],
        )
        .order_by("conversation_id", "sent_at", "position", "id")
        .values_list("conversation_id", "direction", "sent_at")
    )
    first_inbound = {}
    answered = {}
    for conversation_id, direction, sent_at in rows:
        if conversation_id in answered:
            continue
        if direction == Message.Direction.INBOUND:
            first_inbound.setdefault(conversation_id, sent_at)
        elif conversation_id in first_inbound:
            answered[conversation_id] = max(0, round((sent_at - first_inbound[conversation_id]).total_seconds()))
    return answered
