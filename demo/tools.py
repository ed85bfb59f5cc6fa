"""Tool calls in the demo transcripts, answered by the assistant's own result builders (receptionist/tools).

Each function returns (name, arguments, result) for Scene.tool(). The results come from the
builders the real tools answer with, given what the demo knew at the moment of the conversation,
so the inbox and the analytics read demo conversations exactly as they read real ones. Appointment
drafts stand in for appointment ids until they are saved (history.resolve_drafts).
"""

from datetime import timedelta

from receptionist.tools.booking import (
    appointment_result,
    availability_result,
    booked_result,
    cancelled_result,
    found_result,
    rescheduled_result,
)
from receptionist.tools.calls import end_call_result, put_through_result, transfer_result
from receptionist.tools.info import (
    CLOSURES_AHEAD_DAYS,
    business_info_result,
    providers_result,
    service_found_result,
    services_listed_result,
)
from scheduling.availability import Availability, Opening
from scheduling.spoken import spoken_datetime


def end_call(reason):
    return "end_call", {"reason": reason}, end_call_result()


def service_info(s, service):
    return "get_service_info", {"service": service.name}, service_found_result(service)


def service_not_offered(s, asked):
    return "get_service_info", {"service": asked}, services_listed_result(s.catalogue.services.values(), asked=asked)


def business_info(s, topic, faqs=()):
    soon = [(day, reason) for day, reason in s.catalogue.closures if 0 <= (day - s.local_day).days <= CLOSURES_AHEAD_DAYS]
    return "get_business_info", {"topic": topic}, business_info_result(
        clinic=s.clinic, today=s.local_day, hours=s.catalogue.hours, closures=soon, faqs=faqs,
    )


def provider_info(s, service):
    return "get_provider_info", {"service": service.name}, providers_result(s.calendar.providers_for(service))


def availability(s, service, first_day, offered, *, total=None, provider=None, part_of_day=None, days=7):
    """The openings Ava was shown (`offered`), from a search over `days` days."""
    last_day = first_day + timedelta(days=days - 1)
    arguments = {"service": service.name, "start_date": first_day.isoformat(), "end_date": last_day.isoformat()}
    if provider is not None:
        arguments["provider"] = provider.name
    if part_of_day:
        arguments["part_of_day"] = part_of_day
    if offered:
        summary = f"{service.name}: the first openings are " + "; ".join(
            f"{spoken_datetime(s.local(start))} with {who.name}" for who, start in offered) + "."
    else:
        summary = f"{service.name}: no openings in that range."
    openings = [Opening(provider=who, start=start, end=start + timedelta(minutes=service.duration_minutes))
                for who, start in offered]
    found = Availability(service=service, openings=openings, summary=summary, start_date=first_day, end_date=last_day,
                         part_of_day=part_of_day, time_zone=s.clinic.time_zone)
    return "check_availability", arguments, availability_result(found, tz=s.tz, total=total)


def _appointment(s, appointment, *, service, provider, start, status="scheduled"):
    return appointment_result(appointment_id=appointment, service=service, provider=provider, start=start,
                              status=status, tz=s.tz)


def book(s, appointment, *, service, provider, start):
    arguments = {"service": service.name, "start": s.local(start).isoformat(timespec="minutes"), "name": s.full,
                 "phone": s.person.customer.phone, "provider": provider.name}
    if s.email:
        arguments["email"] = s.person.customer.email
    return "book_appointment", arguments, booked_result(
        _appointment(s, appointment, service=service, provider=provider, start=start))


def find(s, appointment, *, service, provider, start):
    return "find_appointments", {"phone": s.person.customer.phone}, found_result(
        [_appointment(s, appointment, service=service, provider=provider, start=start)])


def reschedule(s, appointment, *, service, provider, start):
    arguments = {"appointment_id": appointment, "phone": s.person.customer.phone,
                 "start": s.local(start).isoformat(timespec="minutes")}
    return "reschedule_appointment", arguments, rescheduled_result(
        _appointment(s, appointment, service=service, provider=provider, start=start))


def cancel(s, appointment, *, service, provider, start, reason, late):
    arguments = {"appointment_id": appointment, "phone": s.person.customer.phone, "reason": reason}
    return "cancel_appointment", arguments, cancelled_result(
        _appointment(s, appointment, service=service, provider=provider, start=start, status="cancelled"),
        late=late, policy=s.clinic.cancellation_policy,
    )


def transfer(s, *, reason, urgent):
    return "transfer_to_staff", {"reason": reason, "urgent": urgent}, transfer_result(urgent=urgent, clinic=s.clinic)


def put_through(s, *, reason, urgent):
    """transfer_to_staff on a phone call the front desk can take now."""
    return "transfer_to_staff", {"reason": reason, "urgent": urgent}, put_through_result()
