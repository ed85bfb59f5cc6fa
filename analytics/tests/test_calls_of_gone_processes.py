"""A call whose server process was killed is closed at once; one whose process still runs is left alone."""

import subprocess
import sys
from datetime import timedelta

from django.utils import timezone

from analytics import tasks
from communications.models import Conversation, VoiceCallDetail
from communications.processes import this_process

from .helpers import ASSISTANT, CUSTOMER, make_conversation

STAMP = "import json, os, socket, psutil; print(json.dumps({'host': socket.gethostname(), 'pid': os.getpid(), " \
        "'started': round(psutil.Process().create_time(), 2)}))"


def stamp_of_a_process_that_is_gone():
    """The stamp a real server process left on its call, taken before it exited."""
    import json

    return json.loads(subprocess.run([sys.executable, "-c", STAMP], capture_output=True, text=True, check=True).stdout)


def held_call(*, held_by, minutes_ago=3):
    call = make_conversation(at=timezone.now() - timedelta(minutes=minutes_ago), end=False, lines=[
        (CUSTOMER, "Do you have anything on Friday?"), (ASSISTANT, "Let me look at Friday for you."),
    ])
    Conversation.objects.filter(pk=call.pk).update(metadata={"session_id": "s", "held_by": held_by})
    return call


def test_a_call_cut_by_a_killed_process_is_ended_at_its_last_activity(clinic, django_capture_on_commit_callbacks):
    cut = held_call(held_by=stamp_of_a_process_that_is_gone())
    live = held_call(held_by=this_process())  # this test's own process holds it: still running

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.close_stale_conversations.delay().get()

    assert result["closed"] == 1
    cut.refresh_from_db()
    live.refresh_from_db()
    assert not cut.is_active and cut.ended_at == cut.last_activity_at
    assert cut.messages.count() == 2  # what was said stays
    assert VoiceCallDetail.objects.get(conversation=cut).end_reason == "server_gone"
    assert cut.score.scored_at is not None
    assert live.is_active and live.ended_at is None


def test_a_call_held_on_another_host_waits_for_the_idle_rule(clinic):
    elsewhere = held_call(held_by={"host": "another-host", "pid": 1, "started": 0.0})

    assert tasks.close_stale_conversations.delay().get()["closed"] == 0
    elsewhere.refresh_from_db()
    assert elsewhere.is_active
