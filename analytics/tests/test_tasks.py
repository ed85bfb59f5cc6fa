"""The signal that enqueues scoring, the beat tasks, and the retry timing."""

import random
import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from analytics import tasks
from analytics.models import ConversationScore
from ava.celery import app
from communications.models import Conversation, VoiceCallDetail
from communications.services import end_conversation

from .helpers import ASSISTANT, CUSTOMER, make_conversation

pytestmark = pytest.mark.django_db


def test_ending_a_conversation_gets_it_scored(clinic, django_capture_on_commit_callbacks):
    conversation = make_conversation(at=timezone.now() - timedelta(minutes=3), lines=[
        (CUSTOMER, "What time do you close today?"), (ASSISTANT, "We close at 6."),
    ], end=False)

    with django_capture_on_commit_callbacks(execute=True):
        end_conversation(conversation_id=conversation.pk)

    conversation.refresh_from_db()
    assert conversation.score.scored_at is not None
    assert (conversation.score.scorer, conversation.outcome) == ("heuristic", "info_only")


def test_a_vanished_conversation_is_nothing_to_do(clinic):
    assert tasks.score_conversation.delay(str(uuid.uuid4())).get() == "missing"


def test_conversations_left_open_are_closed_as_abandoned_and_scored(clinic, django_capture_on_commit_callbacks):
    now = timezone.now()
    lost = make_conversation(at=now - timedelta(minutes=50), lines=[(CUSTOMER, "Hi, do you do lip filler?")], end=False)
    silent = make_conversation(at=now - timedelta(minutes=40), lines=[(ASSISTANT, "Hello, this is Ava.")], end=False)
    live = make_conversation(at=now - timedelta(minutes=45), end=False)
    live.last_activity_at = now - timedelta(minutes=5)
    live.save(update_fields=["last_activity_at"])

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.close_stale_conversations.delay().get()

    assert result["closed"] == 2
    lost.refresh_from_db()
    silent.refresh_from_db()
    live.refresh_from_db()
    assert live.is_active
    assert not lost.is_active and lost.ended_at == lost.last_activity_at  # ended when it went quiet
    assert VoiceCallDetail.objects.get(conversation=lost).end_reason == "inactive"
    assert lost.score.scored_at is not None and lost.score.scorer == "heuristic"
    assert lost.events.filter(type="closed_inactive").exists()
    assert (silent.outcome, silent.score.scorer) == ("abandoned", "rules")


def test_an_sms_thread_is_left_to_its_reply_window_not_closed_as_an_abandoned_call(clinic, settings):
    settings.SMS_THREAD_WINDOW_MINUTES = 45
    thread = make_conversation(at=timezone.now() - timedelta(minutes=35), channel="sms",
                               lines=[(CUSTOMER, "Can I move my facial?")], end=False)

    assert tasks.close_stale_conversations.delay().get()["closed"] == 0

    thread.refresh_from_db()
    assert thread.is_active


def test_the_beat_requeues_conversations_whose_scoring_was_lost(clinic):
    ended_long_ago = make_conversation(at=timezone.now() - timedelta(hours=2), lines=[(CUSTOMER, "Hello?")])
    just_ended = make_conversation(at=timezone.now() - timedelta(minutes=1), lines=[(CUSTOMER, "Hello?")],
                                   end_after=timedelta(seconds=30))

    assert tasks.close_stale_conversations.delay().get() == {"closed": 0, "requeued": 1}

    assert ConversationScore.objects.get(pk=ended_long_ago.pk).scored_at is not None
    assert not ConversationScore.objects.filter(pk=just_ended.pk).exists()  # its own task is still on the way


def test_retry_waits_grow_with_jitter_and_all_fit_well_inside_the_visibility_timeout(settings):
    settings.ANALYTICS_SCORING_RETRY_BASE_DELAY = 5
    settings.ANALYTICS_SCORING_RETRY_MAX_DELAY = 120
    settings.ANALYTICS_SCORING_MAX_RETRIES = 5
    random.seed(7)  # Celery's backoff draws its jitter from the random module
    waits = [[tasks.retry_wait(n) for n in range(5)] for _ in range(200)]

    for n, ceiling in enumerate([5, 10, 20, 40, 80]):
        seen = [row[n] for row in waits]
        assert 0 <= min(seen) and max(seen) <= ceiling
        assert max(seen) - min(seen) > ceiling / 2  # jittered (full jitter), not one fixed value
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert sum(max(row) for row in zip(*waits)) < visibility / 4  # the longest of every wait, together


def test_the_wait_cap_follows_the_broker_visibility_timeout(settings):
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 400}
    settings.ANALYTICS_SCORING_MAX_RETRIES = 5

    assert tasks.longest_wait() == 20
    assert max(tasks.retry_wait(9) for _ in range(100)) <= 20
    assert tasks.retry_wait(0, retry_after=3600) == 20  # a long Retry-After is honoured only up to the cap
    assert tasks.retry_wait(0, retry_after=12) >= 12


def test_the_beat_schedule_runs_the_analytics_tasks():
    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("analytics.tasks.close_stale_conversations", "analytics.tasks.rollup_daily_metrics"):
        assert name in app.tasks
    rollups = [e.get("kwargs", {}).get("date") for e in django_settings.CELERY_BEAT_SCHEDULE.values()
               if e["task"] == "analytics.tasks.rollup_daily_metrics"]
    assert sorted(rollups) == ["today", "yesterday"]
    assert "analytics.tasks.close_stale_conversations" in schedule


def test_the_scoring_task_acknowledges_late():
    assert tasks.score_conversation.acks_late is True


def test_rollup_task_rolls_up_the_clinics_today(clinic):
    today = clinic.local_now().date()
    make_conversation(at=timezone.now(), lines=[(CUSTOMER, "Hi")], end=False)

    assert tasks.rollup_daily_metrics.delay().get() == today.isoformat()
    assert tasks.rollup_daily_metrics.delay(date="yesterday").get() == (today - timedelta(days=1)).isoformat()

    from analytics.models import DailyMetric
    assert DailyMetric.objects.get(date=today, channel="voice").conversations == 1
