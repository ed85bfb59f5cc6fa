"""The assistant's instructions: persona, rules and the clinic's own data, for every channel.

The persona stays in the session's instructions. Per-response instructions are
used only for lines the assistant must say word for word (the greeting, a
filler while a tool runs, a goodbye); `say_exactly` writes them in one form the
local engine can read too.
"""

import re

from scheduling.models import FAQ, BusinessHours, ClinicSettings, Closure, Provider, Service, Weekday
from scheduling.spoken import clock_time, spoken_date

RECORDING_NOTICE = "This call is recorded and transcribed."
FILLER_LINE = "One moment while I check that for you."
_SAY_EXACTLY = re.compile(r'Say exactly this and nothing else: "(.*)"\s*$', re.S)


def say_exactly(text, *, why=""):
    """Per-response instructions that make the assistant say `text` (in the caller's language)."""
    lead = f"{why.strip()} " if why else ""
    return (f"{lead}Say it in the language the caller has been using (English if they have not spoken yet). "
            f'Say exactly this and nothing else: "{text}"')


def line_to_say(instructions):
    """The text of `say_exactly` instructions, or None for any other instructions."""
    match = _SAY_EXACTLY.search(instructions or "")
    return match.group(1) if match else None


def greeting_line(clinic):
    """The greeting, with the recording notice before its closing question."""
    greeting = clinic.greeting_text().strip()
    sentences = re.split(r"(?<=[.!?])\s+", greeting)
    last = sentences[-1]
    if last.endswith("?"):
        # "I'm Ava, how can I help you today?" -> "I'm Ava. <notice> How can I help you today?"
        head, _, question = last.rpartition(", ")
        if head:
            sentences[-1:] = [f"{head}.", RECORDING_NOTICE, question[:1].upper() + question[1:]]
        else:
            sentences.insert(-1, RECORDING_NOTICE)
        return " ".join(sentences)
    return f"{greeting} {RECORDING_NOTICE}"


def _hours_lines(clinic):
    rows = {}
    for row in BusinessHours.objects.filter(clinic=clinic).order_by("weekday", "opens_at"):
        rows.setdefault(row.weekday, []).append(f"{clock_time(row.opens_at)}–{clock_time(row.closes_at)}")
    return [f"- {day.label}: {', '.join(rows[day.value]) if day.value in rows else 'closed'}" for day in Weekday]


def _service_lines():
    lines = []
    for service in Service.objects.filter(is_active=True):
        extra = " New clients need a consultation first." if service.requires_consultation else ""
        lines.append(f"- {service.name} ({service.get_category_display()}, {service.duration_minutes} min): "
                     f"{service.spoken_price()}.{extra}")
    return lines


def _provider_lines():
    lines = []
    for provider in Provider.objects.filter(is_active=True).prefetch_related("services"):
        title = ", ".join(filter(None, [provider.title, provider.credentials]))
        services = ", ".join(s.name for s in provider.services.all() if s.is_active)
        lines.append(f"- {provider.name}{f' ({title})' if title else ''}: {services or 'no bookable services'}")
    return lines


def build_instructions(*, channel="voice", now=None):
    """The full instructions for one conversation, read from the clinic's data now."""
    clinic = ClinicSettings.load()
    local_now = (now.astimezone(clinic.tz) if now else clinic.local_now())
    closures = Closure.objects.filter(date__gte=local_now.date()).order_by("date")[:10]
    faqs = FAQ.objects.filter(is_active=True)[:30]
    name, assistant = clinic.name, clinic.assistant_name
    medium = {"voice": "on the phone", "sms": "by text message", "whatsapp": "on WhatsApp",
              "email": "by email"}.get(channel, "")
    style = (
        "Speak naturally and briefly: one or two sentences a turn, then let the caller talk. Say times the way "
        "people say them (\"ten thirty in the morning\"), prices in words, and spell nothing out unless asked."
        if channel == "voice" else
        "Write short, plain replies; no markdown."
    )
    parts = [
        f"You are {assistant}, the receptionist at {name}, a medical spa, talking with a caller {medium}.",
        f"If asked who or what you are, you are {assistant}, {name}'s virtual receptionist. Never say you are "
        "ChatGPT or name the company or model behind you.",
        style,
        "Answer in the caller's language: if they speak another language, switch to it and stay in it.",
        "",
        "# Rules",
        "- You give no medical advice: no diagnosis, no dosing, no saying whether a treatment is right or safe for "
        "someone. Offer a consultation with a provider instead.",
        "- Emergencies: if the caller describes trouble breathing, swelling of the face or throat, changes in vision, "
        "skin turning white or grey (blanching) or severe pain after a filler, or any other urgent reaction after a "
        "treatment, tell them to call 911 now if it is urgent, and call transfer_to_staff at once with urgent=true. "
        "Do not try to help further with the problem yourself.",
        "- When the caller asks for a person, is upset, or you cannot help, call transfer_to_staff and tell them "
        "what happens next.",
        "- Use the tools for every fact that can change: opening times, services, prices, providers, availability, "
        "bookings. Never invent a time, price or policy. Dates and times are in the clinic's time zone.",
        "- Before booking, confirm the service, the day and time, and the caller's name and phone number; repeat the "
        "booking back after book_appointment succeeds. To change or cancel an appointment, ask for the phone number "
        "it was booked under and use find_appointments first.",
        "- When check_availability finds nothing on the day asked, offer its nearest_openings (say them, with the "
        "day). Pass an opening's start back exactly as the tool listed it.",
        "- If a tool fails, apologise briefly, offer another option or a callback from staff, and go on.",
        "- When the caller is done, say a short goodbye and call end_call.",
        "",
        "# The clinic",
        f"Name: {name}",
        f"Today is {spoken_date(local_now)}, {local_now.year}; the time is {clock_time(local_now)} "
        f"({clinic.time_zone}).",
    ]
    for label, value in [("Address", clinic.address), ("Phone", clinic.phone), ("Email", clinic.email),
                         ("Website", clinic.website)]:
        if value:
            parts.append(f"{label}: {value.strip()}")
    parts += ["", "Opening hours:", *_hours_lines(clinic)]
    if closures:
        parts.append("Closed on: " + "; ".join(
            f"{c.date:%A, %B} {c.date.day}" + (f" ({c.reason})" if c.reason else "") for c in closures))
    parts += ["", "Services and prices:", *(_service_lines() or ["- (none listed)"])]
    parts += ["", "Providers:", *(_provider_lines() or ["- (none listed)"])]
    policies = []
    if clinic.cancellation_policy:
        policies.append(clinic.cancellation_policy.strip())
    policies.append(f"Cancelling with less than {clinic.cancellation_notice_hours} hours' notice counts as late. "
                    f"New appointments start at least {clinic.min_booking_notice_minutes} minutes from now and at most "
                    f"{clinic.booking_horizon_days} days ahead.")
    parts += ["", "Policies:", *policies]
    if faqs:
        parts += ["", "Frequently asked questions:", *(f"- Q: {f.question} A: {f.answer}" for f in faqs)]
    if clinic.persona.strip():
        parts += ["", "# Tone and manner (from the clinic)", clinic.persona.strip()]
    return "\n".join(parts)
