"""Reads for the metrics API and the dashboard: plain dicts and lists that templates and serializers share.

Every period is a range of clinic-local dates, both ends included. Past days come from the
DailyMetric rollups; today, and any past day the rollup has not reached yet (no beat on the
embedded default), are computed live with the same code (analytics.figures).
"""

from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

from analytics.figures import CHANNELS, COUNT_FIELDS, add_counts, derive, empty_counts, figures_by_day, local_day_bounds
from analytics.models import ConversationScore, DailyMetric
from communications.models import Channel, CommunicationEvent, Conversation, Outcome, Sentiment
from scheduling.models import Appointment, ClinicSettings

PERIODS = ("today", "week", "month", "custom")
MAX_CUSTOM_DAYS = 366
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class PeriodError(ValueError):
    """A period that cannot be read; the message says why, for a 400."""


def resolve_period(period="today", start=None, end=None, *, today):
    """(first, last) clinic-local dates of a period: today, this week (from Monday), this month, or custom."""
    if period == "today":
        return today, today
    if period == "week":
        return today - timedelta(days=today.weekday()), today
    if period == "month":
        return today.replace(day=1), today
    if period == "custom":
        if start is None or end is None:
            raise PeriodError("A custom period needs start and end (YYYY-MM-DD).")
        if end < start:
            raise PeriodError("The end is before the start.")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise PeriodError(f"A custom period is at most {MAX_CUSTOM_DAYS} days.")
        return start, end
    raise PeriodError(f"Unknown period {period!r}; use one of {', '.join(PERIODS)}.")


def _clinic_today(clinic=None):
    clinic = clinic or ClinicSettings.load()
    return clinic, clinic.local_now().date()


def counts_by_day(first, last, *, tz, today):
    """{date: {channel: counts}} for [first, last]: rollups for past days, live figures for today and gaps.

    Days after today are left out (nothing happened yet).
    """
    last = min(last, today)
    if last < first:
        return {}
    days = {}
    for row in DailyMetric.objects.filter(date__range=(first, last)).values("date", "channel", *COUNT_FIELDS):
        if row["date"] == today:
            continue  # today moves; always live
        days.setdefault(row["date"], {})[row["channel"]] = {name: row[name] for name in COUNT_FIELDS}
    missing = []
    day = first
    while day <= last:
        if day not in days:
            missing.append(day)
        day += timedelta(days=1)
    if missing:
        live = figures_by_day(missing[0], missing[-1], tz)
        for day in missing:
            days[day] = live[day]
    for channels in days.values():
        for channel in CHANNELS:
            channels.setdefault(channel, empty_counts())
    return dict(sorted(days.items()))


def _period(period, start, end, clinic=None):
    clinic, today = _clinic_today(clinic)
    first, last = resolve_period(period, start, end, today=today)
    return clinic, today, first, last


def _describe(period, first, last, clinic):
    return {"period": period, "start": first.isoformat(), "end": last.isoformat(), "time_zone": clinic.time_zone}


def overview(*, period="today", start=None, end=None, clinic=None):
    """The headline figures of a period, in total and per channel (counts, rates and averages)."""
    clinic, today, first, last = _period(period, start, end, clinic)
    days = counts_by_day(first, last, tz=clinic.tz, today=today)
    totals = empty_counts()
    by_channel = {channel: empty_counts() for channel in CHANNELS}
    for channels in days.values():
        for channel, counts in channels.items():
            add_counts(by_channel[channel], counts)
            add_counts(totals, counts)
    return {
        **_describe(period, first, last, clinic),
        "totals": derive(totals),
        "by_channel": {channel: derive(counts) for channel, counts in by_channel.items()},
    }


def daily_series(*, days=30, clinic=None):
    """One entry per clinic-local day, oldest first, ending today: the totals and each channel."""
    clinic, today = _clinic_today(clinic)
    first = today - timedelta(days=days - 1)
    series = []
    for day, channels in counts_by_day(first, today, tz=clinic.tz, today=today).items():
        totals = empty_counts()
        for counts in channels.values():
            add_counts(totals, counts)
        series.append({
            "date": day.isoformat(),
            **derive(totals),
            "by_channel": {channel: derive(counts) for channel, counts in channels.items()},
        })
    return series


def channel_breakdown(*, period="month", start=None, end=None, clinic=None):
    """Per channel: its label and figures, busiest first."""
    data = overview(period=period, start=start, end=end, clinic=clinic)
    labels = dict(Channel.choices)
    rows = [{"channel": channel, "label": labels[channel], **figures} for channel, figures in data["by_channel"].items()]
    rows.sort(key=lambda row: -row["conversations"])
    return {**{k: data[k] for k in ("period", "start", "end", "time_zone")}, "channels": rows}


def _conversations_in(first, last, tz):
    start, _ = local_day_bounds(first, tz)
    _, end = local_day_bounds(last, tz)
    return Conversation.objects.filter(started_at__gte=start, started_at__lt=end)


def _counted(queryset, field, choices):
    counts = dict(queryset.values_list(field).annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    rows = [
        {field: value, "label": label, "count": counts.get(value, 0),
         "share": round(counts.get(value, 0) / total, 4) if total else None}
        for value, label in choices
    ]
    unscored = counts.get("", 0) + counts.get(None, 0)
    return rows, unscored, total


def outcome_breakdown(*, period="month", start=None, end=None, clinic=None):
    """How the period's conversations ended, by outcome; `unscored` counts those not scored yet."""
    clinic, today, first, last = _period(period, start, end, clinic)
    rows, unscored, total = _counted(_conversations_in(first, last, clinic.tz), "outcome", Outcome.choices)
    return {**_describe(period, first, last, clinic), "outcomes": rows, "unscored": unscored, "total": total}


def sentiment_breakdown(*, period="month", start=None, end=None, clinic=None):
    """The customers' tone over the period, by sentiment; `unscored` counts those without one."""
    clinic, today, first, last = _period(period, start, end, clinic)
    rows, unscored, total = _counted(_conversations_in(first, last, clinic.tz), "sentiment", Sentiment.choices)
    return {**_describe(period, first, last, clinic), "sentiments": rows, "unscored": unscored, "total": total}


def peak_hours(*, period="month", start=None, end=None, clinic=None):
    """Conversations started per clinic-local weekday (Monday first) and hour: a 7 × 24 grid."""
    clinic, today, first, last = _period(period, start, end, clinic)
    tz = clinic.tz
    grid = [[0] * 24 for _ in WEEKDAYS]
    rows = (
        _conversations_in(first, last, tz)
        .annotate(weekday=ExtractIsoWeekDay("started_at", tzinfo=tz), hour=ExtractHour("started_at", tzinfo=tz))
        .values_list("weekday", "hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for weekday, hour, n in rows:
        grid[weekday - 1][hour] += n
    busiest = max(
        ((count, weekday, hour) for weekday, hours in enumerate(grid) for hour, count in enumerate(hours)),
        default=(0, 0, 0),
    )
    return {
        **_describe(period, first, last, clinic),
        "weekdays": WEEKDAYS,
        "hours": list(range(24)),
        "counts": grid,
        "busiest": {"weekday": WEEKDAYS[busiest[1]], "hour": busiest[2], "count": busiest[0]} if busiest[0] else None,
    }


def booking_funnel(*, period="month", start=None, end=None, clinic=None):
    """Conversations → availability checked → booking attempted → booked, counted in conversations.

    From the tool-call events and the appointments Ava booked; each stage counts conversations
    that reached it, and `rate` is the share of the stage before.
    """
    clinic, today, first, last = _period(period, start, end, clinic)
    start_at, _ = local_day_bounds(first, clinic.tz)
    _, end_at = local_day_bounds(last, clinic.tz)
    conversations = _conversations_in(first, last, clinic.tz)
    # One pass over the period's tool calls; `at` bounds them too (a conversation's events follow
    # its start), so the (type, at) index narrows the scan before the join.
    tools = CommunicationEvent.objects.filter(
        type="tool_call", at__gte=start_at,
        conversation__started_at__gte=start_at, conversation__started_at__lt=end_at,
    ).aggregate(
        availability=Count("conversation", distinct=True, filter=Q(data__name="check_availability")),
        attempted=Count("conversation", distinct=True, filter=Q(data__name="book_appointment")),
    )
    booked = (
        Appointment.objects.filter(booked_by=Appointment.BookedBy.AI, conversation__started_at__gte=start_at,
                                   conversation__started_at__lt=end_at)
        .aggregate(n=Count("conversation", distinct=True))["n"]
    )
    stages = [
        ("conversations", "Conversations", conversations.count()),
        ("availability_checked", "Availability checked", tools["availability"]),
        ("booking_attempted", "Booking attempted", tools["attempted"]),
        ("booked", "Booked", booked),
    ]
    rows = []
    previous = None
    for key, label, count in stages:
        rate = round(count / previous, 4) if previous else None
        rows.append({"stage": key, "label": label, "count": count, "rate": rate})
        previous = count
    return {**_describe(period, first, last, clinic), "stages": rows}


def scoring_failures(*, limit=50):
    """Conversations whose scoring failed, newest first, with the reason (for staff to rescore)."""
    return list(
        ConversationScore.objects.filter(status=ConversationScore.Status.FAILED)
        .order_by("-updated_at")
        .values("conversation_id", "failure_reason", "tries", "updated_at")[:limit]
    )

