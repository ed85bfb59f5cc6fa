"""Writing conversations that already happened: their rows hang together as the live services leave them."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from communications.history import (
    PastConversation,
    PastEvent,
    PastMessage,
    write_past_conversations,
    write_past_customers,
)
from communications.models import Conversation, Customer, EmailDetail, Message, SmsDetail, VoiceCallDetail
from communications.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
AT = datetime(2026, 3, 2, 10, 0, tzinfo=NY)


def past(channel, customer, lines, **extra):
    conversation = Conversation(id=uuid.uuid4(), channel=channel, customer=customer, started_at=AT,
                                ended_at=AT + timedelta(minutes=len(lines)), status=Conversation.Status.COMPLETED)
    messages = [PastMessage(author=author, content=text, sent_at=AT + timedelta(minutes=n), header=f"<{n}@x>",
                            provider_message_id=f"id-{channel}-{n}")
                for n, (author, text) in enumerate(lines)]
    return PastConversation(conversation=conversation, messages=messages, **extra)


def test_a_text_thread_is_written_in_order_with_its_numbers_and_segments():
    customer = CustomerFactory()
    thread = past("sms", customer, [("customer", "hi"), ("assistant", "x" * 200), ("customer", "thanks 🙏")],
                  clinic_address="+12125550100")

    write_past_conversations([thread])

    messages = list(Message.objects.filter(conversation=thread.conversation).order_by("position"))
    assert [m.direction for m in messages] == ["inbound", "outbound", "inbound"]
    details = [SmsDetail.objects.get(message=m) for m in messages]
    assert [d.segments for d in details] == [1, 2, 1]
    assert (details[0].from_number, details[0].to_number) == (customer.phone, "+12125550100")
    assert (details[1].from_number, details[1].delivery_status) == ("+12125550100", "delivered")
    assert Conversation.objects.get(pk=thread.conversation.pk).last_activity_at == thread.conversation.ended_at


def test_an_email_thread_replies_to_the_message_before():
    customer = CustomerFactory()
    thread = past("email", customer, [("customer", "Parking?"), ("assistant", "Garage next door.")],
                  clinic_address="hello@clinic.example", subject="Parking")

    write_past_conversations([thread])

    first, reply = EmailDetail.objects.order_by("message__position")
    assert (first.subject, first.in_reply_to, first.from_email) == ("Parking", "", customer.email)
    assert (reply.subject, reply.in_reply_to, reply.to) == ("Re: Parking", "<0@x>", [customer.email])


def test_a_call_counts_its_interruptions_and_links_events_to_their_messages():
    call = past("voice", None, [("assistant", "Hello!"), ("customer", "Hi")], end_reason="caller_hung_up",
                events=[PastEvent(type="interruption", at=AT, data={"played_ms": 900}, message=0),
                        PastEvent(type="consent", at=AT, data={"accepted": True})])

    counts = write_past_conversations([call])

    detail = VoiceCallDetail.objects.get(conversation=call.conversation)
    assert (detail.interruption_count, detail.end_reason, detail.duration_seconds) == (1, "caller_hung_up", 120)
    assert counts == {"conversations": 1, "messages": 2, "events": 2}
    interruption = call.conversation.events.get(type="interruption")
    assert interruption.message.content == "Hello!"


def test_customers_keep_when_they_were_first_seen():
    customer = Customer(name="Jane Roe", phone="+12125550142", created_at=AT, updated_at=AT + timedelta(days=1))

    write_past_customers([customer])

    saved = Customer.objects.get(phone="+12125550142")
    assert (saved.created_at, saved.updated_at) == (AT, AT + timedelta(days=1))
