"""Conversations built through communications' own services, as the assistants write them."""

from datetime import timedelta

from communications.models import Customer, Message
from communications.services import add_message, end_conversation, record_event, start_conversation
from scheduling.models import Appointment, Provider, Service

STEP = timedelta(seconds=10)


def tool(name, arguments=None, result=None):
    return ("tool", {"name": name, "arguments": arguments or {}, "result": result if result is not None else {"ok": True}})


def make_conversation(*, at, channel="voice", lines=(), end=True, end_after=None, customer=None, **end_kwargs):
    """A conversation started `at`, with `lines` ten seconds apart, ended after the last one (or `end_after`).

    lines: ("customer" | "assistant" | "staff", text), tool(...), ("escalated", reason).
    """
    conversation = start_conversation(channel=channel, customer=customer, at=at)
    moment = at
    for kind, value in lines:
        moment += STEP
        if kind == "tool":
            record_event(conversation_id=conversation.pk, type="tool_call", data=value, at=moment)
        elif kind == "escalated":
            conversation.escalated = True
            conversation.save(update_fields=["escalated"])
            record_event(conversation_id=conversation.pk, type="escalated", data={"reason": value}, at=moment)
        else:
            add_message(conversation_id=conversation.pk, author=kind, content=value, sent_at=moment)
    if end:
        end_conversation(conversation_id=conversation.pk, at=at + end_after if end_after else moment + STEP,
                         **end_kwargs)
    conversation.refresh_from_db()
    return conversation


def catalogue():
    service, _ = Service.objects.get_or_create(
        slug="hydrafacial", defaults={"name": "HydraFacial", "category": Service.Category.FACIALS, "duration_minutes": 60}
    )
    provider, _ = Provider.objects.get_or_create(name="Dana Reyes")
    return service, provider


def book(conversation, *, start, booked_by=Appointment.BookedBy.AI, phone="+12025550123"):
    """An appointment booked in `conversation` (each test picks distinct `start`s: no double booking)."""
    service, provider = catalogue()
    customer, _ = Customer.objects.get_or_create(phone=phone, defaults={"name": "Jamie"})
    return Appointment.objects.create(
        customer=customer, service=service, provider=provider, start=start, end=Appointment.end_for(service, start),
        booked_by=booked_by, conversation=conversation,
    )


CUSTOMER, ASSISTANT, STAFF = Message.Author.CUSTOMER, Message.Author.ASSISTANT, Message.Author.STAFF
