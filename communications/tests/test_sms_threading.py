"""Threads: a text joins the customer's recent conversation, starts a new one after the window or on "start over"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.messaging import sms
from communications.models import Channel, Conversation, Message
from communications.tasks import close_timed_out_threads
from communications.tests.messaging_fixtures import spa  # noqa: F401

pytestmark = pytest.mark.django_db
CALLER = "+12125550142"


def text(body, *, at, n):
    return sms.receive_sms(message_sid=f"SM{n:032d}", from_number=CALLER, body=body, at=at).message


def age(conversation, minutes):
    """Make everything in a conversation `minutes` old, as if it happened then."""
    then = timezone.now() - timedelta(minutes=minutes)
    Conversation.objects.filter(pk=conversation.pk).update(started_at=then, last_activity_at=then)
    Message.objects.filter(conversation=conversation).update(sent_at=then)
    return then


def test_a_text_within_the_window_joins_the_open_conversation(spa, settings, django_capture_on_commit_callbacks):
    settings.SMS_THREAD_WINDOW_MINUTES = 45
    with django_capture_on_commit_callbacks(execute=True):
        first = text("Where do I park?", at=timezone.now(), n=1)
    age(first.conversation, 44)
    with django_capture_on_commit_callbacks(execute=True):
        second = text("And your hours?", at=timezone.now(), n=2)

    assert second.conversation_id == first.conversation_id
    assert Conversation.objects.filter(channel=Channel.SMS).count() == 1


def test_after_the_window_the_old_conversation_ends_and_is_scored_and_a_new_one_starts(
        spa, settings, django_capture_on_commit_callbacks):
    settings.SMS_THREAD_WINDOW_MINUTES = 45
    with django_capture_on_commit_callbacks(execute=True):
        first = text("Where do I park?", at=timezone.now(), n=1)
    then = age(first.conversation, 46)
    with django_capture_on_commit_callbacks(execute=True):
        second = text("Do you do Botox?", at=timezone.now(), n=2)

    old = Conversation.objects.get(pk=first.conversation_id)
    assert second.conversation_id != old.pk
    assert old.status == Conversation.Status.COMPLETED and old.ended_at == then
    assert old.events.filter(type="thread_closed", data__reason="thread_timeout").exists()
    # Ending it after the commit asked analytics to score it (the heuristic scorer runs without a key).
    assert old.score.scored_at is not None


def test_start_over_starts_a_new_conversation(spa, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = text("I want to book a HydraFacial", at=timezone.now(), n=1)
        again = text("start over", at=timezone.now(), n=2)

    assert again.conversation_id != first.conversation_id
    assert Conversation.objects.get(pk=first.conversation_id).status == Conversation.Status.COMPLETED
    # The new conversation is answered afresh.
    assert again.conversation.messages.filter(author=Message.Author.ASSISTANT).exists()


def test_the_beat_job_ends_threads_nobody_wrote_to_within_the_window(spa, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.SMS_THREAD_WINDOW_MINUTES = 45
    with django_capture_on_commit_callbacks(execute=True):
        idle = text("Where do I park?", at=timezone.now(), n=1).conversation
        sms.receive_sms(message_sid="SM" + "9" * 32, from_number="+12125550199", body="Hi", at=timezone.now())
    age(idle, 50)

    with django_capture_on_commit_callbacks(execute=True):
        assert close_timed_out_threads.delay().get() == 1
        assert close_timed_out_threads.delay().get() == 0

    assert Conversation.objects.get(pk=idle.pk).status == Conversation.Status.COMPLETED
    assert Conversation.objects.filter(status=Conversation.Status.ACTIVE).count() == 1
