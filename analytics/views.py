"""Staff pages of analytics: the overview, and rescoring a conversation."""

import logging

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from kombu.exceptions import OperationalError

from analytics import selectors
from analytics.tasks import score_conversation
from communications.live import live_conversations
from communications.models import Conversation
from conventions import audit
from conventions.access import staff_required
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)

PERIODS = {"today": "Today", "week": "This week", "month": "This month"}
TREND_DAYS = 30


@staff_required
def overview(request):
    period = request.GET.get("period")
    if period not in PERIODS:
        period = "today"
    clinic = ClinicSettings.load()
    # The period links swap only the figures; the trend and Live now stay (hx-push-url keeps ?period=).
    fragment = bool(request.htmx and not request.htmx.boosted)
    # Not cached: past days are read from the rollups and only today is counted (bench/README.md).
    data = selectors.dashboard_overview(period=period, trend_days=0 if fragment else TREND_DAYS, clinic=clinic)
    context = {
        **data,
        "periods": PERIODS,
        "period": period,
        "period_label": PERIODS[period],
        "totals": data["figures"]["totals"],
        "channel_total": data["figures"]["totals"]["conversations"],
    }
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
    # Run in-process (CELERY_TASK_ALWAYS_EAGER) the new score is already saved; with a worker it follows.
    conversation = Conversation.objects.select_related("score").get(pk=conversation.pk)
    scored_at = getattr(getattr(conversation, "score", None), "scored_at", None)
    context = {
        "conversation": conversation,
        "rescore": "done" if queued and scored_at and scored_at >= requested_at else "queued" if queued else "refused",
    }
    return render(request, "dashboard/conversation.html#score-card", context)
