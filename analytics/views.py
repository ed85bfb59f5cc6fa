"""Staff pages of analytics: the overview, and rescoring a conversation."""

import logging
from datetime import date

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from analytics import selectors
from analytics.figures import CHANNELS, add_counts, derive, empty_counts
from analytics.tasks import score_conversation
from ava.auth import staff_required
from communications import audit
from communications.live import live_conversations
from communications.models import Channel, Conversation
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)

PERIODS = {"today": "Today", "week": "This week", "month": "This month"}
TREND_DAYS = 30
CACHED_PERIODS = ("week", "month")
CACHE_SECONDS = 60


def _figures(series, first, last, clinic):
    """overview()'s figures for [first, last], summed from daily_series() points already read.

    Today's live figures are the costly part of both (about 50-70 ms at 1,400 conversations a
    day); reading the days once for the trend and the cards halves the overview's time.
    """
    totals = empty_counts()
    by_channel = {channel: empty_counts() for channel in CHANNELS}
    for point in series:
        if first <= date.fromisoformat(point["date"]) <= last:
            for channel, counts in point["by_channel"].items():
                add_counts(by_channel[channel], counts)
                add_counts(totals, counts)
    return {"period": None, "start": first.isoformat(), "end": last.isoformat(), "time_zone": clinic.time_zone,
            "totals": derive(totals), "by_channel": {channel: derive(counts) for channel, counts in by_channel.items()}}


def _period_context(period, clinic, series, first, today):
    """Everything the period switch swaps: the cards, breakdowns, heat map and funnel."""
    figures = {**_figures(series, first, today, clinic), "period": period}
    channel_labels = dict(Channel.choices)
    channels = sorted(
        ({"channel": channel, "label": channel_labels[channel], **data} for channel, data in figures["by_channel"].items()),
        key=lambda row: -row["conversations"],
    )
    peak = selectors.peak_hours(period=period, clinic=clinic)
    return {
        "period": period,
        "period_label": PERIODS[period],
        "figures": figures,
        "totals": figures["totals"],
        "channels": channels,
        "channel_total": figures["totals"]["conversations"],
        "outcomes": selectors.outcome_breakdown(period=period, clinic=clinic),
        "sentiments": selectors.sentiment_breakdown(period=period, clinic=clinic),
        "peak": peak,
        "peak_rows": [(day, counts) for day, counts in zip(peak["weekdays"], peak["counts"])],
        "peak_max": max((max(counts) for counts in peak["counts"]), default=0),
        "funnel": selectors.booking_funnel(period=period, clinic=clinic),
    }


@staff_required
def overview(request):
    period = request.GET.get("period")
    if period not in PERIODS:
        period = "today"
    clinic = getattr(request, "_clinic_settings", None) or ClinicSettings.load()
    today = clinic.local_now().date()
    first, _ = selectors.resolve_period(period, today=today)
    # The period links swap only the figures; the trend and Live now stay (hx-push-url keeps ?period=).
    fragment = bool(request.htmx and not request.htmx.boosted)

    def read_figures():
        days = (today - first).days + 1
        series = selectors.daily_series(days=days if fragment else max(days, TREND_DAYS), clinic=clinic)
        return {**_period_context(period, clinic, series, first, today), "trend": series[-TREND_DAYS:]}

    if period in CACHED_PERIODS:
        # A week's or a month's breakdowns and funnel cost 100-200 ms with a million conversations
        # (bench/README.md); figures a minute old are fine there. Live now is never cached.
        context = cache.get_or_set(f"dashboard:overview:{period}:{today}:{fragment}", read_figures, CACHE_SECONDS)
    else:
        context = read_figures()
    context = {"periods": PERIODS, **context}
    if fragment:
        return render(request, "dashboard/overview.html#period", context)
    context["live"] = live_conversations()
    context["now"] = timezone.now()
    return render(request, "dashboard/overview.html", context)


@staff_required
@require_POST
@audit.audited("conversation", audit.Action.RESCORE)
def rescore(request, pk):
    """Score an ended conversation again (force), in the background; the page shows "rescoring…"."""
    conversation = get_object_or_404(Conversation, pk=pk)
    requested_at = timezone.now()
    queued = False
    if not conversation.is_active:
        try:
            score_conversation.delay(str(conversation.pk), force=True)
            queued = True
        except OperationalError:
            log.exception("Could not enqueue rescoring of %s", conversation.pk)
    if not request.htmx:
        if queued:
            messages.info(request, "Rescoring… reload in a moment to see the result.")
        else:
            messages.error(request, "This conversation cannot be rescored now.")
        return redirect("dashboard:conversation", pk=conversation.pk)
    # With Celery eager (the embedded default) the new score is already saved; with a worker it follows.
    conversation.refresh_from_db()
    context = {
        "conversation": conversation,
        "rescore": "done" if queued and conversation.scored_at and conversation.scored_at >= requested_at
        else "queued" if queued else "refused",
    }
    return render(request, "dashboard/conversation.html#score-card", context)
