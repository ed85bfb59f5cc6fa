"""A fixed week-end around the spring DST change in New York, with figures worked out by hand.

2025-03-09 (a Sunday) is 23 hours long in America/New_York: 02:00 EST jumps to 03:00 EDT.
Its local day runs from 05:00 UTC on the 9th to 04:00 UTC on the 10th, so A (local Saturday
night, UTC Sunday) and E (local Sunday night, UTC Monday) catch any day bucketed in UTC.

    A  voice  Sat 03-08 23:30 EST  (03-09 04:30 UTC)  → the 8th
    B  voice  Sun 00:30 EST  availability + booking tools, booked by Ava, 300 s, score 9, positive
    C  voice  Sun 03:30 EDT  the caller said nothing, 20 s, abandoned
    D  voice  Sun 10:00 EDT  transferred to staff, who booked (not Ava), 400 s, score 4, negative
    E  voice  Sun 23:45 EDT  (03-10 03:45 UTC) rescheduled; a cancel that failed; 180 s, score 7, positive
    F  sms    Sun 09:00 EDT  availability checked, nothing booked, reply after 10 s, score 6, neutral
    G  sms    Sun 12:00 EDT  staff replied after 10 s; a cancellation; score 5, mixed
    H  email  Sun 15:00 EDT  booked by Ava, reply after 240 s, score 8, positive
    Cost: B $0.0864, E a response of a model without a price (unknown), H $0.0079, I $0.50
    I  voice  Mon 03-10 00:15 EDT  → the 10th
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from communications.models import Conversation
from communications.services import add_message, end_conversation, record_event, start_conversation
from communications.usage import record_provider_charge, record_usage
from scheduling.models import Appointment

from .helpers import ASSISTANT, CUSTOMER, STAFF, book, make_conversation, tool

NY = ZoneInfo("America/New_York")
SATURDAY, SUNDAY, MONDAY = date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 10)


def local(*args):
    return datetime(*args, tzinfo=NY)


def _score(conversation, *, outcome, score=None, sentiment=""):
    Conversation.objects.filter(pk=conversation.pk).update(outcome=outcome, satisfaction_score=score, sentiment=sentiment)


def build():
    later = local(2025, 3, 20, 10, 0)
    c = {}
    c["A"] = make_conversation(at=local(2025, 3, 8, 23, 30), lines=[(CUSTOMER, "Are you open tomorrow?")],
                               end_after=timedelta(seconds=120))
    _score(c["A"], outcome="info_only", score=7, sentiment="neutral")

    c["B"] = make_conversation(at=local(2025, 3, 9, 0, 30), lines=[
        (CUSTOMER, "Can I get a HydraFacial next week?"),
        tool("check_availability", {"service": "hydrafacial"}, {"slots": ["2025-03-20T10:00"]}),
        tool("book_appointment", {"slot": "2025-03-20T10:00"}, {"appointment_id": 1}),
        (ASSISTANT, "Booked for Thursday at 10."),
    ], end_after=timedelta(seconds=300))
    book(c["B"], start=later)
    _score(c["B"], outcome="booked", score=9, sentiment="positive")

    c["C"] = make_conversation(at=local(2025, 3, 9, 3, 30), lines=[(ASSISTANT, "Hello?")],
                               end_after=timedelta(seconds=20))
    _score(c["C"], outcome="abandoned")

    c["D"] = make_conversation(at=local(2025, 3, 9, 10, 0), lines=[
        (CUSTOMER, "I had a reaction, I need a nurse."), ("escalated", "clinical question"),
    ], end_after=timedelta(seconds=400))
    book(c["D"], start=later + timedelta(days=1), booked_by=Appointment.BookedBy.STAFF)
    _score(c["D"], outcome="escalated", score=4, sentiment="negative")

    c["E"] = make_conversation(at=local(2025, 3, 9, 23, 45), lines=[
        (CUSTOMER, "Move my facial and cancel my peel."),
        tool("reschedule_appointment", {"appointment_id": 9}, {"appointment_id": 9, "start": "2025-03-21T11:00"}),
        tool("cancel_appointment", {"appointment_id": 10}, {"error": "not_found"}),
        (ASSISTANT, "Moved; I couldn't find the peel."),
    ], end_after=timedelta(seconds=180))
    _score(c["E"], outcome="rescheduled", score=7, sentiment="positive")

    c["F"] = make_conversation(at=local(2025, 3, 9, 9, 0), channel="sms", lines=[
        (CUSTOMER, "Any Botox openings Friday?"),
        (ASSISTANT, "Let me look."),
        tool("check_availability", {"service": "botox"}, {"slots": []}),
        (ASSISTANT, "Friday is full, sorry."),
    ])
    _score(c["F"], outcome="info_only", score=6, sentiment="neutral")

    c["G"] = make_conversation(at=local(2025, 3, 9, 12, 0), channel="sms", lines=[
        (CUSTOMER, "Please cancel my appointment tomorrow."),
        (STAFF, "Hi, this is Maria from the front desk. Done."),
        tool("cancel_appointment", {"appointment_id": 11}, {"appointment_id": 11, "status": "cancelled"}),
    ])
    _score(c["G"], outcome="cancelled", score=5, sentiment="mixed")

    start = local(2025, 3, 9, 15, 0)
    h = start_conversation(channel="email", at=start)
    add_message(conversation_id=h.pk, author=CUSTOMER, content="I'd like a consultation.", sent_at=start)
    add_message(conversation_id=h.pk, author=ASSISTANT, content="Booked Saturday 11:00.",
                sent_at=start + timedelta(seconds=240))
    record_event(conversation_id=h.pk, type="tool_call", at=start + timedelta(seconds=200),
                 data={"name": "book_appointment", "arguments": {}, "result": {"appointment_id": 2}})
    end_conversation(conversation_id=h.pk, at=start + timedelta(seconds=300))
    book(h, start=later + timedelta(days=2))
    _score(h, outcome="booked", score=8, sentiment="positive")
    c["H"] = h

    c["I"] = make_conversation(at=local(2025, 3, 10, 0, 15), lines=[(CUSTOMER, "Hi")], end_after=timedelta(seconds=60))
    _score(c["I"], outcome="info_only", score=6, sentiment="neutral")

    # What they cost: B $0.0864, E one response of a model without a price, H $0.0079 (charges as reported).
    record_provider_charge(conversation_id=c["B"].pk, source_id="cost-B", price="0.0864", currency="USD")
    record_usage(conversation_id=c["E"].pk, kind="voice", model="a-model-without-a-price", source_id="resp_E",
                 usage={"input_tokens": 900, "output_tokens": 40, "total_tokens": 940,
                        "input_token_details": {"text_tokens": 900, "audio_tokens": 0}})
    record_provider_charge(conversation_id=h.pk, source_id="cost-H", price="-0.0079", currency="USD")
    record_provider_charge(conversation_id=c["I"].pk, source_id="cost-I", price="0.5", currency="USD")  # the 10th
    return c


# The 9th, worked out by hand (the module docstring).
SUNDAY_VOICE = {
    "conversations": 4, "voice_calls": 4, "talk_time_seconds": 900, "calls_with_duration": 4,
    "average_call_seconds": 225.0,
    "appointments_booked": 1, "appointments_rescheduled": 1, "appointments_cancelled": 0,
    "booking_intent_conversations": 1, "booked_conversations": 1, "conversion_rate": 1.0,
    "satisfaction_sum": 20, "satisfaction_count": 3, "average_satisfaction": 6.67,
    "escalations": 1, "escalation_rate": 0.25, "abandoned": 1, "contained": 2, "containment_rate": 0.6667,
    "first_response_count": 0, "first_response_seconds_total": 0, "average_first_response_seconds": None,
    "cost": "0.0864", "cost_unpriced": 1, "cost_per_booking": "0.0864",
}
SUNDAY_SMS = {
    "conversations": 2, "voice_calls": 0, "talk_time_seconds": 0, "calls_with_duration": 0,
    "average_call_seconds": None,
    "appointments_booked": 0, "appointments_rescheduled": 0, "appointments_cancelled": 1,
    "booking_intent_conversations": 1, "booked_conversations": 0, "conversion_rate": 0.0,
    "satisfaction_sum": 11, "satisfaction_count": 2, "average_satisfaction": 5.5,
    "escalations": 0, "escalation_rate": 0.0, "abandoned": 0, "contained": 1, "containment_rate": 0.5,
    "first_response_count": 2, "first_response_seconds_total": 20, "average_first_response_seconds": 10.0,
    "cost": "0", "cost_unpriced": 0, "cost_per_booking": None,
}
SUNDAY_EMAIL = {
    "conversations": 1, "voice_calls": 0, "talk_time_seconds": 0, "calls_with_duration": 0,
    "average_call_seconds": None,
    "appointments_booked": 1, "appointments_rescheduled": 0, "appointments_cancelled": 0,
    "booking_intent_conversations": 1, "booked_conversations": 1, "conversion_rate": 1.0,
    "satisfaction_sum": 8, "satisfaction_count": 1, "average_satisfaction": 8.0,
    "escalations": 0, "escalation_rate": 0.0, "abandoned": 0, "contained": 1, "containment_rate": 1.0,
    "first_response_count": 1, "first_response_seconds_total": 240, "average_first_response_seconds": 240.0,
    "cost": "0.0079", "cost_unpriced": 0, "cost_per_booking": "0.0079",
}
