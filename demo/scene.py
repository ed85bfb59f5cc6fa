"""What a demo conversation is made of while it is being written: turns, tool calls, scores.

A `Scene` is one conversation on one channel with one (possibly anonymous) person.
The scripts in `scripts.py` write its lines; `history.py` turns it into rows.
"""

from dataclasses import dataclass, field
from datetime import time, timedelta

from demo import tools
from receptionist.tools.registry import succeeded
from scheduling.models import Weekday
from scheduling.spoken import spoken_datetime, spoken_time

SIGNATURE = "Warm regards,\n{assistant}\n{clinic}\n{phone}"


@dataclass
class Tool:
    name: str
    arguments: dict
    result: dict


@dataclass
class Line:
    author: str  # "customer" or "assistant"
    text: str
    metadata: dict = field(default_factory=dict)


@dataclass
class Event:
    """Something besides words: the caller barging in, an error."""

    type: str
    data: dict


@dataclass
class Script:
    outcome: str
    satisfaction: int
    sentiment: str
    summary: str
    frustration: list = field(default_factory=list)
    success: list = field(default_factory=list)
    end_reason: str = ""
    failed: bool = False
    escalated: bool = False
    transfer_outcome: str = ""  # a phone call put through to the front desk: how the desk's line went


@dataclass
class WhenHint:
    """How a customer says when they'd like to come, and what that means for the search."""

    voice: str
    text: str
    first_day: object
    after: time | None = None
    before: time | None = None

    @property
    def part_of_day(self):
        """The tool's words for it: 'morning' before noon, 'afternoon' from noon."""
        if self.before and self.before <= time(12):
            return "morning"
        if self.after and self.after >= time(12):
            return "afternoon"
        return None


SERVICE_PHRASES = {
    "botox": ["Botox", "Botox for my forehead lines", "Botox, just the frown lines", "a Botox touch-up"],
    "dermal-fillers": ["lip filler", "filler for my cheeks", "under-eye filler", "some filler along my jawline"],
    "laser-hair-removal": ["laser hair removal", "laser on my underarms", "laser hair removal on my legs", "bikini laser"],
    "hydrafacial": ["a HydraFacial", "a facial, the HydraFacial", "a HydraFacial before an event"],
    "chemical-peel": ["a chemical peel", "a peel for some sun spots", "one of your peels"],
    "microneedling": ["microneedling", "microneedling for acne scars"],
    "coolsculpting": ["CoolSculpting", "CoolSculpting on my stomach", "CoolSculpting under my chin"],
    "prp-facial": ["the PRP facial", "a vampire facial", "the PRP microneedling facial"],
    "consultation": ["a consultation", "a consult to talk about my options"],
}

ARTICLES = {
    "consultation": "a consultation", "hydrafacial": "a HydraFacial", "chemical-peel": "a chemical peel",
    "prp-facial": "a PRP facial", "dermal-fillers": "filler", "laser-hair-removal": "laser hair removal",
    "microneedling": "microneedling", "botox": "Botox", "coolsculpting": "CoolSculpting",
}

BARE_NAMES = {
    "chemical-peel": "chemical peel", "dermal-fillers": "filler", "laser-hair-removal": "laser hair removal",
    "consultation": "consultation", "prp-facial": "PRP facial", "microneedling": "microneedling",
}

# How often each treatment comes up when people ask to book.
BOOKING_WEIGHTS = {
    "botox": 26, "dermal-fillers": 14, "laser-hair-removal": 14, "hydrafacial": 16, "chemical-peel": 8,
    "microneedling": 7, "coolsculpting": 5, "prp-facial": 4, "consultation": 6,
}


def ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def spoken_hours(rows):
    """'Monday to Friday 9 AM to 7 PM and Saturday 10 AM to 5 PM' from BusinessHours rows."""
    by_day = {}
    for row in rows:
        by_day.setdefault(row.weekday, []).append(row)
    groups = []
    for weekday in Weekday:
        spans = by_day.get(weekday.value)
        if not spans:
            continue
        text = " and ".join(f"{spoken_time(r.opens_at)} to {spoken_time(r.closes_at)}" for r in spans)
        if groups and groups[-1][2] == text and groups[-1][1] == weekday.value - 1:
            groups[-1][1] = weekday.value
        else:
            groups.append([weekday.value, weekday.value, text])
    parts = []
    for first, last, text in groups:
        days = Weekday(first).label if first == last else f"{Weekday(first).label} to {Weekday(last).label}"
        parts.append(f"{days} {text}")
    return " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + f" and {parts[-1]}"


def or_list(items):
    """'a', 'a or b', 'a, b or c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"


def first_sentence(text):
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


class Scene:
    """One conversation being written. Lines and tool calls are recorded in order."""

    def __init__(self, *, channel, rng, clinic, at, person, catalogue, calendar, new_appointment, source="web",
                 caller_number=""):
        self.channel = channel
        # A call came through the clinic's number ("phone", from `caller_number`; "" withheld) or the call page.
        self.source = source if channel == "voice" else ""
        self.caller_number = caller_number
        self.rng = rng
        self.clinic = clinic
        self.tz = clinic.tz
        self.at = at  # when the conversation starts
        self.person = person
        self.catalogue = catalogue
        self.calendar = calendar
        self._new_appointment = new_appointment
        self.turns = []
        self.subject = ""
        self.appointments = []

    # --- who and what ------------------------------------------------------
    @property
    def voice(self):
        return self.channel == "voice"

    @property
    def phone(self):
        """A call to the clinic's number (Twilio), not one from the call page."""
        return self.source == "phone"

    @property
    def sms(self):
        return self.channel == "sms"

    @property
    def email(self):
        return self.channel == "email"

    @property
    def first(self):
        return self.person.first_name if self.person else ""

    @property
    def full(self):
        return self.person.full_name if self.person else ""

    @property
    def known(self):
        """Ava recognises the number or address: they have been in touch before."""
        return bool(self.person and self.person.seen)

    @property
    def local_day(self):
        return self.at.astimezone(self.tz).date()

    def pick(self, *choices):
        return self.rng.choice(choices)

    def by_channel(self, voice, sms, email):
        value = {"voice": voice, "sms": sms, "email": email}[self.channel]
        return self.rng.choice(value) if isinstance(value, list) else value

    def service(self, slug):
        return self.catalogue.services[slug]

    def wanted_service(self):
        slugs = [slug for slug in BOOKING_WEIGHTS if self.calendar.providers_for(self.service(slug))]
        return self.service(self.rng.choices(slugs, weights=[BOOKING_WEIGHTS[s] for s in slugs])[0])

    def named(self, service):
        """The treatment as it sits in a sentence: 'a HydraFacial', 'Botox'."""
        return ARTICLES.get(service.slug, service.name)

    def bare(self, service):
        """The treatment after 'my' or 'your': 'chemical peel', 'HydraFacial'."""
        return BARE_NAMES.get(service.slug, service.name)

    def costs(self, service, *, sentence_start=True):
        """'Botox is $14 a unit…', 'Dermal fillers are $600…' (mid-sentence: 'filler is $600…')."""
        name = service.name if sentence_start else self.bare(service)
        verb = "are" if name.endswith("s") else "is"
        return f"{name} {verb} {service.spoken_price()}"

    def phrase(self, service):
        return self.rng.choice(SERVICE_PHRASES.get(service.slug, [service.name]))

    # --- lines ---------------------------------------------------------------
    def customer(self, text):
        self.turns.append(Line("customer", text))

    def assistant(self, text, **metadata):
        self.turns.append(Line("assistant", text, metadata))

    def tool(self, name, arguments, result):
        self.turns.append(Tool(name, arguments, succeeded(result)))

    def event(self, type, **data):
        self.turns.append(Event(type, data))

    def customer_email(self, body, *, subject=None):
        if subject:
            self.subject = subject
        hello = self.pick("Hi,", "Hello,", "Hi there,", f"Hi {self.clinic.assistant_name},") if subject else self.pick("Hi,", "Hi again,", "")
        signoff = self.pick("Thanks,", "Thank you,", "Best,", "Thanks so much,")
        self.customer(f"{hello}\n\n{body}\n\n{signoff}\n{self.first}".lstrip())

    def assistant_email(self, body):
        signature = SIGNATURE.format(assistant=self.clinic.assistant_name, clinic=self.clinic.name, phone=self.clinic.phone)
        self.assistant(f"Hi {self.first},\n\n{body}\n\n{signature}")

    def greet(self):
        """The caller accepts the recording notice on the call page; Ava speaks first."""
        self.event("consent", accepted=True, channel="voice")
        self.assistant(self.clinic.greeting_text())

    def goodbye(self, text, *, reason="caller is done"):
        """Ava's last line; on a call the end_call tool comes first, as the real tool asks."""
        if self.voice:
            self.tool(*tools.end_call(reason))
        self.assistant(text)

    # --- times ---------------------------------------------------------------
    def local(self, dt):
        return dt.astimezone(self.tz)

    def desk_open(self):
        """Someone is at the front desk now (opening hours, not a closure): a phone call can be put through."""
        local = self.local(self.at)
        return self.calendar.is_open(local.date()) and any(
            row.weekday == local.weekday() and row.opens_at <= local.time() < row.closes_at
            for row in self.catalogue.hours)

    def when(self, dt):
        local = self.local(dt)
        if self.sms:
            return f"{local:%a} {local.month}/{local.day} at {spoken_time(local).replace(' ', '').lower()}"
        if self.voice:
            return f"{local:%A} the {ordinal(local.day)} at {spoken_time(local)}"
        return spoken_datetime(local)

    def plain(self, dt):
        """'Tue Dec 1, 2:30 PM', for summaries and notes."""
        local = self.local(dt)
        return f"{local:%a %b} {local.day}, {spoken_time(local)}"

    def spoken_phone(self):
        digits = self.person.customer.phone[-10:]
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"

    def day_name(self, dt):
        local = self.local(dt).date()
        delta = (local - self.local_day).days
        if delta == 0:
            return "today"
        if delta == 1:
            return "tomorrow"
        return f"{local:%A}" if delta < 7 else f"{local:%A} the {ordinal(local.day)}"

    def when_hint(self):
        """When the customer would like to come in."""
        day = self.local_day
        next_monday = day + timedelta(days=7 - day.weekday())
        next_saturday = day + timedelta(days=(Weekday.SATURDAY - day.weekday()) % 7 or 7)
        hints = [
            WhenHint("sometime this week", "this week", day + timedelta(days=1)),
            WhenHint("next week", "next week", next_monday),
            WhenHint("on a Saturday", "on a saturday", next_saturday),
            WhenHint("sometime after three", "after 3", day + timedelta(days=self.rng.randint(1, 7)), after=time(15)),
            WhenHint("in the morning if possible", "in the morning", day + timedelta(days=self.rng.randint(2, 8)), before=time(11, 30)),
            WhenHint("sometime soon", "soon", day + timedelta(days=self.rng.randint(2, 6))),
            WhenHint("in the next couple of weeks", "in the next couple weeks", day + timedelta(days=self.rng.randint(4, 12))),
            WhenHint("the week after next", "the week after next", next_monday + timedelta(days=7)),
            WhenHint("sometime in the next few weeks", "in the next few weeks", day + timedelta(days=self.rng.randint(7, 20))),
        ]
        return self.rng.choices(hints, weights=[12, 20, 10, 12, 10, 10, 12, 14, 12])[0]

    # --- the diary -----------------------------------------------------------
    def find_options(self, service, hint, *, provider=None, days=12):
        """Free slots matching the hint, or the nearest free ones if nothing matches it."""
        key = self.person.key if self.person else None
        earliest = self.at + timedelta(minutes=self.clinic.min_booking_notice_minutes)
        common = {"service": service, "customer_key": key, "earliest": earliest, "provider": provider}
        found = self.calendar.search(first_day=hint.first_day, days=days, after=hint.after, before=hint.before, **common)
        return found or self.calendar.search(first_day=hint.first_day, days=days, **common)

    def offer(self, options, count=2):
        return self.calendar.spread(options, self.rng, count)

    def appointment(self, *, service, provider, start, **fields):
        """Hold the slot in the diary and draw up the appointment for it."""
        key = self.person.key if self.person else None
        end = self.calendar.hold(provider=provider, service=service, start=start, customer_key=key)
        appointment = self._new_appointment(
            person=self.person, service=service, provider=provider, start=start, end=end, **fields
        )
        self.appointments.append(appointment)
        return appointment

    def offer_sentence(self, offered):
        """'2 PM or 4:30 PM with Sofia' or 'Tuesday the 1st at 2 PM with Sofia, or ...'."""
        same_day = len({self.local(start).date() for _, start in offered}) == 1
        same_provider = len({provider.id for provider, _ in offered}) == 1
        first_names = [provider.name.split()[0] for provider, _ in offered]
        if same_day and same_provider:
            times = or_list(spoken_time(self.local(start)) for _, start in offered)
            return f"{self.day_name(offered[0][1])} at {times} with {first_names[0]}"
        parts = [f"{self.when(start)} with {name}" for (_, start), name in zip(offered, first_names, strict=True)]
        return ", or ".join(parts)
