"""Tools that read the calendar and book, move and cancel appointments (through scheduling's services)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from communications import services as communications
from communications.models import Conversation
from communications.phones import normalise_phone
from receptionist.tools.datetimes import date_in, read_date, read_start, read_time
from receptionist.tools.info import find_provider, find_service
from receptionist.tools.registry import ToolRefusal, tool
from scheduling import services as scheduling
from scheduling.availability import find_availability
from scheduling.models import Appointment, ClinicSettings
from scheduling.spoken import spoken_datetime

MAX_RANGE_DAYS = 14
OPENINGS_SHOWN = 12
PHONE = {"type": "string", "description": "The caller's phone number, as they said it."}
START = {"type": "string",
         "description": "The start exactly as check_availability lists it (2026-12-01T09:00-05:00), or "
                        "YYYY-MM-DDTHH:MM in the clinic's local time."}
DAY_FORMS = "YYYY-MM-DD, or an opening's start from check_availability"


def _date(value, name, clinic):
    return read_date(value, field=name, tz=clinic.tz)


def _start(value, clinic):
    return read_start(value, field="start", tz=clinic.tz)


def _customer(context, *, phone, name=""):
    """Find or create the caller by phone and attach them to the conversation (they are identified now)."""
    try:
        customer = communications.find_or_create_customer(phone=phone, name=name)
    except ValidationError:
        raise ToolRefusal(f"“{phone}” does not look like a phone number; ask the caller to repeat it.",
                          code="invalid_phone") from None
    if customer.phone is None:
        raise ToolRefusal("A phone number is needed.", code="invalid_phone")
    context.customer_id = customer.pk
    context.effect("customer", customer_id=customer.pk)
    if context.conversation_id is not None:
        communications.identify_customer(conversation_id=context.conversation_id, customer=customer)
    return customer


def appointment_dict(appointment, tz):
    return appointment_result(appointment_id=appointment.pk, service=appointment.service,
                              provider=appointment.provider, start=appointment.start, status=appointment.status, tz=tz)


# --- the answers' shapes (also what the demo history records) ----------------------------------

def appointment_result(*, appointment_id, service, provider, start, status, tz):
    """One appointment as the tools describe it (the fields given, so a record can say how it stood then)."""
    start = start.astimezone(tz)
    return {"appointment_id": appointment_id, "service": service.name, "provider": provider.name,
            "start": start.isoformat(timespec="minutes"), "spoken": spoken_datetime(start), "status": status,
            "duration_minutes": service.duration_minutes}


def availability_result(availability, *, tz, total=None):
    """check_availability's answer: the Availability, every opening counted, starts in local wall-clock time."""
    result = availability.to_dict()
    result["openings_total"] = len(availability.openings) if total is None else total
    # Local wall-clock starts, the very strings book_appointment takes back.
    for opening in result["openings"] + result["nearest_openings"]:
        opening["start"] = datetime.fromisoformat(opening["start"]).astimezone(tz).isoformat(timespec="minutes")
    return result


def booked_result(appointment):
    return {"booked": True, "appointment": appointment}


def found_result(appointments):
    return {"appointments": list(appointments)}


def rescheduled_result(appointment):
    return {"rescheduled": True, "appointment": appointment}


def cancelled_result(appointment, *, late, policy):
    return {"cancelled": True, "late_cancellation": late, "policy": policy, "appointment": appointment}


def _callers_appointment(appointment_id, phone):
    """The appointment, only when it belongs to the phone the caller gave (no one moves another's booking)."""
    number = normalise_phone(phone) if phone else None
    appointment = (Appointment.objects.select_related("service", "provider", "customer")
                   .filter(pk=appointment_id).first())
    if appointment is None or number is None or appointment.customer.phone != number:
        raise ToolRefusal("No appointment with that number was found for that phone number.", code="not_found")
    return appointment


def _openings_to_show(openings, wanted_time, tz):
    """At most OPENINGS_SHOWN openings: those nearest a time asked for, else spread over the whole range
    (the first twelve of a day at 15-minute steps would hide its afternoon)."""
    if len(openings) <= OPENINGS_SHOWN:
        return openings
    if wanted_time:
        target = wanted_time.hour * 60 + wanted_time.minute

        def distance(opening):
            local = opening.start.astimezone(tz)
            return abs(local.hour * 60 + local.minute - target), local.date()

        return sorted(sorted(openings, key=distance)[:OPENINGS_SHOWN], key=lambda o: o.start)
    step = len(openings) / OPENINGS_SHOWN
    return [openings[int(n * step)] for n in range(OPENINGS_SHOWN)]


@tool(
    "check_availability",
    "Open start times for a service: on one date, or over a range of up to 14 days, optionally with one provider "
    "or in one part of the day. Returns a short spoken summary and the openings.",
    {"service": {"type": "string", "description": "The service, by name."},
     "date": {"type": "string", "description": f"One day: {DAY_FORMS}."},
     "start_date": {"type": "string", "description": f"First day of a range: {DAY_FORMS}."},
     "end_date": {"type": "string", "description": f"Last day of a range: {DAY_FORMS}."},
     "provider": {"type": "string", "description": "A provider the caller asked for."},
     "part_of_day": {"type": "string", "enum": ["morning", "afternoon", "evening"]},
     "time": {"type": "string", "description": "A time the caller asked for, HH:MM (24h), or an opening's start "
                                               "(which also gives the day): the openings nearest to it are "
                                               "listed."}},
    required=["service"],
)
def check_availability(*, context, service, date="", start_date="", end_date="", provider="", part_of_day=None,
                       time=""):
    clinic = ClinicSettings.load()
    wanted = find_service(service)
    # Read every argument before searching: a bad one is refused whatever the calendar holds.
    wanted_time = read_time(time, field="time", tz=clinic.tz) if time else None
    # An opening's start passed as the time also names its day.
    day_of_time = date_in(time, tz=clinic.tz) if time and not (date or start_date or end_date) else None
    kwargs = {"service": wanted, "part_of_day": part_of_day or None, "now": context.now, "time_of_day": wanted_time}
    if provider:
        kwargs["provider"] = find_provider(provider)
    if date or day_of_time:
        kwargs["date"] = _date(date, "date", clinic) if date else day_of_time
    else:
        first = _date(start_date, "start_date", clinic) if start_date else None
        last = _date(end_date, "end_date", clinic) if end_date else None
        if first and last and (last - first).days >= MAX_RANGE_DAYS:
            last = first + timedelta(days=MAX_RANGE_DAYS - 1)
        kwargs.update(start_date=first, end_date=last)
    availability = find_availability(**kwargs)
    total = len(availability.openings)
    availability.openings = _openings_to_show(availability.openings, wanted_time, clinic.tz)
    return availability_result(availability, tz=clinic.tz, total=total)


@tool(
    "book_appointment",
    "Book a service at a start time from check_availability for the caller. Confirm the details with the caller "
    "first. Without a provider, the first free provider who performs the service is chosen.",
    {"service": {"type": "string"}, "start": START, "name": {"type": "string", "description": "The caller's name."},
     "phone": PHONE, "email": {"type": "string"}, "provider": {"type": "string"},
     "notes": {"type": "string", "description": "Anything the provider should know."}},
    required=["service", "start", "name", "phone"],
)
def book_appointment(*, context, service, start, name, phone, email="", provider="", notes=""):
    clinic = ClinicSettings.load()
    customer = _customer(context, phone=phone, name=name)
    conversation = Conversation.objects.filter(pk=context.conversation_id).first() if context.conversation_id else None
    appointment = scheduling.book_appointment(
        service=find_service(service), start=_start(start, clinic),
        provider=find_provider(provider) if provider else None, customer=customer, name=name, phone=phone,
        email=email, booked_by=Appointment.BookedBy.AI, conversation=conversation, notes=notes, now=context.now,
    )
    context.effect("booked", appointment_id=appointment.pk)
    return booked_result(appointment_dict(appointment, clinic.tz))


@tool(
    "find_appointments",
    "The caller's upcoming appointments, found by the phone number they were booked under.",
    {"phone": PHONE}, required=["phone"],
)
def find_appointments(*, context, phone):
    clinic = ClinicSettings.load()
    _customer(context, phone=phone)
    found = scheduling.find_appointments(phone=phone, upcoming_only=True, now=context.now)
    return found_result(appointment_dict(a, clinic.tz) for a in found)


@tool(
    "reschedule_appointment",
    "Move one of the caller's appointments (from find_appointments) to a new start time from check_availability.",
    {"appointment_id": {"type": "integer"}, "phone": PHONE, "start": START,
     "provider": {"type": "string", "description": "Only if the caller wants a different provider."}},
    required=["appointment_id", "phone", "start"],
)
def reschedule_appointment(*, context, appointment_id, phone, start, provider=""):
    clinic = ClinicSettings.load()
    appointment = _callers_appointment(appointment_id, phone)
    _customer(context, phone=phone)
    moved = scheduling.reschedule_appointment(
        appointment=appointment, start=_start(start, clinic),
        provider=find_provider(provider) if provider else None, by=Appointment.BookedBy.AI, now=context.now,
    )
    context.effect("rescheduled", appointment_id=moved.pk)
    return rescheduled_result(appointment_dict(moved, clinic.tz))


@tool(
    "cancel_appointment",
    "Cancel one of the caller's appointments (from find_appointments). Tell the caller if it counts as a late "
    "cancellation under the clinic's policy.",
    {"appointment_id": {"type": "integer"}, "phone": PHONE, "reason": {"type": "string"}},
    required=["appointment_id", "phone"],
)
def cancel_appointment(*, context, appointment_id, phone, reason=""):
    clinic = ClinicSettings.load()
    appointment = _callers_appointment(appointment_id, phone)
    _customer(context, phone=phone)
    cancelled = scheduling.cancel_appointment(appointment=appointment, reason=reason, by=Appointment.BookedBy.AI,
                                              now=context.now)
    context.effect("cancelled", appointment_id=cancelled.pk)
    return cancelled_result(appointment_dict(cancelled, clinic.tz), late=cancelled.late_cancellation,
                            policy=clinic.cancellation_policy)
