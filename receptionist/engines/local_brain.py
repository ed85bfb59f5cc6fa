"""The local engine's simple brain: typed turns, plain keyword parsing, the same tools as OpenAI.

It is an offline demo, not a language model. It cannot hear audio and says so.
It answers hours, prices, services, providers and FAQ entries from the
catalogue, books, finds and cancels appointments, hands over to staff and ends
calls — always by calling the shared tools the way a model would, so the
bridge, the tools and the records are exercised exactly as with OpenAI.
"""

import json
import re
from datetime import date, datetime, timedelta

from receptionist.prompt import line_to_say
from receptionist.tools.info import words
from scheduling.spoken import spoken_day, spoken_time

OFFLINE_AUDIO_LINE = ("I'm running as an offline demo, so I can't hear audio. Please type your question in the box "
                      "below and I'll answer.")
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
EMERGENCY = re.compile(r"emergenc|can'?t breathe|trouble breathing|short of breath|swell|vision|blanch|"
                       r"turn(ed|ing)? (white|grey|gray)|allergic|severe pain|911", re.I)
PERSON = re.compile(r"\b(human|real person|a person|someone|staff|manager|front desk|transfer|speak to|talk to)\b", re.I)
GOODBYE = re.compile(r"\b(bye|goodbye|that'?s all|hang up|nothing else|end (the )?call)\b", re.I)
IDENTITY = re.compile(r"\b(who are you|what are you|your name|are you (a )?(robot|bot|human|real|ai|chatgpt))\b",
                      re.I)
BOOK = re.compile(r"\b(book|appointment|schedule|availab\w*|openings|slots?|come in)\b", re.I)
CANCEL = re.compile(r"\bcancel", re.I)
HOURS = re.compile(r"\b(hours|open|close|closing|opening time)\b", re.I)
PRICE = re.compile(r"\b(price|cost|how much|charge|fee)\b", re.I)
PROVIDERS = re.compile(r"\b(provider|doctor|nurse|injector|who (does|do|performs))\b", re.I)
PHONE = re.compile(r"(\+?\d[\d\s().-]{8,}\d)")
NAME = re.compile(r"(?i:my name is|name's|this is|i am|i'm)\s+([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?)")
BARE_NAME = re.compile(r"\s*([A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+){1,2})\s*[.!]?\s*")
TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)|\bat (\d{1,2})(?::(\d{2}))?\b|\b(\d{1,2}):(\d{2})\b|\b(noon)\b",
                  re.I)
ORDINAL = re.compile(r"\b(first|earliest|second|third|last|1st|2nd|3rd)\b", re.I)
ORDINALS = {"first": 0, "earliest": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1}
PART_OF_DAY = re.compile(r"\b(morning|afternoon|evening)\b", re.I)
OFFERED = 3


def parse_date(text, today):
    t = text.lower()
    if "day after tomorrow" in t:
        return today + timedelta(days=2)
    if "tomorrow" in t:
        return today + timedelta(days=1)
    if "today" in t:
        return today
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", t)
    if iso:
        return date(*map(int, iso.groups()))
    for n, month in enumerate(MONTHS, 1):
        m = re.search(rf"\b{month[:3]}[a-z]*\.?\s+(\d{{1,2}})|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{month[:3]}", t)
        if m:
            day = int(m.group(1) or m.group(2))
            candidate = date(today.year, n, day)
            return candidate if candidate >= today else date(today.year + 1, n, day)
    for n, name in enumerate(WEEKDAYS):
        if re.search(rf"\b{name}\b", t):
            ahead = (n - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    return None


def parse_time(text):
    m = TIME.search(text)
    if not m:
        return None
    if m.group(8):
        return 12, 0
    if m.group(1):
        hour, minute, meridiem = int(m.group(1)), int(m.group(2) or 0), m.group(3).lower()[0]
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    elif m.group(4):
        hour, minute = int(m.group(4)), int(m.group(5) or 0)
        hour += 12 if 1 <= hour <= 7 else 0  # "at 3" at a spa means the afternoon
    else:
        hour, minute = int(m.group(6)), int(m.group(7))
        hour += 12 if 1 <= hour <= 7 else 0  # "the 2:30" too
    return (hour, minute) if hour < 24 and minute < 60 else None


class LocalBrain:
    """The responder of one local session (see receptionist.engines.simulated)."""

    def __init__(self):
        self.cursor = 0
        self.catalogue = {}
        self.waiting_text = None
        self.booking = {}
        self.cancelling = {}

    async def respond(self, response):
        line = line_to_say(response.instructions)
        if line:
            await response.say(line, audio=False)
            return
        sim = response.sim
        new = sim.items[self.cursor:]
        try:
            outputs = [i for i in new if i["type"] == "function_call_output"]
            users = [i for i in new if i["type"] == "message" and i.get("role") == "user"]
            if outputs:
                await self.after_tools(response, outputs)
            elif users:
                await self.after_user(response, users[-1])
            else:
                await response.say("How can I help you?", audio=False)
        finally:
            self.cursor = len(sim.items)

    # --- turns ---------------------------------------------------------------------------
    async def after_user(self, response, item):
        text = " ".join(c.get("text", "") for c in item.get("content", []) if c.get("type") == "input_text").strip()
        if not text:
            await response.say(OFFLINE_AUDIO_LINE, audio=False)
            return
        if not self.catalogue:
            # Learn the clinic first, like a model reading its tools: three calls in one response.
            self.waiting_text = text
            await response.call_function("get_current_datetime", {})
            await response.call_function("get_business_info", {})
            await response.call_function("get_service_info", {})
            return
        await self.handle_text(response, text)

    async def after_tools(self, response, outputs):
        calls = {i["call_id"]: i for i in response.sim.items if i["type"] == "function_call"}
        for item in outputs:
            name = calls.get(item["call_id"], {}).get("name", "")
            result = json.loads(item["output"])
            if name in {"get_current_datetime", "get_business_info", "get_service_info"}:
                self.catalogue[name] = result
                continue
            await self.after_tool(response, name, result)
        if self.waiting_text and len(self.catalogue) == 3:
            text, self.waiting_text = self.waiting_text, None
            await self.handle_text(response, text)

    async def after_tool(self, response, name, result):
        say = lambda text: response.say(text, audio=False)  # noqa: E731
        if not result.get("ok"):
            for key in ("time", "chosen", "checked"):
                self.booking.pop(key, None)
            alternatives = [self._start(a["start"]) for a in result.get("alternatives", [])][:3]
            extra = f" I could offer {self._list(spoken_time(a) + f' on {a:%A}' for a in alternatives)}." if alternatives else ""
            await say(f"I'm sorry, I couldn't do that: {result.get('error', 'something went wrong')}{extra}")
        elif name == "check_availability":
            self.booking["openings"] = [self._start(o["start"]) for o in result.get("openings", [])]
            self.booking["nearest"] = [self._start(o["start"]) for o in result.get("nearest_openings", [])]
            self.booking["checked"] = self._asked(self.booking)
            await self.continue_booking(response, "")
        elif name == "book_appointment":
            a = result["appointment"]
            self.booking = {}
            await say(f"You're booked: {a['service']} with {a['provider']} on {a['spoken']}. We look forward to "
                      "seeing you! Is there anything else I can help with?")
        elif name == "find_appointments":
            found = result.get("appointments", [])
            if not found:
                self.cancelling = {}
                await say("I couldn't find any upcoming appointments under that number.")
            elif len(found) == 1 or self.cancelling.get("pick") is not None:
                chosen = found[min(self.cancelling.get("pick") or 0, len(found) - 1)]
                await response.call_function("cancel_appointment", {"appointment_id": chosen["appointment_id"],
                                                                    "phone": self.cancelling["phone"]})
            else:
                self.cancelling["found"] = found
                listed = self._list(f"{n}: {a['service']} on {a['spoken']}" for n, a in enumerate(found, 1))
                await say(f"I see {len(found)} appointments: {listed}. Which number should I cancel?")
        elif name == "cancel_appointment":
            self.cancelling = {}
            late = " As it's within our notice period, it counts as a late cancellation." if result.get(
                "late_cancellation") else ""
            await say(f"Done: your {result['appointment']['service']} on {result['appointment']['spoken']} is "
                      f"cancelled.{late}")
        elif name == "transfer_to_staff":
            await say(result["what_happens_next"])
        elif name == "end_call":
            await say(f"Thank you for contacting {self._clinic('name')}. Goodbye!")
        else:
            await say("Done.")

    async def handle_text(self, response, text):
        say = lambda line: response.say(line, audio=False)  # noqa: E731
        if EMERGENCY.search(text):
            await say("If this is urgent, please call 911 now. I'm passing this to our staff right away.")
            await response.call_function("transfer_to_staff", {"reason": f"Possible emergency: {text[:200]}",
                                                               "urgent": True})
        elif PERSON.search(text):
            await response.call_function("transfer_to_staff", {"reason": "The caller asked for a person."})
        elif GOODBYE.search(text) and not BOOK.search(text):
            await response.call_function("end_call", {"reason": "caller is done"})
        elif IDENTITY.search(text):
            await say(f"I'm {self._clinic('assistant_name')}, the virtual receptionist at {self._clinic('name')}. "
                      "In this offline demo I understand typed messages.")
        elif CANCEL.search(text) or self.cancelling:
            await self.handle_cancel(response, text)
        elif BOOK.search(text) or self.booking:
            await self.continue_booking(response, text)
        else:
            await say(self.answer(text))

    async def handle_cancel(self, response, text):
        phone = PHONE.search(text)
        if phone:
            self.cancelling["phone"] = phone.group(1)
        if self.cancelling.get("found"):
            pick = re.search(r"\b(\d)\b", text) or ORDINAL.search(text)
            if pick:
                index = {"first": 1, "second": 2, "third": 3, "1st": 1, "2nd": 2, "3rd": 3}.get(
                    pick.group(1).lower(), None) or int(pick.group(1))
                chosen = self.cancelling["found"][min(index, len(self.cancelling["found"])) - 1]
                await response.call_function("cancel_appointment", {"appointment_id": chosen["appointment_id"],
                                                                    "phone": self.cancelling["phone"]})
                return
        if "phone" not in self.cancelling:
            self.cancelling["asked"] = True
            await response.say("I can help with that. What phone number is the appointment under?", audio=False)
            return
        await response.call_function("find_appointments", {"phone": self.cancelling["phone"]})

    async def continue_booking(self, response, text):
        """One step of a booking. The thread (service, day, part of the day, the openings offered, the one
        chosen, name, phone) lives in self.booking across turns, so "the first one" or "the 2:30" means what
        was offered last."""
        b = self.booking
        today = date.fromisoformat(self.catalogue["get_current_datetime"]["date"])
        service = self._service_in(text)
        if service and service != b.get("service"):
            b.update(service=service, checked=None, chosen=None, offered=None)
        day = parse_date(text, today)
        if day and day != b.get("date"):
            b.update(date=day, chosen=None)
        part = PART_OF_DAY.search(text)
        if part:
            b["part"] = part.group(1).lower()
        at = parse_time(text)
        picked = self._pick(text, day, at)
        if picked:
            b.update(chosen=picked, date=picked.date(), time=(picked.hour, picked.minute))
        elif at:
            b.update(time=at, chosen=None)
        # A bare "Maya Patel" answers the question for a name when a time is already chosen.
        name = NAME.search(text) or (BARE_NAME.fullmatch(text) if b.get("chosen") and not b.get("name") else None)
        if name:
            b["name"] = name.group(1)
        phone = PHONE.search(text)
        if phone:
            b["phone"] = phone.group(1)
        say = lambda line: response.say(line, audio=False)  # noqa: E731

        if not b.get("service"):
            names = [s["name"] for s in self.catalogue["get_service_info"]["services"]]
            await say(f"Which treatment would you like to book? We offer {self._list(names)}.")
            return
        if not b.get("chosen") and b.get("time") and b.get("checked") == self._asked(b):
            b["chosen"] = next((o for o in b.get("openings") or [] if (o.hour, o.minute) == b["time"]), None)
        if b.get("chosen"):
            missing = [label for key, label in (("name", "name"), ("phone", "phone number")) if not b.get(key)]
            if missing:
                await say(f"And what {' and '.join(missing)} should I put the booking under?")
                return
            # The start exactly as check_availability handed it out: the tools take it back as it is.
            await response.call_function("book_appointment", {
                "service": b["service"], "start": b["chosen"].isoformat(timespec="minutes"), "name": b["name"],
                "phone": b["phone"]})
        elif not b.get("date"):
            await say(f"What day would you like to come in for {b['service']}?")
        elif b.get("checked") != self._asked(b):
            arguments = {"service": b["service"], "date": b["date"].isoformat()}
            if b.get("part"):
                arguments["part_of_day"] = b["part"]
            if b.get("time"):
                arguments["time"] = "%02d:%02d" % b["time"]
            await response.call_function("check_availability", arguments)
        elif b.get("openings"):
            b["offered"] = self._nearest_to_time(b["openings"], b.get("time"))
            lead = "That time isn't available. " if b.get("time") else ""
            b.pop("time", None)
            offered = self._list(spoken_time(o) for o in b["offered"])
            await say(f"{lead}On {b['date']:%A, %B} {b['date'].day} I have {offered}. Which time would you like?")
        else:
            asked = f"{spoken_day(b['date'], today)}" + (f" in the {b['part']}" if b.get("part") else "")
            asked = asked if asked.startswith(("today", "tomorrow")) else f"on {asked}"
            sorry = f"I'm sorry, there are no openings for {b['service']} {asked}."
            b.update(offered=b.get("nearest") or [], date=None, checked=None, time=None)
            if b["offered"]:
                nearest = self._list(f"{spoken_day(o.date(), today)} at {spoken_time(o)}" for o in b["offered"])
                await say(f"{sorry} The nearest I have {'are' if len(b['offered']) > 1 else 'is'} {nearest}. "
                          "Would one of those work?")
            else:
                await say(f"{sorry} Would another day work?")

    def _asked(self, b):
        """What a check_availability answer was for: a new service, day, part of the day or time asks again."""
        return (b.get("service"), b.get("date"), b.get("part"), b.get("time"))

    def _pick(self, text, day, at):
        """The opening the caller picks from those offered (or listed) by its place, its time or its day."""
        b = self.booking
        offered = b.get("offered") or []
        ordinal = ORDINAL.search(text)
        if ordinal and offered:
            n = ORDINALS[ordinal.group(1).lower()]
            return offered[n] if n < len(offered) else None
        known = offered + [o for o in b.get("openings") or [] if o not in offered]
        if at:
            return next((o for o in known if (o.hour, o.minute) == at and day in (None, o.date())), None)
        if day and len({o.date() for o in offered}) > 1:  # "Wednesday works" when one opening a day was offered
            on_day = [o for o in offered if o.date() == day]
            return on_day[0] if len(on_day) == 1 else None
        return None

    @staticmethod
    def _nearest_to_time(openings, at):
        if not at:
            return openings[:OFFERED]
        target = at[0] * 60 + at[1]
        return sorted(sorted(openings, key=lambda o: abs(o.hour * 60 + o.minute - target))[:OFFERED])

    def answer(self, text):
        info = self.catalogue["get_business_info"]
        services = self.catalogue["get_service_info"]["services"]
        service = next((s for s in services if s["name"] == self._service_in(text)), None)
        if HOURS.search(text) and not service:
            open_days = [f"{h['day']} {h['hours']}" for h in info["hours"] if h["hours"] != "closed"]
            return f"We're open {self._list(open_days)}." if open_days else "Our hours aren't listed yet."
        if service:
            consult = " New clients need a consultation first." if service["requires_consultation_for_new_clients"] else ""
            return (f"{service['name']} takes about {service['duration_minutes']} minutes and is "
                    f"{service['price']}.{consult} Would you like to book it?")
        if PRICE.search(text):
            listed = self._list(f"{s['name']} is {s['price']}" for s in services[:6])
            return f"Here are some of our prices: {listed}."
        asked = words(text)
        scored = sorted(((len(asked & words(f["question"])), f) for f in info.get("faq", [])), key=lambda p: -p[0])
        if scored and scored[0][0] >= 1:
            return scored[0][1]["answer"]
        if PROVIDERS.search(text):
            return "Our providers are listed on our website; tell me the treatment and I'll find who performs it."
        return ("I can tell you about our services, prices and hours, and book or cancel appointments. "
                "What would you like to do?")

    # --- helpers -------------------------------------------------------------------------
    def _clinic(self, key):
        return self.catalogue.get("get_business_info", {}).get("clinic", {}).get(key, "")

    def _service_in(self, text):
        services = [s["name"] for s in self.catalogue.get("get_service_info", {}).get("services", [])]
        lowered = text.lower()
        exact = [name for name in services if name.lower() in lowered]
        if exact:
            return max(exact, key=len)
        asked = {w for w in words(text) if len(w) >= 4}
        scored = sorted(((len(asked & words(name)), name) for name in services), key=lambda p: -p[0])
        return scored[0][1] if scored and scored[0][0] else None

    def _start(self, value):
        return datetime.fromisoformat(value)

    @staticmethod
    def _list(items):
        items = list(items)
        if len(items) <= 1:
            return "".join(items)
        return ", ".join(items[:-1]) + " and " + items[-1]
