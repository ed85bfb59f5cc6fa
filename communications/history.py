"""Conversations that already happened, written in bulk: the demo clinic's 90 days, or an import.

The caller describes each conversation (who, when, what was said, what happened); this module
makes the rows hang together the way the live services leave them: messages in position order
with their direction from their author, the conversation's last activity, a call's details (its
length, its interruptions, a phone call's numbers), an SMS's segments and numbers, an email
thread's subjects and headers. Rows are written with bulk_create, a few thousand in seconds.
Nothing is announced (no live updates, no conversation_ended): these conversations are over, and
scoring them is the caller's business (analytics.scoring.given for scores already known).
"""

from dataclasses import dataclass, field
from datetime import datetime

from communications.messaging.sms import segments
from communications.models import (
    CommunicationEvent,
    Conversation,
    Customer,
    DeliveryStatus,
    EmailDetail,
    Message,
    SmsDetail,
    VoiceCallDetail,
)

BATCH = 1000


@dataclass
class PastMessage:
    author: str  # Message.Author
    content: str
    sent_at: datetime
    upstream_item_id: str = ""
    metadata: dict = field(default_factory=dict)
    provider_message_id: str | None = None  # Twilio's SID, the email provider's id (outbound email only)
    header: str = ""  # an email's Message-ID
    delivered_at: datetime | None = None  # outbound SMS and email


@dataclass
class PastEvent:
    type: str
    at: datetime
    data: dict = field(default_factory=dict)
    message: int | None = None  # the index, in the conversation's messages, of the message it belongs to


@dataclass
class PastConversation:
    """A finished conversation: `conversation` unsaved, with its id, channel, customer, status, times, metadata."""

    conversation: Conversation
    messages: list
    events: list = field(default_factory=list)
    end_reason: str = ""  # a call's
    # A call's other details, as VoiceCallDetail's fields: a phone call's source, call_sid, stream_sid,
    # from_number, to_number, call_status, transfer_outcome. Empty: a web call.
    call: dict = field(default_factory=dict)
    clinic_address: str = ""  # the clinic's number (SMS) or address (email) on this conversation
    subject: str = ""  # an email thread's


def write_past_customers(customers):
    """Save new customers keeping the created_at and updated_at they were given (auto_now_add would say now)."""
    stamps = [(customer.created_at, customer.updated_at) for customer in customers]
    Customer.objects.bulk_create(customers, batch_size=BATCH)
    for customer, (created_at, updated_at) in zip(customers, stamps, strict=True):
        customer.created_at, customer.updated_at = created_at, updated_at
    Customer.objects.bulk_update(customers, ["created_at", "updated_at"], batch_size=BATCH)


def write_past_conversations(past):
    """Save finished conversations with their messages, channel details and events; returns the row counts."""
    for item in past:
        conversation = item.conversation
        if item.messages:
            conversation.last_activity_at = max(m.sent_at for m in item.messages)
        if conversation.ended_at is not None:
            conversation.last_activity_at = max(conversation.last_activity_at, conversation.ended_at)
    Conversation.objects.bulk_create([item.conversation for item in past], batch_size=BATCH)

    written = [_messages(item) for item in past]
    Message.objects.bulk_create([message for messages in written for message in messages], batch_size=BATCH)

    calls, sms, emails, events = [], [], [], []
    for item, messages in zip(past, written, strict=True):
        channel = item.conversation.channel
        if channel == "voice":
            calls.append(VoiceCallDetail(
                conversation=item.conversation, duration_seconds=item.conversation.duration_seconds,
                end_reason=item.end_reason, interruption_count=sum(1 for e in item.events if e.type == "interruption"),
                **item.call,
            ))
        elif channel in ("sms", "whatsapp"):
            sms.extend(_sms_detail(item, message, said) for message, said in zip(messages, item.messages, strict=True))
        elif channel == "email":
            emails.extend(_email_details(item, messages))
        events.extend(
            CommunicationEvent(conversation=item.conversation, type=event.type, at=event.at, data=event.data,
                               message=None if event.message is None else messages[event.message])
            for event in item.events
        )
    VoiceCallDetail.objects.bulk_create(calls, batch_size=BATCH)
    SmsDetail.objects.bulk_create(sms, batch_size=BATCH)
    EmailDetail.objects.bulk_create(emails, batch_size=BATCH)
    CommunicationEvent.objects.bulk_create(events, batch_size=BATCH)
    return {"conversations": len(past), "messages": sum(len(m) for m in written), "events": len(events)}


def _messages(item):
    return [
        Message(
            conversation=item.conversation, content=said.content, sent_at=said.sent_at, position=position,
            author=said.author,
            direction=Message.Direction.INBOUND if said.author == Message.Author.CUSTOMER else Message.Direction.OUTBOUND,
            upstream_item_id=said.upstream_item_id, metadata=said.metadata,
        )
        for position, said in enumerate(item.messages)
    ]


def _sms_detail(item, message, said):
    inbound = message.direction == Message.Direction.INBOUND
    phone = item.conversation.customer.phone
    return SmsDetail(
        message=message, provider_message_id=said.provider_message_id,
        from_number=phone if inbound else item.clinic_address, to_number=item.clinic_address if inbound else phone,
        delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
        status_updated_at=message.sent_at, sent_at=message.sent_at, delivered_at=None if inbound else said.delivered_at,
        segments=segments(message.content),
    )


def _email_details(item, messages):
    """One thread: the first message has the subject, every later one replies to the one before it."""
    details, thread = [], []
    address = item.conversation.customer.email
    for message, said in zip(messages, item.messages, strict=True):
        inbound = message.direction == Message.Direction.INBOUND
        details.append(EmailDetail(
            message=message, provider_message_id=None if inbound else said.provider_message_id,
            message_id_header=said.header, subject=f"Re: {item.subject}" if thread else item.subject,
            from_email=address if inbound else item.clinic_address, to=[item.clinic_address if inbound else address],
            in_reply_to=thread[-1] if thread else "", references=" ".join(thread),
            delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
            status_updated_at=message.sent_at, sent_at=message.sent_at,
            delivered_at=None if inbound else said.delivered_at,
        ))
        thread.append(said.header)
    return details
