"""Tool calls in the demo transcripts, shaped like the assistant's real tools (receptionist/tools).

Each function returns (name, arguments, result) for Scene.tool(). The shapes follow
what the receptionist records in its "tool_call" events, so the inbox and the
analytics read demo conversations exactly as they read real ones. Appointment
drafts stand in for appointment ids until they are saved (history._resolve).
"""

from datetime import timedelta

from scheduling.models import Weekday


def spoken_datetime(moment):
    """'Tuesday, December 1 at 2:30 PM', as the assistant's tools say a time."""
    return f"{moment:%A, %B} {moment.day} at {moment:%-I:%M %p}".replace(":00 ", " ")


def _service(s, service, *, brief=False):
    data = {
        "name": service.name, "category": service.get_category_display(),
        "duration_minutes": service.duration_minutes, "price": service.spoken_price(),
        "requires_consultation_for_new_clients": service.requires_consultation,
    }
    if not brief:
        data.update(
            description=service.description, preparation=service.preparation, aftercare=service.aftercare,
            providers=[p.name for p in s.calendar.providers_for(service)],
        )
    return data


def service_info(s, service):
    return "get_service_info", {"service": service.name}, {"services": [_service(s, service)], "matched": True}


def service_not_offered(s, asked):
    everything = [_service(s, service, brief=True) for service in s.catalogue.services.values()]
    return "get_service_info", {"service": asked}, {
        "services": everything, "matched": False,
        "note": f"No service matches “{asked}”; these are all the services offered.",
    }


def business_info(s, topic, faqs=()):
    clinic = s.clinic
    soon = [(day, reason) for day, reason in s.catalogue.closures if 0 <= (day - s.local_day).days <= 60]
    return "get_business_info", {"topic": topic}, {
        "clinic": {"name": clinic.name, "assistant_name": clinic.assistant_name, "phone": clinic.phone,
                   "email": clinic.email, "address": clinic.address, "website": clinic.website,
                   "time_zone": clinic.time_zone},
        "today": s.local_day.isoformat(),
        "hours": s.catalogue.hours_by_day,
        "closures": [{"date": day.isoformat(), "reason": reason} for day, reason in soon],
        "policies": {"cancellation": clinic.cancellation_policy,
                     "cancellation_notice_hours": clinic.cancellation_notice_hours,
                     "min_booking_notice_minutes": clinic.min_booking_notice_minutes,
                     "booking_horizon_days": clinic.booking_horizon_days},
        "faq": [{"question": f.question, "answer": f.answer, "category": f.category} for f in faqs],
    }


def provider_info(s, service):
    providers = s.calendar.providers_for(service)
    return "get_provider_info", {"service": service.name}, {"providers": [
        {"id": p.pk, "name": p.name, "title": p.title, "credentials": p.credentials, "bio": p.bio,
         "specialties": [item.strip() for item in p.specialties.split(",") if item.strip()],
         "services": [service.name for service in p.services.all() if service.is_active],
         "working_days": [Weekday(day).label for day in s.calendar.working_days(p)]}
        for p in providers
    ]}


def availability(s, service, first_day, offered, *, total=None, provider=None, part_of_day=None, days=7):
    """The openings Ava was shown (`offered`), from a search over `days` days."""
    arguments = {"service": service.name, "start_date": first_day.isoformat(),
                 "end_date": (first_day + timedelta(days=days - 1)).isoformat()}
    if provider is not None:
        arguments["provider"] = provider.name
    if part_of_day:
        arguments["part_of_day"] = part_of_day
    openings = [
        {"provider": {"id": who.pk, "name": who.name}, "start": s.local(start).isoformat(timespec="minutes"),
         "end": s.local(start + timedelta(minutes=service.duration_minutes)).isoformat(timespec="minutes")}
        for who, start in offered
    ]
    if offered:
        summary = f"{service.name}: the first openings are " + "; ".join(
            f"{spoken_datetime(s.local(start))} with {who.name}" for who, start in offered) + "."
    else:
        summary = f"{service.name}: no openings in that range."
    return "check_availability", arguments, {
        "service": {"id": service.pk, "name": service.name, "duration_minutes": service.duration_minutes},
        "time_zone": s.clinic.time_zone, "start_date": arguments["start_date"], "end_date": arguments["end_date"],
        "part_of_day": part_of_day, "openings": openings,
        "openings_total": len(offered) if total is None else total, "summary": summary, "nearest_days": [],
        "nearest_openings": [],
    }


def appointment_dict(s, appointment, *, service, provider, start, status="scheduled"):
    local = s.local(start)
    return {"appointment_id": appointment, "service": service.name, "provider": provider.name,
            "start": local.isoformat(timespec="minutes"), "spoken": spoken_datetime(local), "status": status,
            "duration_minutes": service.duration_minutes}


def book(s, appointment, *, service, provider, start):
    arguments = {"service": service.name, "start": s.local(start).isoformat(timespec="minutes"), "name": s.full,
                 "phone": s.person.customer.phone, "provider": provider.name}
    if s.email:
        arguments["email"] = s.person.customer.email
    return "book_appointment", arguments, {
        "booked": True, "appointment": appointment_dict(s, appointment, service=service, provider=provider, start=start),
    }


def find(s, appointment, *, service, provider, start):
    return "find_appointments", {"phone": s.person.customer.phone}, {
        "appointments": [appointment_dict(s, appointment, service=service, provider=provider, start=start)],
    }


def reschedule(s, appointment, *, service, provider, start):
    arguments = {"appointment_id": appointment, "phone": s.person.customer.phone,
                 "start": s.local(start).isoformat(timespec="minutes")}
    return "reschedule_appointment", arguments, {
        "rescheduled": True, "appointment": appointment_dict(s, appointment, service=service, provider=provider, start=start),
    }


def cancel(s, appointment, *, service, provider, start, reason, late):
    arguments = {"appointment_id": appointment, "phone": s.person.customer.phone, "reason": reason}
    return "cancel_appointment", arguments, {
        "cancelled": True, "late_cancellation": late, "policy": s.clinic.cancellation_policy,
        "appointment": appointment_dict(s, appointment, service=service, provider=provider, start=start, status="cancelled"),
    }


def transfer(s, *, reason, urgent):
    soon = "as soon as possible" if urgent else "shortly, during opening hours"
    next_step = f"A member of our team will call you back {soon}."
    if urgent:
        next_step = "If this is an emergency, call 911 now. " + next_step
    if s.clinic.phone:
        next_step += f" You can also reach the clinic directly at {s.clinic.phone}."
    return "transfer_to_staff", {"reason": reason, "urgent": urgent}, {
        "transferred": True, "urgent": urgent, "what_happens_next": next_step,
    }
