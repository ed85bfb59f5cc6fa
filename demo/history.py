"""About 90 days of demo history ending now: customers, conversations on every channel, appointments.

Everything is drawn from fixed seeds (one per conversation and one per day), so every run
has the same shape and the same counts; only the dates move with today. demo.writing saves
it, in one transaction, through the apps' builders.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from communications.models import Conversation
from conventions.clinic_time import local_datetime
from demo.calendar import DemoCalendar
from demo.people import make_people
from demo.scene import BOOKING_WEIGHTS, Event, Line, Scene, Tool, spoken_hours
from demo.scripts import ANONYMOUS_OK, OUTCOME_WEIGHTS, SCRIPTS
from demo.writing import new_uuid, save_history
from scheduling.history import reschedule_entry
from scheduling.models import FAQ, Appointment, BusinessHours, Closure, Provider, Service, TimeOff, Weekday

SEED = 2026
HISTORY_DAYS = 90
FUTURE_DAYS = 45
PEOPLE = 320
CHANNEL_WEIGHTS = {"voice": 55, "sms": 30, "email": 15}
# Calls to the clinic's number; the rest come from the call page on its website.
PHONE_SHARE = 0.65
# A caller Ava does not know: their number withheld this often, else a number no demo customer has.
WITHHELD_SHARE = 0.3
UNKNOWN_AREA_CODES = ["332", "929", "631"]
PAST_CANCEL_REASONS = ["Client called to cancel", "Schedule conflict", "Client unwell", "Travel"]


@dataclass
class Catalogue:
    services: dict
    providers: list
    faqs: dict
    hours: list  # BusinessHours rows, by weekday
    hours_text: str
    closures: list


@dataclass
class Drawn:
    """A conversation drawn up but not yet saved."""

    conversation: Conversation
    scene: Scene
    script: object
    timeline: list  # [(turn, at)]


def _load_catalogue(clinic):
    hours = list(BusinessHours.objects.filter(clinic=clinic).order_by("weekday", "opens_at"))
    faqs = {}
    for entry in FAQ.objects.filter(is_active=True):
        faqs.setdefault(entry.category, []).append(entry)
    # Inactive rows too: the history is the past, when a treatment a manager has since paused was offered.
    return Catalogue(
        services={service.slug: service for service in Service.objects.prefetch_related("providers")},
        providers=list(Provider.objects.prefetch_related("services", "schedules")),
        faqs=faqs,
        hours=hours,
        hours_text=spoken_hours(hours),
        closures=list(Closure.objects.filter(date__gte=clinic.local_now().date()).values_list("date", "reason")),
    )


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
        self.seen = []
        self.drawn = []
        self.appointments = []  # Appointment drafts; see _new_appointment for the extra attributes
        self.time_off = []

    # --- who gets in touch ---------------------------------------------------
    def _person_for(self, channel, outcome, rng):
        if channel == "voice" and outcome in ANONYMOUS_OK and rng.random() < 0.35:
            return None
        wants_email = channel == "email"
        fits = [p for p in self.seen if p.customer.email] if wants_email else self.seen
        if self._unseen and (not fits or self._people_rng.random() < 0.42):
            for index, person in enumerate(self._unseen):
                if person.customer.email or not wants_email:
                    self.seen.append(self._unseen.pop(index))
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
            appointment.metadata = {"reschedules": [reschedule_entry(
                from_start=old_start, to_start=start, from_provider=old_provider, to_provider=provider,
                by=Appointment.BookedBy.AI, at=booked_at, tz=self.tz,
            )]}
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
        conversation = Conversation(id=new_uuid(rng), channel=channel, customer=person.customer if person else None)
        source, caller_number = self._line(day, index, channel, person)

        def new_appointment(**fields):
            return self._new_appointment(rng=rng, conversation=conversation, booked_at=at + timedelta(minutes=2), **fields)

        scene = Scene(
            channel=channel, rng=rng, clinic=self.clinic, at=at, person=person, catalogue=self.catalogue,
            calendar=self.calendar, new_appointment=new_appointment, source=source, caller_number=caller_number,
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

    def _line(self, day, index, channel, person):
        """(source, the caller's number) of a call: the phone, from the customer's number (or an unknown or
        withheld one), or the call page. Drawn apart from the conversation, so its words do not depend on it."""
        if channel != "voice":
            return "", ""
        rng = random.Random(f"{self.seed}-line-{day.toordinal() - self.today.toordinal()}-{index}")
        if rng.random() >= PHONE_SHARE:
            return "web", ""
        if person is not None:
            return "phone", person.customer.phone
        if rng.random() < WITHHELD_SHARE:
            return "phone", ""
        return "phone", f"+1{rng.choice(UNKNOWN_AREA_CODES)}5550{rng.randint(100, 199)}"

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
            if not self.calendar.is_open(day) or not self.seen:
                continue
            rng = random.Random(f"{self.seed}-desk-{offset}")
            target = (
                rng.randint(7, 11) if offset <= 0 else rng.randint(5, 8) if offset <= 7
                else rng.randint(2, 5) if offset <= 21 else rng.randint(0, 2)
            )
            for _ in range(max(0, target - per_day[day])):
                person = rng.choice(self.seen)
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
            return save_history(self)
