"""Workflows that write conversations, messages and events, for every channel."""

from functools import partial

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from communications import live
from communications.models import (
    CommunicationEvent,
    Conversation,
    Customer,
    Message,
    VoiceCallDetail,
)
from communications.phones import normalise_phone
from communications.signals import conversation_ended


def find_or_create_customer(*, phone=None, email=None, name=""):
    """The customer with this phone (or else email), created when new; the name fills a blank one.

    Raises ValidationError for a phone that is not one.
    """
    phone = normalise_phone(phone)
    email = (email or "").strip() or None
    customer = None
    if phone:
        customer = Customer.objects.filter(phone=phone).first()
    if customer is None and email:
        customer = Customer.objects.filter(email__iexact=email).first()
    if customer is None:
        return Customer.objects.create(phone=phone, email=email, name=name.strip())
    changed = []
    if name.strip() and not customer.name:
        customer.name = name.strip()
        changed.append("name")
    if phone and not customer.phone:
        customer.phone = phone
        changed.append("phone")
    if email and not customer.email:
        customer.email = email
        changed.append("email")
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    return customer


def start_conversation(*, channel, customer=None, metadata=None, at=None):
    at = at or timezone.now()
    conversation = Conversation.objects.create(
        channel=channel, customer=customer, started_at=at, last_activity_at=at, metadata=metadata or {}
    )
    if channel == "voice":
        VoiceCallDetail.objects.create(conversation=conversation)
    live.publish_started(conversation)
    return conversation


def next_position(conversation_id):
    """The position after the last message, for channels where arrival order is the order."""
    last = Message.objects.filter(conversation_id=conversation_id).aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def add_message(*, conversation_id, author, content, direction=None, position=None, sent_at=None,
                upstream_item_id="", metadata=None):
    """Save one message (an utterance, an SMS, an email) and mark the conversation active now."""
    sent_at = sent_at or timezone.now()
    if direction is None:
        direction = Message.Direction.INBOUND if author == Message.Author.CUSTOMER else Message.Direction.OUTBOUND
    if position is None:
        position = next_position(conversation_id)
    message = Message.objects.create(
        conversation_id=conversation_id, author=author, direction=direction, content=content,
        position=position, sent_at=sent_at, upstream_item_id=upstream_item_id, metadata=metadata or {},
    )
    Conversation.objects.filter(pk=conversation_id, last_activity_at__lt=sent_at).update(last_activity_at=sent_at)
    live.publish_message(message)
    return message


def record_event(*, conversation_id, type, data=None, message=None, at=None):
    event = CommunicationEvent.objects.create(
        conversation_id=conversation_id, type=type, data=data or {}, message=message, at=at or timezone.now()
    )
    live.publish_event(event)
    return event


def identify_customer(*, conversation_id, customer):
    """Attach a customer to a conversation that had none (a caller who gave their phone)."""
    if Conversation.objects.filter(pk=conversation_id, customer__isnull=True).update(customer=customer):
        live.publish_identified(conversation_id=conversation_id, customer=customer)


def mark_escalated(*, conversation_id, reason="", data=None):
    Conversation.objects.filter(pk=conversation_id).update(escalated=True)
    return record_event(conversation_id=conversation_id, type="escalated", data={"reason": reason, **(data or {})})


@transaction.atomic
def end_conversation(*, conversation_id, status=Conversation.Status.COMPLETED, outcome="", end_reason="",
                     interruption_count=None, at=None):
    """Close a conversation once and announce it (scoring listens) after the commit.

    Returns the conversation, or None when it does not exist. A second call changes nothing.
    """
    conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
    if conversation is None:
        return None
    if not conversation.close(status=status, outcome=outcome, at=at):
        return conversation
    if conversation.channel == "voice":
        updates = {"duration_seconds": conversation.duration_seconds, "end_reason": end_reason}
        if interruption_count is not None:
            updates["interruption_count"] = interruption_count
        VoiceCallDetail.objects.update_or_create(conversation=conversation, defaults=updates)
    transaction.on_commit(
        partial(conversation_ended.send, sender=Conversation, conversation_id=conversation.pk)
    )
    live.publish_ended(conversation)
    return conversation


def count_interruption(*, conversation_id):
    VoiceCallDetail.objects.filter(conversation_id=conversation_id).update(interruption_count=F("interruption_count") + 1)


@transaction.atomic
def merge_customers(*, keep, duplicate):
    """Fold `duplicate` into `keep`: their conversations, appointments and details; then delete it.

    Blank fields of `keep` take the duplicate's values. Relations are found
    generically, so apps that point at Customer (appointments) need no change here.
    """
    if keep.pk == duplicate.pk:
        raise ValueError("A customer cannot be merged into itself.")
    for relation in Customer._meta.related_objects:
        if relation.one_to_many:
            relation.related_model._base_manager.filter(**{relation.field.name: duplicate}).update(**{relation.field.name: keep})
    carried = {name: getattr(duplicate, name) for name in ("name", "phone", "email")}
    # Free the unique phone and email before `keep` takes them.
    duplicate.delete()
    for name, value in carried.items():
        if value and not getattr(keep, name):
            setattr(keep, name, value)
    if duplicate.notes:
        keep.notes = "\n".join(filter(None, [keep.notes, duplicate.notes]))
    keep.is_new_client = keep.is_new_client and duplicate.is_new_client
    keep.sms_opted_out = keep.sms_opted_out or duplicate.sms_opted_out
    keep.sms_opted_out_at = keep.sms_opted_out_at or duplicate.sms_opted_out_at
    keep.save()
    return keep


def revise_message(*, conversation_id, upstream_item_id, content, metadata=None):
    """Replace the words of a saved message, found by its upstream item; `metadata` is merged in.

    The voice relay uses it when the caller cuts Ava off after her reply was saved:
    only what the caller heard stays as the message. Returns the number of messages changed.
    """
    changed = 0
    for message in Message.objects.filter(conversation_id=conversation_id, upstream_item_id=upstream_item_id):
        message.content = content
        message.metadata = {**message.metadata, **(metadata or {})}
        message.save(update_fields=["content", "metadata"])
        live.publish_revised(message)
        changed += 1
    return changed
