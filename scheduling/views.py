"""Staff pages of appointments: day and week calendars per provider, a filterable list, and
booking, cancelling and rescheduling through scheduling.services (the same rules the assistant follows).

Times are shown and read in the clinic's zone (ClinicTimeZoneMiddleware activates it).
"""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from communications.models import Customer
from conventions import audit
from conventions.access import staff_required
from conventions.clinic_time import clinic_today
from conventions.paging import page_of
from scheduling.availability import find_availability
from scheduling.exceptions import SchedulingError
from scheduling.forms import AppointmentListForm, BookingForm, CalendarForm, CancelForm, OpeningsForm, RescheduleForm
from scheduling.models import Appointment, ClinicSettings
from scheduling.selectors import appointments_for, calendar_for, customer_matching
from scheduling.services import book_appointment, cancel_appointment, record_visit, reschedule_appointment
from scheduling.spoken import spoken_datetime

LIST_PAGE_SIZE = 50
MATCHES = 8


def _partial(request, template, fragment):
    return f"{template}#{fragment}" if request.htmx and not request.htmx.boosted else template


# --- the calendar: a day or a week, a column per provider --------------------------------------------

@staff_required
@audit.audited("appointment", audit.Action.LIST)
def calendar(request):
    form = CalendarForm(request.GET)
    view, day, only = form.values()
    context = {
        "form": form, "provider": only, "today": clinic_today(),
        "query_provider": f"&provider={only.pk}" if only else "",
        **calendar_for(view=view, day=day, provider=only),
    }
    return render(request, _partial(request, "dashboard/appointments.html", "calendar"), context)


# --- the list ------------------------------------------------------------------------------------

RENAMED_FILTERS = {"date_from": "start_date", "date_to": "end_date"}


@staff_required
@audit.audited("appointment", audit.Action.LIST)
def appointment_list(request):
    if RENAMED_FILTERS.keys() & request.GET.keys():
        # Bookmarks from before the page and the API shared their filters' names still open.
        query = request.GET.copy()
        for old, new in RENAMED_FILTERS.items():
            if old in query:
                query.setlist(new, query.pop(old))
        return redirect(f"{request.path}?{query.urlencode()}", permanent=True)
    form = AppointmentListForm(request.GET)
    valid = form.is_valid()
    filters = form.filters() if valid else {}
    # The page opens on what is coming; a date given in either box shows the past too.
    upcoming = not filters.get("start_date") and not filters.get("end_date")
    if upcoming:
        filters["start_date"] = clinic_today()
    page = page_of(appointments_for(**filters), page=(form.cleaned_data.get("page") if valid else None) or 1,
                   page_size=LIST_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "upcoming": upcoming}
    return render(request, _partial(request, "dashboard/appointments_list.html", "results"), context)


# --- booking ---------------------------------------------------------------------------------------

@staff_required
def openings(request):
    """The open times of a service on a date (the booking and reschedule forms load them with htmx)."""
    form = OpeningsForm(request.GET)
    context = {"form": form, "slot_name": "slot", "availability": None}
    if form.is_valid():
        context["availability"] = find_availability(service=form.cleaned_data["service"], date=form.cleaned_data["date"],
                                                    provider=form.cleaned_data["provider"])
    return render(request, "dashboard/appointments_book.html#openings", context)


@staff_required
def customer_matches(request):
    """Existing customers matching a name, phone or email, to book for (htmx, on the booking form)."""
    text = request.GET.get("customer_search", "").strip()
    customers = []
    if len(text) >= 2:
        customers = list(Customer.objects.filter(customer_matching(text)).order_by("name", "pk")[:MATCHES])
    return render(request, "dashboard/appointments_book.html#customers",
                  {"customers": customers, "searched": text, "chosen": None})


@staff_required
def book(request):
    initial = {"date": request.GET.get("date") or clinic_today() + timedelta(days=1)}
    if request.GET.get("provider"):
        initial["provider"] = request.GET["provider"]
    form = BookingForm(request.POST or None, initial=initial)
    context = {"form": form, "availability": None, "error": None, "slot_name": "slot", "chosen": None}
    if request.method != "POST":
        # "Show open times" without JavaScript submits service, provider and date here by GET.
        wanted = OpeningsForm(request.GET) if "service" in request.GET else None
        if wanted is not None and wanted.is_valid():
            form = BookingForm(initial={**initial, **wanted.cleaned_data})
            context.update(form=form, availability=find_availability(**wanted.cleaned_data))
        return render(request, "dashboard/appointments_book.html", context)
    if form.is_valid():
        data = form.cleaned_data
        provider, start = data["slot"]
        try:
            appointment = book_appointment(
                # The provider of the time chosen: staff picked a person's opening, not just a time.
                service=data["service"], start=start, provider=provider,
                customer=data["customer"], name=data["name"], phone=data["phone"], email=data["email"] or "",
                booked_by=Appointment.BookedBy.STAFF, notes=data["notes"],
            )
        except SchedulingError as error:
            context["error"] = error
        else:
            audit.record(request=request, action=audit.Action.CREATE, obj=appointment, description="Booked by staff")
            messages.success(request, f"Booked {appointment.service.name} with {appointment.provider.name} for "
                                      f"{appointment.customer}.")
            return redirect("dashboard:appointment", pk=appointment.pk)
    data = form.cleaned_data
    error = context["error"]
    if data.get("service") and data.get("date") and not (error and error.alternatives):
        # Show the day's open times again so the form can be finished.
        context["availability"] = find_availability(service=data["service"], date=data["date"],
                                                    provider=data.get("provider"))
    context["chosen"] = data.get("customer")
    return render(request, "dashboard/appointments_book.html", context, status=409 if error else 422)


# --- one appointment: cancel, reschedule -------------------------------------------------------------

def _appointment(pk):
    return get_object_or_404(Appointment.objects.select_related("customer", "service", "provider", "conversation"), pk=pk)


def _detail_context(appointment, **extra):
    clinic = ClinicSettings.load()
    now = timezone.now()
    movable = appointment.status == Appointment.Status.SCHEDULED and appointment.start > now
    return {
        "appointment": appointment,
        "movable": movable,
        # Once it has started, staff record how the visit went (and may correct it).
        "recordable": appointment.status != Appointment.Status.CANCELLED and appointment.start <= now,
        "late_if_cancelled_now": movable and appointment.is_late_cancellation(
            now=now, notice_hours=clinic.cancellation_notice_hours),
        "notice_hours": clinic.cancellation_notice_hours,
        "cancel_form": CancelForm(),
        "openings_form": OpeningsForm(initial={"service": appointment.service_id,
                                               "date": timezone.localtime(appointment.start).date()}),
        "reschedules": appointment.metadata.get("reschedules", []),
        "slot_name": "slot",
        "availability": None,
        "error": None,
        **extra,
    }


@staff_required
@audit.audited("appointment", audit.Action.VIEW)
def appointment_detail(request, pk):
    return render(request, "dashboard/appointment_detail.html", _detail_context(_appointment(pk)))


@staff_required
@require_POST
@audit.audited("appointment", audit.Action.CANCEL)
def cancel(request, pk):
    appointment = _appointment(pk)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        cancelled = cancel_appointment(appointment=appointment, reason=form.cleaned_data.get("reason", ""),
                                       by=Appointment.BookedBy.STAFF)
    except SchedulingError as error:
        return render(request, "dashboard/appointment_detail.html", _detail_context(appointment, error=error), status=409)
    text = "Cancelled."
    if cancelled.late_cancellation:
        text += " This is a late cancellation (less notice than the clinic's policy asks)."
    messages.success(request, text)
    return redirect("dashboard:appointment", pk=pk)


@staff_required
@require_POST
@audit.audited("appointment", audit.Action.RESCHEDULE)
def reschedule(request, pk):
    appointment = _appointment(pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return render(request, "dashboard/appointment_detail.html",
                      _detail_context(appointment, error=SchedulingError("Choose one of the open times.")), status=422)
    provider, start = form.cleaned_data["slot"]
    try:
        moved = reschedule_appointment(appointment=appointment, start=start, provider=provider,
                                       by=Appointment.BookedBy.STAFF)
    except SchedulingError as error:
        return render(request, "dashboard/appointment_detail.html", _detail_context(appointment, error=error), status=409)
    local = timezone.localtime(moved.start)
    messages.success(request, f"Moved to {spoken_datetime(local)} with {moved.provider.name}.")
    return redirect("dashboard:appointment", pk=pk)


@staff_required
@require_POST
@audit.audited("appointment", audit.Action.UPDATE, description="visit recorded")
def record(request, pk):
    appointment = _appointment(pk)
    outcome = request.POST.get("status")
    if outcome not in (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW):
        return render(request, "dashboard/appointment_detail.html",
                      _detail_context(appointment, error=SchedulingError("Choose completed or no-show.")), status=422)
    try:
        recorded = record_visit(appointment=appointment, status=outcome)
    except SchedulingError as error:
        return render(request, "dashboard/appointment_detail.html", _detail_context(appointment, error=error), status=409)
    messages.success(request, f"Recorded as {recorded.get_status_display().lower()}.")
    return redirect("dashboard:appointment", pk=pk)
