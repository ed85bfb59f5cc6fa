"""With no OPENAI_API_KEY the heuristic scorer fills the same fields, and says so."""

from datetime import datetime, timedelta, timezone as dt_timezone

import pytest

from analytics import tasks
from analytics.models import ConversationScore

from .helpers import ASSISTANT, CUSTOMER, book, make_conversation, tool

pytestmark = pytest.mark.django_db

AT = datetime(2025, 6, 3, 14, 0, tzinfo=dt_timezone.utc)


def scored(conversation):
    assert tasks.score_conversation.delay(str(conversation.pk)).get() == "scored"
    conversation.refresh_from_db()
    return conversation


def test_a_happy_booking_scores_high(clinic):
    conversation = make_conversation(at=AT, lines=[
        (CUSTOMER, "I'd like a HydraFacial on Friday."),
        tool("check_availability", {"service": "hydrafacial"}, {"slots": ["10:00"]}),
        tool("book_appointment", {"slot": "10:00"}, {"appointment_id": 7}),
        (ASSISTANT, "You're booked Friday at 10."),
        (CUSTOMER, "Perfect, thank you so much!"),
    ])
    book(conversation, start=AT + timedelta(days=3))

    conversation = scored(conversation)

    assert conversation.score.scorer == "heuristic"
    assert conversation.outcome == "booked"
    assert conversation.sentiment == "positive"
    assert conversation.satisfaction_score >= 8
    assert "booked HydraFacial" in conversation.success_markers
    assert conversation.summary.startswith("The caller booked HydraFacial.")
    assert ConversationScore.objects.get(conversation=conversation).escalation_requested is False


def test_a_frustrated_caller_who_asks_for_a_person_scores_low(clinic):
    conversation = make_conversation(at=AT, lines=[
        (CUSTOMER, "I want to move my appointment."),
        (ASSISTANT, "Which service would you like to book?"),
        (CUSTOMER, "No, that's not what I asked. I already said I want to move it."),
        (ASSISTANT, "Which service would you like to book?"),
        (CUSTOMER, "This is ridiculous. Let me speak to a real person."),
    ])

    conversation = scored(conversation)

    assert conversation.outcome == "unresolved"
    assert conversation.sentiment == "negative"
    assert conversation.satisfaction_score <= 2
    assert "asked for a person" in conversation.frustration_indicators
    assert "had to repeat themselves" in conversation.frustration_indicators
    assert ConversationScore.objects.get(conversation=conversation).escalation_requested is True


def test_a_question_answered_is_information_only(clinic):
    conversation = make_conversation(at=AT, channel="sms", lines=[
        (CUSTOMER, "Where do I park?"),
        tool("get_business_info", {"topic": "parking"}, {"answer": "Free lot behind the building."}),
        (ASSISTANT, "There's a free lot behind the building."),
    ])

    conversation = scored(conversation)

    assert (conversation.outcome, conversation.sentiment) == ("info_only", "neutral")
    assert conversation.satisfaction_score == 6
    assert conversation.summary == "The customer asked questions; nothing was booked."


def test_a_transfer_is_escalated_whatever_the_words(clinic):
    conversation = make_conversation(at=AT, lines=[
        (CUSTOMER, "Great, could a nurse call me about my results?"),
        ("escalated", "clinical question"),
    ])

    assert scored(conversation).outcome == "escalated"
