"""Workflows that write conversations, messages and events, for every channel."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from communications import live
from communications.models import (
    CommunicationEvent,
    Conversation,
    Customer,
    EmailDetail,
    Message,
    OutboundMessage,
    SmsDetail,
    VoiceCallDetail,
)
from communications.phones import normalise_phone
from communications.recordings import remove_recordings
from communications.signals import conversation_ended, conversations_redacted, customer_forgotten

NAME_MAX_LENGTH = Customer._meta.get_field("name").max_length
EMAIL_MAX_LENGTH = Customer._meta.get_field("email").max_length


class CustomerConflict(Exception):
    """A phone or email meant for one customer already belongs to another (`holder`)."""

    LABELS = {"phone": "phone number", "email": "email address"}

    def __init__(self, *, field, holder):
        self.field, self.holder = field, holder
        self.message = f"Another customer already has this {self.LABELS[field]}."
        super().__init__(self.message)


def customer_with_email(email, *, exclude=None):
    """The customer holding `email`, compared as the unique index compares (the database's LOWER)."""
    customers = Customer.objects.alias(email_key=Lower("email")).filter(email_key=Lower(Value(email)))
    if exclude is not None:
        customers = customers.exclude(pk=exclude.pk)
    return customers.first()


def _clean_email(email):
    email = (email or "").strip() or None
    if email and len(email) > EMAIL_MAX_LENGTH:
        raise ValidationError(f"An email address has at most {EMAIL_MAX_LENGTH} characters.", code="invalid_email")
    return email


def _unique_retrying(work):
    """Run `work` in a savepoint; when a unique index refuses it (another request took the phone
    or email a moment ago) run it again, so it finds theirs or raises CustomerConflict."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            if attempt == 2:
                raise


def find_or_create_customer(*, phone=None, email=None, name=""):
    """The customer with this phone (or else email), created when new; the name fills a blank one,
    and a blank phone or email takes the one given.

    Raises ValidationError for a phone that is not one, and CustomerConflict when the customer
    found by phone has no email and the email given is another customer's.
    """
    phone = normalise_phone(phone)
    email = _clean_email(email)
    # A display name: the message that carried it keeps it whole.
    name = (name or "").strip()[:NAME_MAX_LENGTH]

    def find_or_create():
        customer = Customer.objects.filter(phone=phone).first() if phone else None
        if customer is None and email:
            customer = customer_with_email(email)
        if customer is None:
            return Customer.objects.create(phone=phone, email=email, name=name)
        changed = []
        if name and not customer.name:
            customer.name = name
            changed.append("name")
        if phone and not customer.phone:
            customer.phone = phone  # found by email, so no one holds this phone
            changed.append("phone")
        if email and not customer.email:
            holder = customer_with_email(email, exclude=customer)
            if holder is not None:
                raise CustomerConflict(field="email", holder=holder)
            customer.email = email
            changed.append("email")
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
        return customer

    return _unique_retrying(find_or_create)


def update_customer(*, customer, **changes):
    """Correct a customer's name, phone, email, notes or is_new_client (staff, through the API).

    Phone and email are normalised; a phone or email that another customer holds raises
    CustomerConflict, and nothing changes. Returns the customer, saved.
    """
    allowed = {"name", "phone", "email", "notes", "is_new_client"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"update_customer() cannot change {', '.join(sorted(unknown))}")
    if "phone" in changes:
        changes["phone"] = normalise_phone(changes["phone"])
    if "email" in changes:
        changes["email"] = _clean_email(changes["email"])

    def update():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        if changes.get("phone"):
            holder = Customer.objects.filter(phone=changes["phone"]).exclude(pk=current.pk).first()
            if holder is not None:
                raise CustomerConflict(field="phone", holder=holder)
        if changes.get("email"):
            holder = customer_with_email(changes["email"], exclude=current)
            if holder is not None:
                raise CustomerConflict(field="email", holder=holder)
        for field, value in changes.items():
            setattr(current, field, value)
        current.save(update_fields=[*changes, "updated_at"])
        return current

    return _unique_retrying(update)


def start_conversation(*, channel, customer=None, metadata=None, at=None, voice=None):
    """Open a conversation and tell Live now. `voice`: the call's VoiceCallDetail fields (a phone call's
    source and numbers), set before Live now hears of it so it shows a phone call as one."""
    at = at or timezone.now()
    conversation = Conversation.objects.create(
        channel=channel, customer=customer, started_at=at, last_activity_at=at, metadata=metadata or {}
    )
    if channel == "voice":
        VoiceCallDetail.objects.create(conversation=conversation, **(voice or {}))
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


def claim_reply(*, conversation_id, owner, timeout, now=None):
    """Take the right to write this conversation's next reply; returns the claim time, or None when another has it.

    A conditional update, so of two writers exactly one gets it. The same owner (a task redelivered after
    its worker died) takes its own claim back, and a claim older than `timeout` seconds is taken over.
    """
    now = now or timezone.now()
    taken = Conversation.objects.filter(pk=conversation_id).filter(
        Q(reply_claimed_at=None) | Q(reply_claimed_by=owner) | Q(reply_claimed_at__lt=now - timedelta(seconds=timeout))
    ).update(reply_claimed_at=now, reply_claimed_by=owner)
    return now if taken == 1 else None


def release_reply(*, conversation_id, claimed_at):
    Conversation.objects.filter(pk=conversation_id, reply_claimed_at=claimed_at).update(
        reply_claimed_at=None, reply_claimed_by="")


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
    # Fresh, locked rows: a stale `keep` saved at the end would put back what someone changed since,
    # and one merged away by a concurrent merge would be re-inserted holding the duplicate's phone.
    locked = Customer.objects.select_for_update().in_bulk([keep.pk, duplicate.pk])
    if len(locked) < 2:
        raise Customer.DoesNotExist("One of these customers was merged or removed a moment ago.")
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]
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
    keep.whatsapp_opted_out = keep.whatsapp_opted_out or duplicate.whatsapp_opted_out
    keep.whatsapp_opted_out_at = keep.whatsapp_opted_out_at or duplicate.whatsapp_opted_out_at
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


# --- Privacy: retention and forgetting a customer ----------------------------------------------------
# Words are erased, the shape stays: messages keep their author, direction, order and times;
# conversations keep channel, status, times, outcome, score, sentiment and escalation, so the
# metrics (and DailyMetric rows) do not change. Event data keeps its numbers, booleans and the
# few keys below that name what happened rather than who; every other text becomes REDACTED.
REDACTED = "[redacted]"
_KEPT_TOP_LEVEL = {"name", "channel", "kind", "where", "code", "notice", "call_id", "item_id", "source", "type"}
_KEPT_NESTED = {"code"}


def scrub(value, *, top=True):
    """`value` (JSON) with every text replaced by REDACTED except numbers, booleans and kept keys.

    Keys stay, so a query like "the tool call's result has an error" still answers the same.
    """
    if isinstance(value, dict):
        kept = _KEPT_TOP_LEVEL if top else _KEPT_NESTED
        return {key: item if key in kept and isinstance(item, str) else scrub(item, top=False)
                for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, top=False) for item in value]
    if isinstance(value, str):
        return REDACTED if value else value
    return value


def _redact_conversations(conversation_ids, *, reason, at):
    """Erase the words of these conversations (messages, details, events, replies sent); keep their figures."""
    messages = list(Message.objects.filter(conversation_id__in=conversation_ids).only("id", "metadata"))
    for message in messages:
        message.content, message.upstream_item_id = REDACTED, ""
        message.metadata = {**scrub(message.metadata), "redacted": True}
    Message.objects.bulk_update(messages, ["content", "upstream_item_id", "metadata"], batch_size=500)
    SmsDetail.objects.filter(message__conversation_id__in=conversation_ids).update(
        from_number="", to_number="", media_urls=[], error_message="")
    EmailDetail.objects.filter(message__conversation_id__in=conversation_ids).update(
        subject="", from_email="", to=[], cc=[], in_reply_to="", references="", error_message="")
    OutboundMessage.objects.filter(message__conversation_id__in=conversation_ids).update(
        to="", subject="", body=REDACTED, headers={}, error_message="", metadata={"redacted": True})
    # The front desk's notes of a phone message (who called, their number, the gist) hang on no message;
    # they name their conversation. Their `to` is the clinic's own desk.
    OutboundMessage.objects.filter(kind=OutboundMessage.Kind.FRONT_DESK,
                                   metadata__conversation_id__in=[str(pk) for pk in conversation_ids]).update(
        subject="", body=REDACTED, headers={}, error_message="")
    # The caller ID goes as a text's numbers do (the clinic's own number, to_number, stays).
    VoiceCallDetail.objects.filter(conversation_id__in=conversation_ids).update(recording_url="", from_number="")
    # The calls' recordings go with the words (their files after the commit); duration and size stay.
    remove_recordings(conversation_ids=conversation_ids, at=at)
    events = list(CommunicationEvent.objects.filter(conversation_id__in=conversation_ids).only("id", "data"))
    for event in events:
        event.data = scrub(event.data)
    CommunicationEvent.objects.bulk_update(events, ["data"], batch_size=500)
    conversations = list(Conversation.objects.filter(pk__in=conversation_ids).only("id", "metadata"))
    for conversation in conversations:
        conversation.summary = ""
        conversation.frustration_indicators, conversation.success_markers = [], []
        conversation.metadata = {**scrub(conversation.metadata), "redacted_at": at.isoformat(), "redacted_why": reason}
    Conversation.objects.bulk_update(conversations, ["summary", "frustration_indicators", "success_markers",
                                                     "metadata"], batch_size=500)
    # Apps that keep notes on conversations (analytics: the scorer's answer and any failure reason) erase
    # theirs in this transaction.
    conversations_redacted.send(sender=Conversation, conversation_ids=list(conversation_ids))
    return len(conversations)


def redact_expired_transcripts(*, now=None, batch_size=None, max_batches=None):
    """Redact conversations that ended more than TRANSCRIPT_RETENTION_DAYS ago; returns how many.

    0 days keeps everything. Idempotent (a redacted conversation is marked and not taken again)
    and batched: one transaction per `batch_size` conversations, so a large backlog never holds
    a long lock, and a crash loses at most one batch of progress.
    """
    days = settings.TRANSCRIPT_RETENTION_DAYS
    if not days:
        return 0
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    done = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            ids = list(
                Conversation.objects.filter(ended_at__lt=cutoff).exclude(metadata__has_key="redacted_at")
                .order_by("ended_at").values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            done += _redact_conversations(ids, reason="retention", at=now)
        batches += 1
    # Texts and emails Ava sent outside any conversation (confirmations, reminders) age out too.
    OutboundMessage.objects.filter(created_at__lt=cutoff, message__isnull=True).exclude(body=REDACTED).update(
        to="", subject="", body=REDACTED, headers={}, error_message="", metadata={"redacted": True})
    return done


@transaction.atomic
def forget_customer(*, customer):
    """Erase a customer's personal data for good and keep what the clinic counts.

    Name, phone, email and notes go; so do the words and recordings of all their conversations (as
    retention does), the texts and emails sent to them, and their appointments' notes. The row stays,
    anonymous, so their appointments keep service, provider and time and the figures keep
    their conversations. The caller records who asked (conventions.audit). Returns the customer.
    """
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    now = timezone.now()
    conversation_ids = list(customer.conversations.values_list("pk", flat=True))
    for start in range(0, len(conversation_ids), 500):
        _redact_conversations(conversation_ids[start:start + 500], reason="forgotten", at=now)
    customer.outbound_messages.update(to="", subject="", body=REDACTED, headers={}, error_message="",
                                      metadata={"redacted": True})
    for relation in Customer._meta.related_objects:
        # Appointments (scheduling) keep service, provider and time; their free text goes.
        model = relation.related_model
        text_fields = [name for name in ("notes", "cancellation_reason") if _has_field(model, name)]
        if relation.one_to_many and model not in (Conversation, OutboundMessage) and text_fields:
            model._base_manager.filter(**{relation.field.name: customer}).update(**dict.fromkeys(text_fields, ""))
    customer.name, customer.phone, customer.email, customer.notes = "", None, None, ""
    customer.forgotten_at = now
    customer.save()
    # Copies outside our database (calendar events) are rewritten by their owners after the commit.
    transaction.on_commit(partial(customer_forgotten.send, sender=Customer, customer_id=customer.pk))
    return customer


def _has_field(model, name):
    return any(field.name == name for field in model._meta.get_fields())
