"""Reads for the metrics API and the dashboard: plain dicts and lists that templates and serializers share.

Every period is a range of clinic-local dates, both ends included. Past days come from the
DailyMetric rollups (the headline counts and the breakdowns: outcomes, tone, hours, funnel);
today, and any past day the rollup has not reached yet (no beat on the embedded default), are
computed live with the same code (analytics.figures).
"""

from datetime import timedelta

from analytics.figures import (
    BREAKDOWN_FIELDS,
    CHANNELS,
    COUNT_FIELDS,
    HOURS_FIELD,
    OUTCOME_FIELDS,
    SENTIMENT_FIELDS,
    SOURCES,
    SOURCES_FIELD,
    add_counts,
    add_figures,
    derive,
    empty_counts,
    empty_figures,
    empty_sources,
    figures_by_day,
    sources_from_store,
)
from analytics.models import ConversationScore, DailyMetric
from communications.models import Channel, Outcome, Sentiment
from scheduling.models import ClinicSettings

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
    """{date: {channel: figures}} for [first, last]: rollups for past days, live figures for today and gaps.

    Each channel's figures are analytics.figures.empty_figures(): the counts and the breakdowns (and,
    on voice, the counts per source).
    Days after today are left out (nothing happened yet).
    """
    last = min(last, today)
    if last < first:
        return {}
    days = {}
    stale = set()
    rows = DailyMetric.objects.filter(date__range=(first, last)).values(
        "date", "channel", "has_breakdowns", *COUNT_FIELDS, *BREAKDOWN_FIELDS, HOURS_FIELD, SOURCES_FIELD
    )
    for row in rows:
        if row["date"] == today:
            continue  # today moves; always live
        if not row["has_breakdowns"]:
            stale.add(row["date"])  # rolled up before the breakdowns were stored: count it live
        sources = sources_from_store(row[SOURCES_FIELD])
        if sources is None and row["channel"] == Channel.VOICE and row["voice_calls"]:
            stale.add(row["date"])  # calls rolled up before phone and web were told apart: count it live
        days.setdefault(row["date"], {})[row["channel"]] = {
            **{name: row[name] for name in [*COUNT_FIELDS, *BREAKDOWN_FIELDS]},
            HOURS_FIELD: row[HOURS_FIELD] or [0] * 24,
            SOURCES_FIELD: sources or empty_sources(),
        }
    for day in stale:
        del days[day]
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
            channels.setdefault(channel, empty_figures())
    return dict(sorted(days.items()))


def _period(period, start, end, clinic=None):
    clinic, today = _clinic_today(clinic)
    first, last = resolve_period(period, start, end, today=today)
    return clinic, today, first, last


def _describe(period, first, last, clinic):
    return {"period": period, "start": first.isoformat(), "end": last.isoformat(), "time_zone": clinic.time_zone}


def _by_source(voice_figures):
    """{source: derived figures} of voice calls: phone calls and web calls."""
    return {source: derive(voice_figures[SOURCES_FIELD][source]) for source in SOURCES}


def _headline(period, first, last, clinic, days):
    """overview()'s answer for the days of counts_by_day() that fall in [first, last]."""
    totals = empty_counts()
    by_channel = {channel: empty_counts() for channel in CHANNELS}
    by_source = empty_sources()
    for day, channels in days.items():
        if first <= day <= last:
            for channel, counts in channels.items():
                add_counts(by_channel[channel], counts)
                add_counts(totals, counts)
            for source in SOURCES:
                add_counts(by_source[source], channels[Channel.VOICE][SOURCES_FIELD][source])
    return {
        **_describe(period, first, last, clinic),
        "totals": derive(totals),
        "by_channel": {channel: derive(counts) for channel, counts in by_channel.items()},
        "by_source": {source: derive(counts) for source, counts in by_source.items()},
    }


def overview(*, period="today", start=None, end=None, clinic=None):
    """The headline figures of a period, in total, per channel and, for voice calls, per source (phone, web):
    counts, rates and averages."""
    clinic, today, first, last = _period(period, start, end, clinic)
    return _headline(period, first, last, clinic, counts_by_day(first, last, tz=clinic.tz, today=today))


def _series(days):
    series = []
    for day, channels in days.items():
        totals = empty_counts()
        for counts in channels.values():
            add_counts(totals, counts)
        series.append({
            "date": day.isoformat(),
            **derive(totals),
            "by_channel": {channel: derive(counts) for channel, counts in channels.items()},
            "by_source": _by_source(channels[Channel.VOICE]),
        })
    return series


def daily_series(*, days=30, clinic=None):
    """One entry per clinic-local day, oldest first, ending today: the totals and each channel."""
    clinic, today = _clinic_today(clinic)
    first = today - timedelta(days=days - 1)
    return _series(counts_by_day(first, today, tz=clinic.tz, today=today))


def _channels(by_channel):
    labels = dict(Channel.choices)
    rows = [{"channel": channel, "label": labels[channel], **figures} for channel, figures in by_channel.items()]
    rows.sort(key=lambda row: -row["conversations"])
    return rows


SOURCE_LABELS = {"phone": "Phone calls", "web": "Web calls"}


def _sources(by_source):
    """Phone calls, then web calls: each with its label and figures (the overview's table)."""
    return [{"source": source, "label": SOURCE_LABELS[source], **by_source[source]} for source in SOURCES]


def channel_breakdown(*, period="month", start=None, end=None, clinic=None):
    """Per channel: its label and figures, busiest first."""
    data = overview(period=period, start=start, end=end, clinic=clinic)
    return {**{k: data[k] for k in ("period", "start", "end", "time_zone")}, "channels": _channels(data["by_channel"])}


def _summed(days, first, last):
    """Every channel's figures over the days in [first, last], added up (breakdowns included)."""
    total = empty_figures()
    for day, channels in days.items():
        if first <= day <= last:
            for figures in channels.values():
                add_figures(total, figures)
    return total


def _shares(total, key, fields, choices):
    """Rows of {key, label, count, share} per choice; conversations with none of them are `unscored`."""
    conversations = total["conversations"]
    rows = [
        {key: value, "label": label, "count": total[fields[value]],
         "share": round(total[fields[value]] / conversations, 4) if conversations else None}
        for value, label in choices
    ]
    return {key + "s": rows, "unscored": conversations - sum(row["count"] for row in rows), "total": conversations}


def _peak(days, first, last):
    grid = [[0] * 24 for _ in WEEKDAYS]
    for day, channels in days.items():
        if first <= day <= last:
            row = grid[day.weekday()]
            for figures in channels.values():
                for hour, n in enumerate(figures[HOURS_FIELD]):
                    row[hour] += n
    busiest = max(
        ((count, weekday, hour) for weekday, hours in enumerate(grid) for hour, count in enumerate(hours)),
        default=(0, 0, 0),
    )
    return {
        "weekdays": WEEKDAYS,
        "hours": list(range(24)),
        "counts": grid,
        "busiest": {"weekday": WEEKDAYS[busiest[1]], "hour": busiest[2], "count": busiest[0]} if busiest[0] else None,
    }


def _funnel(total):
    stages = [
        ("conversations", "Conversations", total["conversations"]),
        ("availability_checked", "Availability checked", total["availability_checked"]),
        ("booking_attempted", "Booking attempted", total["booking_attempted"]),
        ("booked", "Booked", total["booked_conversations"]),
    ]
    rows = []
    previous = None
    for key, label, count in stages:
        rate = round(count / previous, 4) if previous else None
        rows.append({"stage": key, "label": label, "count": count, "rate": rate})
        previous = count
    return {"stages": rows}


def _breakdown(build, period, start, end, clinic):
    clinic, today, first, last = _period(period, start, end, clinic)
    days = counts_by_day(first, last, tz=clinic.tz, today=today)
    return {**_describe(period, first, last, clinic), **build(days, first, last)}


def outcome_breakdown(*, period="month", start=None, end=None, clinic=None):
    """How the period's conversations ended, by outcome; `unscored` counts those not scored yet."""
    return _breakdown(lambda days, first, last: _shares(_summed(days, first, last), "outcome", OUTCOME_FIELDS,
                                                        Outcome.choices), period, start, end, clinic)


def sentiment_breakdown(*, period="month", start=None, end=None, clinic=None):
    """The customers' tone over the period, by sentiment; `unscored` counts those without one."""
    return _breakdown(lambda days, first, last: _shares(_summed(days, first, last), "sentiment", SENTIMENT_FIELDS,
                                                        Sentiment.choices), period, start, end, clinic)


def peak_hours(*, period="month", start=None, end=None, clinic=None):
    """Conversations started per clinic-local weekday (Monday first) and hour: a 7 × 24 grid."""
    return _breakdown(_peak, period, start, end, clinic)


def booking_funnel(*, period="month", start=None, end=None, clinic=None):
    """Conversations → availability checked → booking attempted → booked, counted in conversations.

    From the tool-call events and the appointments Ava booked; each stage counts conversations
    that reached it, and `rate` is the share of the stage before.
    """
    return _breakdown(lambda days, first, last: _funnel(_summed(days, first, last)), period, start, end, clinic)


def dashboard_overview(*, period, trend_days=0, clinic=None):
    """Everything the overview page shows for a period, from one read of the days.

    The headline figures, channels, outcomes, tone, heat map (also as rows with their maximum)
    and funnel of the period, and with
    `trend_days` the daily series of that many days ending today. Today is computed live once
    (the costly part); past days are read from the rollups.
    """
    clinic, today, first, last = _period(period, None, None, clinic)
    since = min(first, today - timedelta(days=trend_days - 1)) if trend_days else first
    days = counts_by_day(since, last, tz=clinic.tz, today=today)
    figures = _headline(period, first, last, clinic, days)
    total = _summed(days, first, last)
    described = _describe(period, first, last, clinic)
    peak = _peak(days, first, last)
    return {
        "figures": figures,
        "channels": _channels(figures["by_channel"]),
        "sources": _sources(figures["by_source"]),
        "outcomes": {**described, **_shares(total, "outcome", OUTCOME_FIELDS, Outcome.choices)},
        "sentiments": {**described, **_shares(total, "sentiment", SENTIMENT_FIELDS, Sentiment.choices)},
        "peak": {**described, **peak},
        # The heat map: (weekday, 24 counts) rows, and the busiest hour's count that its shades scale to.
        "peak_rows": list(zip(peak["weekdays"], peak["counts"])),
        "peak_max": max((max(counts) for counts in peak["counts"]), default=0),
        "funnel": {**described, **_funnel(total)},
        "trend": _series({day: channels for day, channels in days.items() if day > today - timedelta(days=trend_days)})
        if trend_days else [],
    }


def scoring_failures(*, limit=50):
    """Conversations whose scoring failed, newest first, with the reason (for staff to rescore)."""
    return list(
        ConversationScore.objects.filter(status=ConversationScore.Status.FAILED)
        .order_by("-updated_at")
        .values("conversation_id", "failure_reason", "tries", "updated_at")[:limit]
    )

