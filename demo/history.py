"""About 90 days of demo history ending now: customers, conversations on every channel, appointments.

Everything is drawn from fixed seeds (one per conversation and one per day), so every run
has the same shape and the same counts; only the dates move with today. Rows are written
with bulk_create in one transaction.
"""

import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

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
from demo.calendar import DemoCalendar
from demo.catalogue import CLINIC_SMS_NUMBER
from demo.people import make_people
from demo.scene import BOOKING_WEIGHTS, Event, Line, Scene, Tool, spoken_hours
from demo.scripts import ANONYMOUS_OK, OUTCOME_WEIGHTS, SCRIPTS
from scheduling.models import FAQ, Appointment, Closure, Provider, Service, TimeOff, Weekday, local_datetime

SEED = 2026
HISTORY_DAYS = 90
FUTURE_DAYS = 45
PEOPLE = 320
CHANNEL_WEIGHTS = {"voice": 55, "sms": 30, "email": 15}
DEMO_MARKER = {"demo": True}
CLINIC_EMAIL_DOMAIN = "lumieremedspa.example"
PAST_CANCEL_REASONS = ["Client called to cancel", "Schedule conflict", "Client unwell", "Travel"]


@dataclass
class Catalogue:
    services: dict
    providers: list
    faqs: dict
    hours_text: str
    hours_by_day: list
    closures: list


@dataclass
class Drawn:
    """A conversation drawn up but not yet saved."""

    conversation: Conversation
    scene: Scene
    script: object
    timeline: list  # [(turn, at)]
    written: list = field(default_factory=list)  # [(Message, Line)]
    sms: list = field(default_factory=list)
    emails: list = field(default_factory=list)


def _load_catalogue(clinic):
    faqs = {}
    for entry in FAQ.objects.filter(is_active=True):
        faqs.setdefault(entry.category, []).append(entry)
    # Inactive rows too: the history is the past, when a treatment a manager has since paused was offered.
    return Catalogue(
        services={service.slug: service for service in Service.objects.all()},
        providers=list(Provider.objects.prefetch_related("services")),
        faqs=faqs,
        hours_text=spoken_hours(list(clinic.hours.all())),
        hours_by_day=_hours_by_day(clinic),
        closures=list(Closure.objects.filter(date__gte=clinic.local_now().date()).values_list("date", "reason")),
    )


def _hours_by_day(clinic):
    hours = {}
    for row in clinic.hours.all():
        hours.setdefault(row.weekday, []).append(f"{row.opens_at:%-I:%M %p} to {row.closes_at:%-I:%M %p}")
    return [{"day": day.label, "hours": " and ".join(hours[day.value]) if day.value in hours else "closed"} for day in Weekday]


def _uuid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _hex(rng, length):
    return f"{rng.getrandbits(length * 4):0{length}x}"


class HistoryBuilder:
    def __init__(self, *, clinic, now=None, seed=SEED):
        self.clinic = clinic
        self.tz = clinic.tz
        self.now = now or timezone.now()
        self.today = self.now.astimezone(self.tz).date()
        self.seed = seed
        self.catalogue = _load_catalogue(clinic)
        missing = {"consultation", *BOOKING_WEIGHTS} - set(self.catalogue.services)
        if missing:
            raise ValueError(f"The demo history needs these services: {', '.join(sorted(missing))}")
        self.calendar = DemoCalendar(clinic=clinic, providers=self.catalogue.providers)
        people_rng = random.Random(f"{seed}-people")
        self.people = make_people(people_rng, PEOPLE)
        self._people_rng = people_rng
        self._unseen = list(self.people)
        self._seen = []
        self.drawn = []
        self.appointments = []  # Appointment drafts; see _new_appointment for the extra attributes
        self.time_off = []

    # --- who gets in touch ---------------------------------------------------
    def _person_for(self, channel, outcome, rng):
        if channel == "voice" and outcome in ANONYMOUS_OK and rng.random() < 0.35:
            return None
        wants_email = channel == "email"
        fits = [p for p in self._seen if p.customer.email] if wants_email else self._seen
        if self._unseen and (not fits or self._people_rng.random() < 0.42):
            for index, person in enumerate(self._unseen):
                if person.customer.email or not wants_email:
                    self._seen.append(self._unseen.pop(index))
                    return person
        return self._people_rng.choice(fits) if fits else None

    # --- appointments ----------------------------------------------------------
    def _new_appointment(self, *, person, service, provider, start, end, booked_by, rng, conversation=None,
                         booked_at=None, by_conversation=False, booked_days_before=None, notes="", cancel=None,
                         late=False, moved_from=None):
        created = booked_at
        if booked_days_before is not None:  # booked earlier, e.g. the visit a caller now moves or cancels
            created -= timedelta(days=booked_days_before, minutes=rng.randint(0, 600))
        appointment = Appointment(
            customer=person.customer, service=service, provider=provider, start=start, end=end,
            booked_by=booked_by, conversation=conversation if by_conversation else None, notes=notes,
        )
        if moved_from is not None:
            # The shape scheduling.services.reschedule_appointment keeps.
            old_provider, old_start = moved_from
            appointment.metadata = {"reschedules": [{
                "from": old_start.astimezone(self.tz).isoformat(), "to": start.astimezone(self.tz).isoformat(),
                "from_provider": old_provider.pk, "to_provider": provider.pk, "by": "ai",
                "at": booked_at.isoformat(),
            }]}
        # The fate of a visit once its time has passed, drawn now so the shape never depends on the clock.
        roll = rng.random()
        appointment._demo = {
            "created": min(created, self.now - timedelta(minutes=5)),
            "fate": "completed" if roll < 0.86 else "no_show" if roll < 0.92 else "cancelled",
            "cancel": cancel,
            "late": late,
            "cancel_at": booked_at,
            "cancel_lead": timedelta(hours=rng.uniform(3, 72)),
            "cancel_reason": rng.choice(PAST_CANCEL_REASONS),
        }
        completes = cancel is None and appointment._demo["fate"] == "completed"
        person.visits.append((start, completes))
        self.appointments.append(appointment)
        return appointment

    # --- conversations -----------------------------------------------------------
    def _start_time(self, rng, day, channel, index, count):
        if day == self.today:
            # Today's conversations happened in the hours before now, whatever the time of day.
            return self.now - timedelta(minutes=20 + (count - index) * 70 + rng.randint(0, 50))
        if channel == "voice":
            minute = rng.randint(9 * 60, 19 * 60) if rng.random() < 0.85 else rng.choice(
                [rng.randint(7 * 60 + 30, 9 * 60), rng.randint(19 * 60, 22 * 60)])
        elif channel == "sms":
            minute = rng.randint(8 * 60, 22 * 60)
        else:
            minute = rng.randint(6 * 60, 23 * 60 + 30)
        return local_datetime(day, time(minute // 60, minute % 60, rng.randint(0, 59)), self.tz)

    def _draw_conversation(self, *, day, index, count, channel_rng):
        rng = random.Random(f"{self.seed}-{day.toordinal() - self.today.toordinal()}-{index}")
        channel = channel_rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
        weights = OUTCOME_WEIGHTS[channel]
        outcome = channel_rng.choices(list(weights), weights=list(weights.values()))[0]
        person = self._person_for(channel, outcome, rng)
        if person is None and outcome not in ANONYMOUS_OK:
            outcome = "info_only"
        at = self._start_time(rng, day, channel, index, count)
        conversation = Conversation(id=_uuid(rng), channel=channel, customer=person.customer if person else None)

        def new_appointment(**fields):
            return self._new_appointment(rng=rng, conversation=conversation, booked_at=at + timedelta(minutes=2), **fields)

        scene = Scene(
            channel=channel, rng=rng, clinic=self.clinic, at=at, person=person, catalogue=self.catalogue,
            calendar=self.calendar, new_appointment=new_appointment,
        )
        script = SCRIPTS[outcome](scene)
        if channel == "voice" and not script.failed and rng.random() < 0.22:
            self._add_barge_ins(scene, rng)
        timeline = self._timeline(scene, rng)
        # A conversation never ends in the future: slide a long one (an email thread) back.
        overshoot = timeline[-1][1] - (self.now - timedelta(minutes=1))
        if overshoot > timedelta(0):
            timeline = [(turn, when - overshoot) for turn, when in timeline]
        if person is not None:
            person.seen = True
        self.drawn.append(Drawn(conversation=conversation, scene=scene, script=script, timeline=timeline))

    @staticmethod
    def _add_barge_ins(scene, rng):
        spoken = [i for i, turn in enumerate(scene.turns[:-2]) if isinstance(turn, Line) and turn.author == "assistant"]
        for index in sorted(rng.sample(spoken, min(len(spoken), rng.choice([1, 1, 2]))), reverse=True):
            scene.turns.insert(index + 1, Event("interruption", {"audio_end_ms": rng.randint(700, 4200)}))

    def _timeline(self, scene, rng):
        """Each turn with its time: seconds apart on a call, minutes for a text reply, hours for an email."""
        at = scene.at
        timeline = []
        for position, turn in enumerate(scene.turns):
            if position:
                if isinstance(turn, (Tool, Event)):
                    at += timedelta(seconds=rng.uniform(0.3, 1.2))
                elif scene.voice:
                    at += timedelta(seconds=len(timeline[-1][0].text) / 14 if isinstance(timeline[-1][0], Line) else 0)
                    at += timedelta(seconds=rng.uniform(0.8, 2.5))
                elif turn.author == "assistant":
                    at += timedelta(seconds=rng.uniform(3, 9) if scene.sms else rng.uniform(25, 90))
                else:
                    at += timedelta(seconds=rng.uniform(25, 400) if scene.sms else rng.uniform(900, 14400))
            timeline.append((turn, at))
        return timeline

    # --- the front desk's own bookings ---------------------------------------------
    def _fill_front_desk(self):
        weights = {slug: weight for slug, weight in BOOKING_WEIGHTS.items()}
        per_day = Counter(a.start.astimezone(self.tz).date() for a in self.appointments)
        for offset in range(-HISTORY_DAYS + 1, FUTURE_DAYS + 1):
            day = self.today + timedelta(days=offset)
            if not self.calendar.is_open(day) or not self._seen:
                continue
            rng = random.Random(f"{self.seed}-desk-{offset}")
            target = (
                rng.randint(7, 11) if offset <= 0 else rng.randint(5, 8) if offset <= 7
                else rng.randint(2, 5) if offset <= 21 else rng.randint(0, 2)
            )
            for _ in range(max(0, target - per_day[day])):
                person = rng.choice(self._seen)
                service = self.catalogue.services[rng.choices(list(weights), weights=list(weights.values()))[0]]
                options = self.calendar.options(service=service, day=day, customer_key=person.key)
                if service.requires_consultation and options and not person.is_returning(options[0][1]):
                    service = self.catalogue.services["consultation"]
                    options = self.calendar.options(service=service, day=day, customer_key=person.key)
                if not options:
                    continue
                provider, start = rng.choice(options)
                end = self.calendar.hold(provider=provider, service=service, start=start, customer_key=person.key)
                self._new_appointment(
                    person=person, service=service, provider=provider, start=start, end=end, rng=rng,
                    booked_by="online" if rng.random() < 0.2 else "staff", booked_at=start,
                    booked_days_before=rng.randint(1, 21),
                )

    def _plan_time_off(self):
        """A two-day training for the aesthetician about three weeks out."""
        provider = next((p for p in self.catalogue.providers if p.name == "Hannah Cole"), None)
        if provider is None:
            return
        day = self.today + timedelta(days=18)
        day += timedelta(days=(Weekday.THURSDAY - day.weekday()) % 7)
        start = local_datetime(day, time(0), self.tz)
        end = local_datetime(day + timedelta(days=2), time(0), self.tz)
        self.time_off.append(TimeOff(provider=provider, starts_at=start, ends_at=end, reason="Advanced laser training"))
        self.calendar.add_time_off(provider, start, end)

    # --- all of it -------------------------------------------------------------------
    def build(self):
        self._plan_time_off()
        for offset in range(HISTORY_DAYS - 1, -1, -1):
            day = self.today - timedelta(days=offset)
            day_rng = random.Random(f"{self.seed}-day-{-offset}")
            count = day_rng.randint(1, 3) if day.weekday() == Weekday.SUNDAY else day_rng.randint(5, 10)
            for index in range(count):
                self._draw_conversation(day=day, index=index, count=count, channel_rng=day_rng)
        self._fill_front_desk()
        return self

    def save(self):
        """Write everything in one transaction; returns counts by model."""
        with transaction.atomic():
            return self._save()

    def _save(self):
        customers = [person.customer for person in self._seen]
        Customer.objects.bulk_create(customers, batch_size=500)
        TimeOff.objects.bulk_create(self.time_off)

        conversations, calls = [], []
        for drawn in self.drawn:
            self._finish_conversation(drawn)
            conversations.append(drawn.conversation)
        Conversation.objects.bulk_create(conversations, batch_size=500)

        for appointment in self.appointments:
            self._finish_appointment(appointment)
        Appointment.objects.bulk_create(self.appointments, batch_size=500)

        messages, sms, emails, events = [], [], [], []
        for drawn in self.drawn:
            drawn.written = self._messages(drawn)
            messages.extend(message for message, _ in drawn.written)
            calls.extend(self._call_detail(drawn))
        Message.objects.bulk_create(messages, batch_size=1000)
        for drawn in self.drawn:
            sms.extend(drawn.sms)
            emails.extend(drawn.emails)
            events.extend(self._events(drawn))
        VoiceCallDetail.objects.bulk_create(calls, batch_size=500)
        SmsDetail.objects.bulk_create(sms, batch_size=1000)
        EmailDetail.objects.bulk_create(emails, batch_size=1000)
        CommunicationEvent.objects.bulk_create(events, batch_size=1000)

        # auto_now_add stamps bulk_create rows with now; put back when they really happened.
        for appointment in self.appointments:
            appointment.created_at = appointment._demo["created"]
            appointment.updated_at = max(appointment.created_at, appointment.cancelled_at or appointment.created_at)
        Appointment.objects.bulk_update(self.appointments, ["created_at", "updated_at"], batch_size=500)
        first_contact, completed = {}, set()
        for drawn in self.drawn:
            customer = drawn.conversation.customer
            if customer is not None:
                first_contact[customer.pk] = min(first_contact.get(customer.pk, drawn.conversation.started_at), drawn.conversation.started_at)
        for appointment in self.appointments:
            key = appointment.customer.pk
            first_contact[key] = min(first_contact.get(key, appointment._demo["created"]), appointment._demo["created"])
            if appointment.status == Appointment.Status.COMPLETED:
                completed.add(key)
        for customer in customers:
            customer.created_at = first_contact.get(customer.pk, self.now)
            customer.updated_at = self.now
            customer.is_new_client = customer.pk not in completed
        Customer.objects.bulk_update(customers, ["created_at", "updated_at", "is_new_client"], batch_size=500)
        return {
            "customers": len(customers), "conversations": len(conversations), "messages": len(messages),
            "appointments": len(self.appointments), "events": len(events),
            "by_channel": Counter(c.channel for c in conversations),
            "upcoming": sum(1 for a in self.appointments if a.status == Appointment.Status.SCHEDULED),
            "escalated": sum(1 for c in conversations if c.escalated),
        }

    def _finish_conversation(self, drawn):
        conversation, script, scene = drawn.conversation, drawn.script, drawn.scene
        started, ended = drawn.timeline[0][1], drawn.timeline[-1][1]
        if scene.voice:
            ended += timedelta(seconds=scene.rng.uniform(0.5, 2.5))
        conversation.started_at = started
        conversation.ended_at = min(ended, self.now)
        conversation.last_activity_at = conversation.ended_at
        conversation.status = Conversation.Status.FAILED if script.failed else Conversation.Status.COMPLETED
        conversation.outcome = script.outcome
        conversation.satisfaction_score = script.satisfaction
        conversation.sentiment = script.sentiment
        conversation.summary = script.summary
        conversation.frustration_indicators = script.frustration
        conversation.success_markers = script.success
        conversation.escalated = script.escalated
        conversation.scored_at = min(conversation.ended_at + timedelta(seconds=scene.rng.uniform(15, 90)), self.now)
        conversation.scorer = "demo"
        conversation.scorer_version = "1"
        metadata = dict(DEMO_MARKER)
        if scene.voice:
            metadata["caller"] = scene.person.customer.phone if scene.person else "anonymous"
        elif scene.email:
            metadata["subject"] = scene.subject
        conversation.metadata = metadata

    def _finish_appointment(self, appointment):
        demo = appointment._demo
        if demo["cancel"]:
            appointment.status = Appointment.Status.CANCELLED
            appointment.cancellation_reason = demo["cancel"]
            appointment.cancelled_at = min(demo["cancel_at"], self.now)
            appointment.cancelled_by = Appointment.BookedBy.AI
            appointment.late_cancellation = demo["late"]
        elif appointment.end <= self.now:
            appointment.status = demo["fate"]
            if demo["fate"] == "cancelled":
                appointment.cancellation_reason = demo["cancel_reason"]
                appointment.cancelled_at = max(appointment.start - demo["cancel_lead"], demo["created"])
                appointment.cancelled_by = Appointment.BookedBy.STAFF
                appointment.late_cancellation = appointment.start - appointment.cancelled_at < timedelta(
                    hours=self.clinic.cancellation_notice_hours)
        else:
            appointment.status = Appointment.Status.SCHEDULED

    def _messages(self, drawn):
        """Message rows in order, plus their SMS/email details (kept on `drawn` until the messages have ids)."""
        scene, conversation = drawn.scene, drawn.conversation
        rng = scene.rng
        customer = scene.person.customer if scene.person else None
        written = []
        thread = []
        for turn, at in drawn.timeline:
            if not isinstance(turn, Line):
                continue
            inbound = turn.author == "customer"
            message = Message(
                conversation=conversation, content=turn.text, sent_at=at, position=len(written),
                author=Message.Author.CUSTOMER if inbound else Message.Author.ASSISTANT,
                direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
                upstream_item_id=f"item_{_hex(rng, 20)}" if scene.voice and not turn.metadata else "",
                metadata=dict(turn.metadata),
            )
            written.append((message, turn))
            if scene.sms:
                drawn.sms.append(self._sms_detail(message, customer, inbound, rng))
            elif scene.email:
                drawn.emails.append(self._email_detail(message, customer, inbound, scene.subject, thread, rng))
        return written

    def _sms_detail(self, message, customer, inbound, rng):
        gsm = all(ord(ch) < 128 for ch in message.content)
        single, multi = (160, 153) if gsm else (70, 67)
        length = len(message.content)
        return SmsDetail(
            message=message,
            provider_message_id=f"SM{_hex(rng, 32)}",
            from_number=customer.phone if inbound else CLINIC_SMS_NUMBER,
            to_number=CLINIC_SMS_NUMBER if inbound else customer.phone,
            delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
            status_updated_at=message.sent_at,
            sent_at=message.sent_at,
            delivered_at=None if inbound else message.sent_at + timedelta(seconds=rng.uniform(1.5, 6)),
            segments=1 if length <= single else math.ceil(length / multi),
        )

    def _email_detail(self, message, customer, inbound, subject, thread, rng):
        domain = customer.email.split("@")[1] if inbound else CLINIC_EMAIL_DOMAIN
        header = f"<{_hex(rng, 24)}@{domain}>"
        clinic_email = self.clinic.email or f"hello@{CLINIC_EMAIL_DOMAIN}"
        detail = EmailDetail(
            message=message,
            provider_message_id=None if inbound else _hex(rng, 22),
            message_id_header=header,
            subject=subject if not thread else f"Re: {subject}",
            from_email=customer.email if inbound else clinic_email,
            to=[clinic_email] if inbound else [customer.email],
            in_reply_to=thread[-1] if thread else "",
            references=" ".join(thread),
            delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
            status_updated_at=message.sent_at,
            sent_at=message.sent_at,
            delivered_at=None if inbound else message.sent_at + timedelta(seconds=rng.uniform(2, 20)),
        )
        thread.append(header)
        return detail

    def _call_detail(self, drawn):
        if not drawn.scene.voice:
            return []
        conversation = drawn.conversation
        return [VoiceCallDetail(
            conversation=conversation,
            duration_seconds=conversation.duration_seconds,
            end_reason=drawn.script.end_reason,
            interruption_count=sum(1 for turn, _ in drawn.timeline if isinstance(turn, Event) and turn.type == "interruption"),
        )]

    def _events(self, drawn):
        """Tool calls (linked to the assistant line that used the result), barge-ins and errors."""
        by_turn = {id(turn): message for message, turn in drawn.written}
        rng = drawn.scene.rng
        events, previous_assistant = [], None
        turns = drawn.timeline
        for index, (turn, at) in enumerate(turns):
            if isinstance(turn, Line):
                if turn.author == "assistant":
                    previous_assistant = by_turn.get(id(turn))
                continue
            if isinstance(turn, Tool):
                following = next((by_turn.get(id(t)) for t, _ in turns[index + 1:] if isinstance(t, Line) and t.author == "assistant"), None)
                data = {"name": turn.name, "arguments": _resolve(turn.arguments), "result": _resolve(turn.result),
                        "call_id": f"call_{_hex(rng, 16)}" if drawn.scene.voice else "", "duration_ms": rng.randint(4, 90)}
                events.append(CommunicationEvent(conversation=drawn.conversation, message=following, type="tool_call", at=at, data=data))
            elif turn.type == "interruption":
                # The caller cut Ava off: what the page had played of her last line, as the relay records it.
                data = {"item_id": previous_assistant.upstream_item_id if previous_assistant else "", **turn.data}
                data["played_ms"] = data["audio_end_ms"]
                events.append(CommunicationEvent(conversation=drawn.conversation, message=previous_assistant, type=turn.type, at=at, data=data))
            else:
                events.append(CommunicationEvent(conversation=drawn.conversation, message=None, type=turn.type, at=at, data=dict(turn.data)))
        return events


def _resolve(value):
    """Tool payloads hold the Appointment drafts until they have ids."""
    if isinstance(value, Appointment):
        return value.pk
    if isinstance(value, dict):
        return {key: _resolve(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item) for item in value]
    return value
