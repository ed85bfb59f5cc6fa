"""Saving the drawn history through the apps' own builders.

Communications writes the conversations, their messages, details and events
(communications.history); analytics records the scores the scripts gave
(analytics.scoring.given). The demo only decides what happened.
"""

import uuid
from datetime import timedelta

from analytics.scoring.given import GivenScore, apply_given_score, write_given_scores
from communications.history import (
    PastConversation,
    PastEvent,
    PastMessage,
    write_past_conversations,
    write_past_customers,
)
from communications.models import Conversation, Message, VoiceCallDetail
from demo.catalogue import CLINIC_SMS_NUMBER
from demo.scene import Event, Line, Tool
from scheduling.history import write_past_appointments
from scheduling.models import Appointment, TimeOff

DEMO_MARKER = {"demo": True}
CLINIC_EMAIL_DOMAIN = "lumieremedspa.example"
SCORER, SCORER_VERSION = "demo", "1"


def new_uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def random_hex(rng, length):
    return f"{rng.getrandbits(length * 4):0{length}x}"


def save_history(history):
    """Write what `history` (a built HistoryBuilder) drew; returns counts for the report."""
    now = history.now
    for appointment in history.appointments:
        finish_appointment(appointment, now=now, notice_hours=history.clinic.cancellation_notice_hours)
    past, scores = [], []
    for drawn in history.drawn:
        conversation, score = past_conversation(drawn, clinic=history.clinic, now=now)
        past.append(conversation)
        scores.append(score)

    customers = [person.customer for person in history.seen]
    _stamp_customers(customers, past, history.appointments, now=now)
    write_past_customers(customers)
    TimeOff.objects.bulk_create(history.time_off)
    # Appointments go in before the conversations that booked them: the tool calls recorded in those
    # conversations name the appointments' ids. Their conversation ids are known already (drawn as UUIDs),
    # and foreign keys are checked at commit, so the order inside the transaction does not matter.
    for appointment in history.appointments:
        appointment.created_at = appointment._demo["created"]
        appointment.updated_at = max(appointment.created_at, appointment.cancelled_at or appointment.created_at)
    write_past_appointments(history.appointments)
    for item in past:
        for event in item.events:
            event.data = resolve_drafts(event.data)
    counts = write_past_conversations(past)
    write_given_scores(scores)
    conversations = [item.conversation for item in past]
    return {
        "customers": len(customers), "conversations": counts["conversations"], "messages": counts["messages"],
        "appointments": len(history.appointments), "events": counts["events"],
        "by_channel": {channel: sum(1 for c in conversations if c.channel == channel) for channel in ("voice", "sms", "email")},
        "upcoming": sum(1 for a in history.appointments if a.status == Appointment.Status.SCHEDULED),
        "escalated": sum(1 for c in conversations if c.escalated),
    }


def _stamp_customers(customers, past, appointments, *, now):
    """A customer was first seen at their first conversation or booking; new until a visit was completed."""
    first_contact, completed = {}, set()
    for item in past:
        customer = item.conversation.customer
        if customer is not None:
            first_contact[customer.pk] = min(first_contact.get(customer.pk, item.conversation.started_at),
                                             item.conversation.started_at)
    for appointment in appointments:
        key = appointment.customer.pk
        first_contact[key] = min(first_contact.get(key, appointment._demo["created"]), appointment._demo["created"])
        if appointment.status == Appointment.Status.COMPLETED:
            completed.add(key)
    for customer in customers:
        customer.created_at = first_contact.get(customer.pk, now)
        customer.updated_at = now
        customer.is_new_client = customer.pk not in completed


def finish_appointment(appointment, *, now, notice_hours):
    """Its status as of now: cancelled in its conversation, or settled once its time has passed."""
    demo = appointment._demo
    if demo["cancel"]:
        appointment.status = Appointment.Status.CANCELLED
        appointment.cancellation_reason = demo["cancel"]
        appointment.cancelled_at = min(demo["cancel_at"], now)
        appointment.cancelled_by = Appointment.BookedBy.AI
        appointment.late_cancellation = demo["late"]
    elif appointment.end <= now:
        appointment.status = demo["fate"]
        if demo["fate"] == "cancelled":
            appointment.cancellation_reason = demo["cancel_reason"]
            appointment.cancelled_at = max(appointment.start - demo["cancel_lead"], demo["created"])
            appointment.cancelled_by = Appointment.BookedBy.STAFF
            appointment.late_cancellation = appointment.start - appointment.cancelled_at < timedelta(hours=notice_hours)
    else:
        appointment.status = Appointment.Status.SCHEDULED


def past_conversation(drawn, *, clinic, now):
    """The drawn conversation as communications takes it, and its score as analytics records it."""
    conversation, script, scene = drawn.conversation, drawn.script, drawn.scene
    started, ended = drawn.timeline[0][1], drawn.timeline[-1][1]
    if scene.voice:
        ended += timedelta(seconds=scene.rng.uniform(0.5, 2.5))
    conversation.started_at = started
    conversation.ended_at = min(ended, now)
    conversation.status = Conversation.Status.FAILED if script.failed else Conversation.Status.COMPLETED
    conversation.escalated = script.escalated
    metadata = dict(DEMO_MARKER)
    if scene.voice:
        metadata["caller"] = scene.person.customer.phone if scene.person else "anonymous"
    elif scene.email:
        metadata["subject"] = scene.subject
    conversation.metadata = metadata
    score = apply_given_score(
        conversation,
        GivenScore(outcome=script.outcome, satisfaction_score=script.satisfaction, sentiment=script.sentiment,
                   summary=script.summary, frustration_indicators=script.frustration, success_markers=script.success,
                   escalation_requested=script.escalated),
        scorer=SCORER, version=SCORER_VERSION,
        scored_at=min(conversation.ended_at + timedelta(seconds=scene.rng.uniform(15, 90)), now),
    )
    lines = [(turn, at) for turn, at in drawn.timeline if isinstance(turn, Line)]
    messages = [_past_message(scene, turn, at) for turn, at in lines]
    events = _past_events(drawn, lines, messages)
    clinic_address = CLINIC_SMS_NUMBER if scene.sms else (clinic.email or f"hello@{CLINIC_EMAIL_DOMAIN}")
    call = _phone_call(scene, script) if scene.phone else {}
    if call:
        metadata["call_sid"] = call["call_sid"]  # as communications.calls.open_phone_call keeps it
    past = PastConversation(
        conversation=conversation, messages=messages, events=events, end_reason=script.end_reason, call=call,
        clinic_address=clinic_address, subject=scene.subject,
    )
    return past, score


def _phone_call(scene, script):
    """A phone call's details as Twilio's webhooks leave them: its SIDs, both numbers, its final status."""
    rng = scene.rng
    return {
        "source": VoiceCallDetail.Source.PHONE, "call_sid": f"CA{random_hex(rng, 32)}",
        "stream_sid": f"MZ{random_hex(rng, 32)}", "from_number": scene.caller_number,
        "to_number": CLINIC_SMS_NUMBER,  # the clinic's one number takes calls and texts
        "call_status": "completed", "transfer_outcome": script.transfer_outcome,
    }


def _past_message(scene, turn, at):
    rng = scene.rng
    inbound = turn.author == "customer"
    said = PastMessage(
        author=Message.Author.CUSTOMER if inbound else Message.Author.ASSISTANT, content=turn.text, sent_at=at,
        upstream_item_id=f"item_{random_hex(rng, 20)}" if scene.voice and not turn.metadata else "",
        metadata=dict(turn.metadata),
    )
    if scene.sms:
        said.provider_message_id = f"SM{random_hex(rng, 32)}"
        said.delivered_at = None if inbound else at + timedelta(seconds=rng.uniform(1.5, 6))
    elif scene.email:
        domain = scene.person.customer.email.split("@")[1] if inbound else CLINIC_EMAIL_DOMAIN
        said.header = f"<{random_hex(rng, 24)}@{domain}>"
        said.provider_message_id = None if inbound else random_hex(rng, 22)
        said.delivered_at = None if inbound else at + timedelta(seconds=rng.uniform(2, 20))
    return said


def _past_events(drawn, lines, messages):
    """Tool calls (linked to the assistant line that used the result), barge-ins and errors."""
    index_of = {id(turn): index for index, (turn, _) in enumerate(lines)}
    rng = drawn.scene.rng
    events, previous_assistant = [], None
    turns = drawn.timeline
    for position, (turn, at) in enumerate(turns):
        if isinstance(turn, Line):
            if turn.author == "assistant":
                previous_assistant = index_of[id(turn)]
            continue
        if isinstance(turn, Tool):
            following = next((index_of[id(t)] for t, _ in turns[position + 1:]
                              if isinstance(t, Line) and t.author == "assistant"), None)
            data = {"name": turn.name, "arguments": turn.arguments, "result": turn.result,
                    "call_id": f"call_{random_hex(rng, 16)}" if drawn.scene.voice else "",
                    "duration_ms": rng.randint(4, 90)}
            events.append(PastEvent(type="tool_call", at=at, data=data, message=following))
        elif isinstance(turn, Event) and turn.type == "interruption":
            # The caller cut Ava off: what the page had played of her last line, as the relay records it.
            item_id = messages[previous_assistant].upstream_item_id if previous_assistant is not None else ""
            data = {"item_id": item_id, **turn.data}
            data["played_ms"] = data["audio_end_ms"]
            events.append(PastEvent(type=turn.type, at=at, data=data, message=previous_assistant))
        else:
            events.append(PastEvent(type=turn.type, at=at, data=dict(turn.data)))
    return events


def resolve_drafts(value):
    """Tool payloads hold the Appointment drafts until they have ids."""
    if isinstance(value, Appointment):
        return value.pk
    if isinstance(value, dict):
        return {key: resolve_drafts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_drafts(item) for item in value]
    return value
