"""Reads of conversations and customers that need care: the inbox, a transcript, a customer's timeline, the customers page."""

import re
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Exists, F, Min, OuterRef, Q, Subquery

from communications.models import Channel, Conversation, Customer, Message
from communications.phones import normalise_phone
from conventions.clinic_time import day_bounds
from conventions.paging import Page

SORTS = {
    "newest": (F("started_at").desc(),),
    "oldest": (F("started_at").asc(),),
    "score_high": (F("satisfaction_score").desc(nulls_last=True), F("started_at").desc()),
    "score_low": (F("satisfaction_score").asc(nulls_last=True), F("started_at").desc()),
    "recent_activity": (F("last_activity_at").desc(),),
}


def conversations_for_inbox(*, channel=None, source=None, status=None, outcome=None, sentiment=None, date_from=None,
                            date_to=None, escalated=None, score_min=None, score_max=None, customer_id=None, q="",
                            sort="newest", tz=None):
    """Conversations matching the inbox's filters, newest first by default.

    `source` ("phone" or "web", VoiceCallDetail.Source) keeps the voice calls that came that way.
    Dates are days in the clinic's zone `tz`, both ends included. `q` matches the
    customer's name, email or phone and words anywhere in the transcript.
    """
    # The call's details come along: each voice row says phone (with the number) or web.
    qs = Conversation.objects.select_related("customer", "voice")
    if channel:
        qs = qs.filter(channel=channel)
    if source:
        qs = qs.filter(channel=Channel.VOICE, voice__source=source)
    if status:
        qs = qs.filter(status=status)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if sentiment:
        qs = qs.filter(sentiment=sentiment)
    if escalated is not None:
        qs = qs.filter(escalated=escalated)
    if score_min is not None:
        qs = qs.filter(satisfaction_score__gte=score_min)
    if score_max is not None:
        qs = qs.filter(satisfaction_score__lte=score_max)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if date_from:
        qs = qs.filter(started_at__gte=day_bounds(date_from, tz=tz)[0])
    if date_to:
        qs = qs.filter(started_at__lt=day_bounds(date_to, tz=tz)[1])
    if q:
        qs = qs.filter(_search(q))
    return qs.order_by(*SORTS.get(sort, SORTS["newest"]))


def _search(q):
    words = Message.objects.filter(conversation=OuterRef("pk"), content__icontains=q)
    match = (
        Q(customer__name__icontains=q)
        | Q(customer__email__icontains=q)
        | Exists(words)
    )
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 4:
        match |= Q(customer__phone__contains=digits)
    return match


def last_messages(conversation_ids):
    """The newest message of each conversation, for previews: {conversation_id: Message}."""
    latest = {}
    for message in Message.objects.filter(conversation_id__in=conversation_ids).order_by("conversation_id", "-position", "-sent_at"):
        latest.setdefault(message.conversation_id, message)
    return latest


def conversation_timeline(conversation):
    """Messages and events of one conversation in one list, in the order they happened.

    Each entry is ("message", Message) or ("event", CommunicationEvent). Messages keep
    their transcript order; an event sits before the first message said after it.
    """
    messages = list(conversation.messages.all())
    events = list(conversation.events.all())
    timeline, index = [], 0
    for message in messages:
        while index < len(events) and events[index].at < message.sent_at:
            timeline.append(("event", events[index]))
            index += 1
        timeline.append(("message", message))
    timeline.extend(("event", event) for event in events[index:])
    return timeline


@dataclass
class CustomerSummary:
    customer: Customer
    first_contact: datetime | None
    channels: list
    conversations: int
    bookings: int
    cancellations: int
    no_shows: int
    average_satisfaction: float | None


def customer_summary(customer):
    conversations = customer.conversations.aggregate(
        first=Min("started_at"), count=Count("id"), avg=Avg("satisfaction_score")
    )
    channels = sorted(set(customer.conversations.values_list("channel", flat=True)))
    # Appointments belong to scheduling; read them through the reverse relation.
    appointments = customer.appointments.aggregate(
        bookings=Count("id"),
        cancellations=Count("id", filter=Q(status="cancelled")),
        no_shows=Count("id", filter=Q(status="no_show")),
    )
    return CustomerSummary(
        customer=customer,
        first_contact=conversations["first"],
        channels=channels,
        conversations=conversations["count"],
        bookings=appointments["bookings"],
        cancellations=appointments["cancellations"],
        no_shows=appointments["no_shows"],
        average_satisfaction=conversations["avg"],
    )


def customer_timeline(customer):
    """Conversations and appointments of one customer, newest first: [(when, kind, obj)]."""
    entries = [(c.started_at, "conversation", c) for c in customer.conversations.select_related("voice")]
    entries += [(a.start, "appointment", a) for a in customer.appointments.select_related("service", "provider")]
    return sorted(entries, key=lambda entry: entry[0], reverse=True)


@dataclass
class CustomerRow:
    """A line of the customers page: who, when they were last in touch, their conversations and what is coming."""

    customer: Customer
    last_contact: datetime | None
    conversations: int = 0
    channels: list = field(default_factory=list)
    latest_conversation_id: object = None
    upcoming: list = field(default_factory=list)


def customer_search(q):
    """The customers `q` names: part of a name or email, or a phone number written any way.

    A number is normalised for the clinic's country ("(201) 555-0107", "201.555.0107" and
    "+1 201 555 0107" are all +12015550107); four or more digits also find numbers that contain them.
    """
    q = q.strip()
    match = Q(name__icontains=q) | Q(email__icontains=q)
    phone = _whole_number(q)
    digits = re.sub(r"\D", "", q)
    if phone:
        # A whole number is one lookup in the unique index; a trigram search for its digits would
        # read the long lists of trigrams every local number shares ("+12", the area code).
        match |= Q(phone=phone)
    elif len(digits) >= 4:
        match |= Q(phone__contains=digits)
    return Customer.objects.filter(match)


def _whole_number(text):
    """`text` as E.164 when it is a complete, valid number for the clinic's country (or with its own code)."""
    try:
        phone = normalise_phone(text)
    except ValidationError:
        return None
    return phone if phone and phonenumbers.is_valid_number(phonenumbers.parse(phone)) else None


def customers_by_last_contact(*, q="", page=1, page_size=25, now):
    """One page of customers (matching `q`), most recently in touch first, as CustomerRows.

    Last contact is the last activity of their newest conversation on any channel; customers
    never in touch (added by staff) follow, newest first. Sorting every customer by an aggregate
    over their conversations would read them all on every page, so this walks conversations from
    the newest (an index, migration 0008) and keeps each customer's first appearance, which is
    their last contact, until the page is full: a page near the top reads a few hundred rows.
    """
    page = max(1, page)
    start = (page - 1) * page_size
    wanted = start + page_size + 1  # one more than the page, to know there is a next one
    # Forgotten customers have nothing left to find or show.
    customers = (customer_search(q) if q.strip() else Customer.objects).filter(forgotten_at=None)
    contacts = Conversation.objects.exclude(customer=None)
    if q.strip():
        contacts = contacts.filter(customer__in=customers.values("pk"))
    # Without a search, skipping the few forgotten customers here is cheaper than joining every row.
    forgotten = set() if q.strip() else set(Customer.objects.exclude(forgotten_at=None).order_by().values_list("pk", flat=True))
    contacts = contacts.order_by("-last_activity_at", "-pk").values_list("customer_id", "last_activity_at")
    last_contact, offset, batch, exhausted = {}, 0, max(4 * wanted, 200), False
    while len(last_contact) < wanted:
        rows = list(contacts[offset:offset + batch])
        for customer_id, at in rows:
            if customer_id not in forgotten:
                last_contact.setdefault(customer_id, at)
        if len(rows) < batch:
            exhausted = True
            break
        offset, batch = offset + batch, batch * 2
    ordered = list(last_contact)[start:wanted]
    if exhausted and len(ordered) < wanted - start:
        # Past everyone who was ever in touch: those who never were, newest first.
        never = (customers.exclude(Exists(Conversation.objects.filter(customer=OuterRef("pk"))))
                 .order_by("-created_at", "-pk").values_list("pk", flat=True))
        skip = max(0, start - len(last_contact))
        ordered += list(never[skip:skip + wanted - start - len(ordered)])
    rows = _customer_rows(ordered[:page_size], last_contact, now=now)
    return Page(items=rows, number=page, page_size=page_size, has_next=len(ordered) > page_size)


def _customer_rows(customer_ids, last_contact, *, now):
    newest = Conversation.objects.filter(customer=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    by_id = Customer.objects.annotate(latest_conversation_id=Subquery(newest)).in_bulk(customer_ids)
    rows = {pk: CustomerRow(customer=by_id[pk], last_contact=last_contact.get(pk),
                            latest_conversation_id=by_id[pk].latest_conversation_id)
            for pk in customer_ids if pk in by_id}
    for entry in (Conversation.objects.filter(customer_id__in=rows).values("customer_id", "channel")
                  .annotate(n=Count("id")).order_by("channel")):
        row = rows[entry["customer_id"]]
        row.conversations += entry["n"]
        row.channels.append(entry["channel"])
    # Appointments belong to scheduling; read them through Customer's reverse relation, never by import.
    appointments = Customer.appointments.rel.related_model.objects
    for appointment in (appointments.filter(customer_id__in=rows, status="scheduled", start__gte=now)
                        .select_related("service", "provider").order_by("start")):
        rows[appointment.customer_id].upcoming.append(appointment)
    return list(rows.values())
