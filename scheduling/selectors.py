"""Careful reads of the calendar: appointments by filters (the list page and the API), and the
day and week calendars of the staff pages.

Dates are clinic dates: a day runs from midnight to midnight in the clinic's zone, which
ClinicTimeZoneMiddleware activates for requests.
"""

from datetime import time, timedelta

from django.db.models import Max, Min, Q
from django.utils import timezone

from conventions.clinic_time import day_bounds
from scheduling.models import Appointment, BusinessHours, ClinicSettings, Provider, ProviderSchedule

SLOT_MINUTES = 15


def customer_matching(text, *, prefix=""):
    """A Q for customers whose name or email contains `text`, or whose phone contains its digits."""
    match = Q(**{f"{prefix}name__icontains": text}) | Q(**{f"{prefix}email__icontains": text})
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        match |= Q(**{f"{prefix}phone__contains": digits})
    return match


def appointments_for(*, start_date=None, end_date=None, provider=None, service=None, customer=None, status="",
                     phone="", text="", late_only=False):
    """Appointments matching every filter given, soonest first.

    `start_date` and `end_date` are clinic dates, both included; `phone` is a normalised
    number (the customer's exactly); `text` matches the customer's name, email or phone digits;
    `late_only` keeps late cancellations. A filter left out does not narrow the list.
    """
    appointments = Appointment.objects.select_related("customer", "service", "provider")
    # The clinic's zone, not the active one: the same dates mean the same days in a task or a shell.
    tz = ClinicSettings.load().tz if start_date or end_date else None
    if start_date is not None:
        appointments = appointments.filter(start__gte=day_bounds(start_date, start_date, tz)[0])
    if end_date is not None:
        appointments = appointments.filter(start__lt=day_bounds(end_date, end_date, tz)[1])
    if provider is not None:
        appointments = appointments.filter(provider=provider)
    if service is not None:
        appointments = appointments.filter(service=service)
    if customer is not None:
        appointments = appointments.filter(customer=customer)
    if status:
        appointments = appointments.filter(status=status)
    if phone:
        appointments = appointments.filter(customer__phone=phone)
    if text.strip():
        appointments = appointments.filter(customer_matching(text.strip(), prefix="customer__"))
    if late_only:
        appointments = appointments.filter(late_cancellation=True)
    return appointments.order_by("start", "provider__name", "pk")


# --- the calendar: a day or a week, a column per provider --------------------------------------------

def calendar_for(*, view, day, provider=None):
    """What the calendar page shows of `day` ("day") or of its week from Monday ("week").

    One column per provider (only `provider` when given, else every active one); cancelled
    appointments are left off. `previous` and `next` are the first days of the neighbouring
    periods. A week answers `week`, a day its grid (see day_grid).
    """
    providers = [provider] if provider else list(Provider.objects.filter(is_active=True).order_by("name"))
    if view == "week":
        first = day - timedelta(days=day.weekday())
        last, step = first + timedelta(days=6), timedelta(days=7)
    else:
        first = last = day
        step = timedelta(days=1)
    start, end = day_bounds(first, last)
    appointments = list(
        Appointment.objects.filter(start__gte=start, start__lt=end, provider__in=providers)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("customer", "service", "provider")
        .order_by("start")
    )
    shown = {"view": view, "day": day, "first": first, "last": last, "providers": providers,
             "previous": first - step, "next": first + step}
    if view == "week":
        shown["week"] = week(first, providers, appointments)
    else:
        shown.update(day_grid(day, providers, appointments))
    return shown


def week(first, providers, appointments):
    """[(date, [(provider, [appointments])])] for seven days."""
    cells = {}
    for appointment in appointments:
        key = (timezone.localtime(appointment.start).date(), appointment.provider_id)
        cells.setdefault(key, []).append(appointment)
    days = [first + timedelta(days=offset) for offset in range(7)]
    return [(day, [(provider, cells.get((day, provider.pk), [])) for provider in providers]) for day in days]


def day_grid(day, providers, appointments):
    """Rows of SLOT_MINUTES from the earliest opening to the latest closing of the day (or of an
    appointment outside them), and where each appointment and each provider's hours sit in them."""
    weekday = day.weekday()
    hours = BusinessHours.objects.filter(weekday=weekday).aggregate(opens=Min("opens_at"), closes=Max("closes_at"))
    schedules = {}
    for schedule in ProviderSchedule.objects.filter(weekday=weekday, provider__in=providers):
        schedules.setdefault(schedule.provider_id, []).append((schedule.starts_at, schedule.ends_at))
    opens = [hours["opens"]] if hours["opens"] else []
    closes = [hours["closes"]] if hours["closes"] else []
    for windows in schedules.values():
        opens += [window[0] for window in windows]
        closes += [window[1] for window in windows]
    local = [(timezone.localtime(a.start), timezone.localtime(a.end)) for a in appointments]
    opens += [start.time() for start, _ in local]
    closes += [end.time() if end.date() == day else time(23, 59) for _, end in local]
    first_minute = _minutes(min(opens, default=time(9))) // 60 * 60
    last_minute = min(24 * 60, -(-_minutes(max(closes, default=time(17))) // 60) * 60)
    rows = (last_minute - first_minute) // SLOT_MINUTES
    columns = {provider.pk: index + 2 for index, provider in enumerate(providers)}

    def row_of(minute):
        return 2 + max(0, min(rows, (minute - first_minute) // SLOT_MINUTES))

    placed = []
    for appointment, (start, end) in zip(appointments, local):
        start_minute = _minutes(start.time())
        end_minute = _minutes(end.time()) if end.date() == day else 24 * 60
        top = row_of(start_minute)
        placed.append({"appointment": appointment, "column": columns[appointment.provider_id], "row": top,
                       "span": max(1, row_of(end_minute + SLOT_MINUTES - 1) - top)})
    times = []
    for index in range(rows):
        minute = first_minute + index * SLOT_MINUTES
        label = time(minute // 60, minute % 60) if minute % 60 == 0 else None
        cells = []
        for provider in providers:
            working = any(_minutes(s) <= minute < _minutes(e) for s, e in schedules.get(provider.pk, []))
            cells.append({"column": columns[provider.pk], "working": working})
        times.append({"row": index + 2, "label": label, "cells": cells})
    return {"grid_rows": times, "placed": placed, "row_count": rows + 1}


def _minutes(moment):
    return moment.hour * 60 + moment.minute
