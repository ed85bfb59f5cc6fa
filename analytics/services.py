"""Analytics workflows: scoring a finished conversation, closing abandoned ones, rolling up a day."""

import logging
from dataclasses import dataclass
from datetime import date as date_type, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from analytics.figures import (
    BREAKDOWN_FIELDS,
    COUNT_FIELDS,
    DERIVED_FIELDS,
    HOURS_FIELD,
    SOURCES_FIELD,
    derive,
    figures_by_day,
    sources_to_store,
)
from analytics.models import ConversationScore, DailyMetric
from analytics.scoring.facts import apply_facts, facts_for
from analytics.scoring.heuristic import VERSION as HEURISTIC_VERSION, score_heuristically
from analytics.scoring.openai_scorer import (
    PROMPT_VERSION,
    FatalScoringError,
    RetryableScoringError,
    score_with_openai,
)
from analytics.scoring.schema import InvalidAnswer
from analytics.scoring.transcript import customer_said_something, format_transcript
from communications.models import Channel, Conversation, Outcome, UsageRecord
from communications.processes import holder_is_gone
from communications.recording_spool import finish_abandoned_recording
from communications.services import end_conversation, record_event
from communications.usage import record_usage
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)

RULES_VERSION = "rules-1"


@dataclass
class ScoringResult:
    """What one scoring try came to. status: scored, failed, retry, or a reason nothing was done."""

    status: str
    reason: str = ""
    retry_after: float | None = None


# --- Scoring -------------------------------------------------------------------------------

def claim_for_scoring(*, conversation_id, force=False, now=None):
    """Take the right to score one ended conversation; returns the claim time, or None when not ours.

    A conditional update of its ConversationScore row (made pending on first sight), so of two workers
    exactly one gets it. A claim older than ANALYTICS_SCORING_CLAIM_TIMEOUT belonged to a worker that
    died, and may be taken again. Without `force`, a scored conversation or one whose scoring failed is
    left alone.
    """
    now = now or timezone.now()
    scorable = (Conversation.objects.filter(pk=conversation_id).exclude(status=Conversation.Status.ACTIVE)
                .exclude(metadata__has_key="redacted_at"))  # no words left to score
    if not scorable.exists():
        return None
    try:
        ConversationScore.objects.get_or_create(conversation_id=conversation_id)
    except (IntegrityError, ConversationScore.DoesNotExist):
        return None  # the conversation was deleted meanwhile
    stale = now - timedelta(seconds=settings.ANALYTICS_SCORING_CLAIM_TIMEOUT)
    # The condition stays on this row's own columns, so PostgreSQL re-checks it after a concurrent claim.
    claimable = ConversationScore.objects.filter(Q(claimed_at=None) | Q(claimed_at__lt=stale), pk=conversation_id)
    if not force:
        claimable = claimable.filter(status=ConversationScore.Status.PENDING)
    return now if claimable.update(claimed_at=now) == 1 else None


def release_claim(*, conversation_id, claimed_at):
    ConversationScore.objects.filter(pk=conversation_id, claimed_at=claimed_at).update(claimed_at=None)


def _why_not_claimed(conversation_id):
    conversation = Conversation.objects.filter(pk=conversation_id).only("status", "metadata").first()
    if conversation is None:
        return "missing"
    if "redacted_at" in conversation.metadata:
        return "redacted"
    if conversation.is_active:
        return "active"
    status = ConversationScore.objects.filter(pk=conversation_id).values_list("status", flat=True).first()
    if status == ConversationScore.Status.SCORED:
        return "already_scored"
    if status == ConversationScore.Status.FAILED:
        return "already_failed"
    return "claimed_elsewhere"


def score_conversation(*, conversation_id, force=False, tries=1, final_try=True):
    """Claim, score and save one ended conversation; the workflow behind the Celery task.

    Customer said nothing: abandoned, no scorer asked. Otherwise OpenAI when OPENAI_API_KEY is
    set (an answer that is not the schema's JSON is asked for once more), else the heuristic
    scorer. The data's outcome (a booking, a transfer) replaces the scorer's. Returns
    ScoringResult("retry") on a passing failure unless `final_try`, in which case, as on a
    lasting failure, the conversation is marked as failed with the reason.
    """
    claimed_at = claim_for_scoring(conversation_id=conversation_id, force=force)
    if claimed_at is None:
        return ScoringResult(_why_not_claimed(conversation_id))
    conversation = Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    if conversation is None:
        return ScoringResult("missing")
    facts = facts_for(conversation)
    usage = {}
    if not customer_said_something(conversation_id):
        scorer, version = "rules", RULES_VERSION
        # A call that never got going (OpenAI unreachable) failed; one the caller left in silence was abandoned.
        failed = conversation.status == Conversation.Status.FAILED
        answer = {
            "satisfaction_score": None, "sentiment": "", "frustration_indicators": [], "success_markers": [],
            "outcome": (Outcome.FAILED if failed else Outcome.ABANDONED).value,
            "summary": "The call failed before the customer could speak." if failed else "The customer said nothing.",
            "escalation_requested": False,
        }
        final, overridden = answer, {}  # nothing happened, so no data can say otherwise
    elif settings.OPENAI_API_KEY:
        scorer = "openai"
        clinic = ClinicSettings.load()
        transcript = format_transcript(conversation, clinic=clinic)
        try:
            model_answer = _ask_model(transcript, assistant_name=clinic.assistant_name,
                                      spent=lambda completion: _record_scoring_usage(conversation_id, completion))
        except RetryableScoringError as exc:
            if final_try:
                reason = f"gave up after {tries} tries: {exc}"
                _record_failure(conversation_id=conversation_id, claimed_at=claimed_at, reason=reason, tries=tries)
                return ScoringResult("failed", reason)
            release_claim(conversation_id=conversation_id, claimed_at=claimed_at)
            return ScoringResult("retry", str(exc), retry_after=exc.retry_after)
        except (FatalScoringError, InvalidAnswer) as exc:
            reason = str(exc) if isinstance(exc, FatalScoringError) else f"invalid answer twice: {exc}"
            _record_failure(conversation_id=conversation_id, claimed_at=claimed_at, reason=reason, tries=tries)
            return ScoringResult("failed", reason)
        answer = model_answer.answer
        version = f"{PROMPT_VERSION}/{model_answer.model}"
        usage = {"model": model_answer.model, "prompt_tokens": model_answer.prompt_tokens,
                 "completion_tokens": model_answer.completion_tokens, "latency_ms": model_answer.latency_ms}
        final, overridden = apply_facts(answer, facts)
    else:
        scorer, version = "heuristic", HEURISTIC_VERSION
        answer = score_heuristically(conversation, facts)
        final, overridden = apply_facts(answer, facts)

    saved = _save_score(
        conversation_id=conversation_id, claimed_at=claimed_at, final=final, answer=answer, overridden=overridden,
        scorer=scorer, version=version, tries=tries, usage=usage,
    )
    return ScoringResult("scored" if saved else "claim_lost")


def _ask_model(transcript, *, assistant_name, spent=None):
    """One call, and one more when the answer is not the JSON asked for."""
    try:
        return score_with_openai(transcript, assistant_name=assistant_name, spent=spent)
    except InvalidAnswer as first:
        log.warning("Scoring answer was invalid, asking once more: %s", first)
        return score_with_openai(transcript, assistant_name=assistant_name, spent=spent)


def _record_scoring_usage(conversation_id, completion):
    """What one scoring call cost, kept whatever the answer was worth (a rescore adds its own)."""
    record_usage(conversation_id=conversation_id, kind=UsageRecord.Kind.SCORING,
                 model=completion.model or settings.OPENAI_SCORING_MODEL, usage=completion.usage,
                 source_id=completion.id or "")


@transaction.atomic
def _save_score(*, conversation_id, claimed_at, final, answer, overridden, scorer, version, tries, usage):
    # Only while the claim is still ours: a worker that outlived its claim must not write.
    updated = ConversationScore.objects.filter(pk=conversation_id, claimed_at=claimed_at).update(
        status=ConversationScore.Status.SCORED, claimed_at=None, scored_at=timezone.now(), scorer=scorer,
        version=version, model=usage.get("model", ""), escalation_requested=final["escalation_requested"],
        answer=answer, overridden=overridden, failure_reason="", tries=tries,
        prompt_tokens=usage.get("prompt_tokens", 0), completion_tokens=usage.get("completion_tokens", 0),
        latency_ms=usage.get("latency_ms"), updated_at=timezone.now(),
    )
    if not updated:
        return False
    Conversation.objects.filter(pk=conversation_id).update(
        outcome=final["outcome"],
        satisfaction_score=final["satisfaction_score"],
        sentiment=final["sentiment"],
        summary=final["summary"],
        frustration_indicators=final["frustration_indicators"],
        success_markers=final["success_markers"],
    )
    return True


@transaction.atomic
def _record_failure(*, conversation_id, claimed_at, reason, tries):
    """Scoring gave up; a rescore that fails keeps the last score on the conversation beside the reason."""
    log.warning("Scoring conversation %s failed: %s", conversation_id, reason)
    ConversationScore.objects.filter(pk=conversation_id, claimed_at=claimed_at).update(
        status=ConversationScore.Status.FAILED, claimed_at=None, scorer="openai", failure_reason=reason[:2000],
        tries=tries, answer={}, overridden={}, updated_at=timezone.now(),
    )


# --- Conversations nobody closed -----------------------------------------------------------

def close_stale_conversations(*, now=None, limit=500):
    """End calls nobody will close, as abandoned: those idle for ANALYTICS_STALE_CONVERSATION_MINUTES,
    and those whose server process is gone (killed mid-call), however recent.

    A crashed server or a lost socket leaves them open. Each ends at its last activity (so its
    length is true) through communications' end_conversation, whose signal enqueues scoring.
    A call whose process still runs is left alone, so this is safe at any start (communications.processes).
    SMS and email threads are not calls: communications closes them when their reply window
    (SMS_THREAD_WINDOW_MINUTES) has passed, so a text at minute 35 still joins its thread.
    Returns the ids it closed.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ANALYTICS_STALE_CONVERSATION_MINUTES)
    active = Conversation.objects.filter(channel=Channel.VOICE, status=Conversation.Status.ACTIVE)
    candidates = {pk: "inactive" for pk in active.filter(last_activity_at__lt=cutoff).values_list("pk", flat=True)[:limit]}
    for pk, metadata in active.filter(last_activity_at__gte=cutoff).values_list("pk", "metadata")[:limit]:
        if holder_is_gone((metadata or {}).get("held_by")):
            candidates[pk] = "server_gone"
    closed = []
    for conversation_id, reason in candidates.items():
        with transaction.atomic():
            # Check again under the row lock: a message may have arrived, or the call ended, since the query.
            still = active.filter(last_activity_at__lt=cutoff) if reason == "inactive" else active
            conversation = still.select_for_update().filter(pk=conversation_id).first()
            if conversation is None:
                continue
            record_event(conversation_id=conversation_id, type="closed_inactive", at=now,
                         data={"idle_minutes": int((now - conversation.last_activity_at).total_seconds() // 60),
                               "reason": reason})
            end_conversation(conversation_id=conversation_id, outcome=Outcome.ABANDONED, end_reason=reason,
                             at=conversation.last_activity_at)
            closed.append(conversation_id)
    for conversation_id in closed:  # their recordings: a dead process's spool is kept, playable to its last page
        try:
            finish_abandoned_recording(conversation_id=conversation_id,
                                       writer_gone=candidates[conversation_id] == "server_gone")
        except Exception:
            log.exception("Could not keep the recording of closed call %s", conversation_id)
    return closed


def conversations_left_unscored(*, now=None, limit=200):
    """Ended conversations nobody is scoring (a lost task, a worker that died): ids to enqueue again."""
    now = now or timezone.now()
    older = now - timedelta(seconds=settings.ANALYTICS_SCORING_CLAIM_TIMEOUT)
    pending = ConversationScore.Status.PENDING
    return list(
        Conversation.objects.exclude(status=Conversation.Status.ACTIVE)
        .filter(ended_at__lt=older)
        .filter(Q(score=None) | Q(score__status=pending, score__claimed_at=None)
                | Q(score__status=pending, score__claimed_at__lt=older))
        .order_by("ended_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Daily rollups -------------------------------------------------------------------------

def resolve_rollup_date(value, *, today):
    """None or "today" → today, "yesterday" → the day before, "YYYY-MM-DD" → that date."""
    if value in (None, "", "today"):
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if isinstance(value, date_type):
        return value
    return date_type.fromisoformat(value)


def rollup_days(*, first, last, tz=None):
    """Compute and upsert DailyMetric rows (one per channel; voice's split by source) for each clinic-local day
    in [first, last].

    Safe to run any number of times and concurrently: each row is written with one
    INSERT … ON CONFLICT (date, channel) DO UPDATE. Returns the number of rows written.
    """
    tz = tz or ClinicSettings.load().tz
    now = timezone.now()
    rows = [
        DailyMetric(
            date=day, channel=channel, computed_at=now, has_breakdowns=True, **derive(figures),
            **{name: figures[name] for name in [*BREAKDOWN_FIELDS, HOURS_FIELD]},
            by_source=sources_to_store(figures[SOURCES_FIELD]) if channel == Channel.VOICE else {},
        )
        for day, channels in figures_by_day(first, last, tz).items()
        for channel, figures in channels.items()
    ]
    DailyMetric.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["date", "channel"],
        update_fields=[*COUNT_FIELDS, *DERIVED_FIELDS, *BREAKDOWN_FIELDS, HOURS_FIELD, SOURCES_FIELD, "has_breakdowns",
                       "computed_at"],
    )
    return len(rows)


def rollup_day(*, day, tz=None):
    rollup_days(first=day, last=day, tz=tz)
    return list(DailyMetric.objects.filter(date=day).order_by("channel"))
