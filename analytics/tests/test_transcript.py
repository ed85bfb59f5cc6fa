from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from analytics.scoring.transcript import format_transcript
from communications.models import Conversation
from communications.services import add_message, record_event, start_conversation

from .helpers import ASSISTANT, CUSTOMER, make_conversation, tool

pytestmark = pytest.mark.django_db

AT = datetime(2025, 3, 9, 15, 0, tzinfo=dt_timezone.utc)  # 11:00 in New York, the day clocks went forward


def test_it_labels_both_speakers_and_puts_tool_calls_and_results_in_line(clinic):
    conversation = make_conversation(at=AT, lines=[
        (ASSISTANT, "Thank you for calling. How can I help?"),
        (CUSTOMER, "Do you have anything Friday for a HydraFacial?"),
        tool("check_availability", {"service": "hydrafacial", "date": "2025-03-14"}, {"slots": ["10:00", "14:00"]}),
        (ASSISTANT, "Friday I have 10 or 2."),
        tool("book_appointment", {"slot": "10:00"}, {"error": "slot_taken"}),
        (ASSISTANT, "Sorry, 10 was just taken."),
    ])

    text = format_transcript(conversation)

    assert text.splitlines() == [
        "Channel: Voice call",
        "Started: Sunday 2025-03-09 11:00 (America/New_York); length: 1 min 10 s",
        "",
        "Ava (assistant): Thank you for calling. How can I help?",
        "Caller: Do you have anything Friday for a HydraFacial?",
        '[tool call] check_availability({"date": "2025-03-14", "service": "hydrafacial"}) -> {"slots": ["10:00", "14:00"]}',
        "Ava (assistant): Friday I have 10 or 2.",
        '[tool call] book_appointment({"slot": "10:00"}) -> {"error": "slot_taken"}',
        "Ava (assistant): Sorry, 10 was just taken.",
    ]


def test_it_keeps_the_stored_order_when_a_voice_transcript_arrives_late(clinic):
    conversation = start_conversation(channel="voice", at=AT)
    # The caller's words were transcribed after Ava had already answered; the relay numbered them first.
    add_message(conversation_id=conversation.pk, author=ASSISTANT, content="Our hours are 9 to 5.", position=1,
                sent_at=AT + timedelta(seconds=3))
    add_message(conversation_id=conversation.pk, author=CUSTOMER, content="When are you open?", position=0,
                sent_at=AT + timedelta(seconds=5))
    record_event(conversation_id=conversation.pk, type="interruption", at=AT + timedelta(seconds=4))

    lines = format_transcript(Conversation.objects.get(pk=conversation.pk)).splitlines()

    assert lines[-2:] == ["Caller: When are you open?", "Ava (assistant): Our hours are 9 to 5."]
    assert lines[1].endswith("length: still open")


def test_text_channels_call_the_customer_a_customer(clinic):
    conversation = make_conversation(at=AT, channel="sms", lines=[(CUSTOMER, "Are you open Sunday?")])

    assert "Customer: Are you open Sunday?" in format_transcript(conversation)


def test_a_very_long_conversation_keeps_its_beginning_and_its_end(clinic):
    lines = [(CUSTOMER if i % 2 else ASSISTANT, f"line {i} " + "x" * 80) for i in range(400)]
    conversation = make_conversation(at=AT, channel="sms", lines=lines)

    text = format_transcript(conversation, max_chars=5000)

    assert len(text) <= 5000 + 200
    assert "line 0 " in text and "line 399 " in text and "lines omitted" in text
