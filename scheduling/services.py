"""Booking, rescheduling and cancelling: the writes the assistant, the API and staff share.

No double booking:
- PostgreSQL: the exclusion constraint `appointment_no_double_booking` (migration 0004)
  makes the loser of a race fail at INSERT/UPDATE; we turn that IntegrityError into SlotTaken.
- SQLite has no such constraint, so bookings are serialised: a process-wide lock orders
  threads of one process, and the first statement of the booking transaction is a write
  (`_take_sqlite_write_lock`), which takes SQLite's database write lock right away, as
  BEGIN IMMEDIATE would, so a booking in another process waits for ours to commit before
  it reads. The check-then-insert is then safe.

Google Calendar: the event is made inside the booking transaction, after the row exists
(its id goes into the event) and before the commit. If Google fails, the row is rolled
back and any event that may have landed is removed, so the caller gets CalendarUnavailable
and nothing is left half made. We chose this over "saved, waiting to sync" because a
caller on the phone must hear the truth: a booking the clinic's calendar does not show is
not a booking anyone at the front desk will honour.
"""

import logging
import threading
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from communications.phones import normalise_phone
from communications.services import CustomerConflict, find_or_create_customer
from scheduling.availability import check_slot, nearest_openings, require_aware
from scheduling.calendars import get_calendar
from scheduling.exceptions import BookingRefused, SchedulingError, SlotTaken
from scheduling.history import reschedule_entry
from scheduling.models import Appointment, ClinicSettings, Service
from scheduling.signals import appointment_booked, appointment_cancelled, appointment_rescheduled, send_after_commit

logger = logging.getLogger(__name__)

_sqlite_booking_lock = threading.RLock()

_REFUSALS = {
    "in_the_past": "That time has already passed.",
    "closed": "The clinic is closed that day.",
    "outside_hours": "That time is outside our hours for this service.",
    "provider_unavailable": "{provider} is not working at that time.",
}


# --- booking ------------------------------------------------------------------------------------

def book_appointment(*, service, start, provider=None, customer=None, name="", phone="", email="",
                     booked_by, conversation=None, notes="", now=None, calendar=None):
    """Book `service` at `start` and return the Appointment.

    `provider` None: the first provider (by name) who performs the service and is free then.
    `customer` None: found or created by `phone` (normalised), else by `email`.
    Retrying the same (conversation, customer, service, start) returns the first booking.
    Raises SlotTaken (with alternatives), BookingRefused (with a code) or CalendarUnavailable.
    """
    start = require_aware(start, "start")
    now = require_aware(now, "now") if now is not None else timezone.now()
    if booked_by not in Appointment.BookedBy.values:
        raise ValueError(f"booked_by must be one of {Appointment.BookedBy.values}, not {booked_by!r}")
    if not service.is_active:
        raise BookingRefused(f"{service.name} is not offered at the moment.", code="service_unavailable")
    calendar = calendar if calendar is not None else get_calendar()

    with _serialised():
        customer = customer or _customer_from(name=name, phone=phone, email=email)
        existing = _same_booking(conversation=conversation, customer=customer, service=service, start=start)
        if existing is not None:
            return existing
        if service.requires_consultation and customer.is_new_client:
            raise _consultation_required(service=service, start=start, now=now, calendar=calendar)
        candidates = _candidate_providers(service=service, provider=provider, start=start, now=now, calendar=calendar)
        event_id = ""
        appointment = None
        try:
            with transaction.atomic():
                _take_sqlite_write_lock()
                chosen = _choose_provider(service=service, candidates=candidates, start=start, now=now,
                                          calendar=calendar, wanted=provider)
                appointment = Appointment.objects.create(
                    customer=customer, service=service, provider=chosen, start=start,
                    end=Appointment.end_for(service, start), booked_by=booked_by, conversation=conversation,
                    notes=notes,
                )
                event_id = calendar.create_event(appointment=appointment)
                if event_id:
                    appointment.calendar_event_id = event_id
                    appointment.save(update_fields=["calendar_event_id", "updated_at"])
                send_after_commit(appointment_booked, appointment)
        except IntegrityError as error:
            if not _is_double_booking(error):
                raise
            # Lost the race. The winner may be this very request, retried: then it is ours.
            logger.info("Booking race lost at the database for %s at %s", service, start)
            existing = _same_booking(conversation=conversation, customer=customer, service=service, start=start)
            if existing is not None:
                return existing
            raise SlotTaken(alternatives=_alternatives(service=service, start=start, provider=provider, now=now,
                                                       calendar=calendar)) from error
        except BaseException as error:
            # The row was rolled back; an event made for it must go too.
            if event_id and appointment is not None:
                _delete_stray_event(calendar, appointment)
            # What a backend asks to do once nothing is booked (Boulevard: text the link to book with a card).
            after_rollback = getattr(error, "after_rollback", None)
            if after_rollback is not None:
                after_rollback()
            raise
    return appointment


def _customer_from(*, name, phone, email):
    try:
        normalised = normalise_phone(phone)
    except ValidationError:
        raise BookingRefused(f"“{phone}” does not look like a phone number.", code="invalid_phone") from None
    if not normalised and not (email or "").strip():
        raise BookingRefused("A phone number is needed to book.", code="phone_required")
    try:
        return find_or_create_customer(phone=normalised, email=email, name=name or "")
    except CustomerConflict as conflict:
        # The phone is one customer's and the email another's: staff choose, rather than a guess.
        holder = conflict.holder
        raise BookingRefused(
            f"{conflict.message[:-1]} ({holder}, customer {holder.pk}): choose that customer, or leave it out.",
            code="customer_conflict",
            details={"field": conflict.field, "customer": {"id": holder.pk, "name": holder.name,
                                                           "phone": holder.phone, "email": holder.email}},
        ) from None
    except ValidationError as error:  # an email too long to be one
        raise BookingRefused(error.messages[0], code="invalid_email") from None


def _same_booking(*, conversation, customer, service, start):
    return (
        Appointment.objects.filter(customer=customer, service=service, start=start, conversation=conversation)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("customer", "service", "provider")
        .first()
    )


def _consultation_required(*, service, start, now, calendar):
    consultation = (
        Service.objects.filter(category=Service.Category.CONSULTATION, is_active=True, requires_consultation=False)
        .order_by("display_order", "name")
        .first()
    )
    alternatives, details = [], {}
    message = f"{service.name} needs a consultation first for new clients."
    if consultation is not None:
        details = {"consultation_service": {"id": consultation.pk, "name": consultation.name,
                                            "duration_minutes": consultation.duration_minutes}}
        alternatives = nearest_openings(service=consultation, around=start, now=now, calendar=calendar)
        message += f" I can book a {consultation.name} instead."
    return BookingRefused(message, code="consultation_required", alternatives=alternatives, details=details)


def _candidate_providers(*, service, provider, start, now, calendar):
    if provider is None:
        candidates = list(service.providers.filter(is_active=True).order_by("name", "pk"))
        if not candidates:
            raise BookingRefused(f"No one is booking {service.name} at the moment.", code="no_provider")
        return candidates
    if not provider.is_active:
        raise BookingRefused(f"{provider.name} is not taking bookings.", code="provider_unavailable")
    if not service.providers.filter(pk=provider.pk).exists():
        raise BookingRefused(
            f"{provider.name} does not perform {service.name}.", code="provider_does_not_perform",
            alternatives=nearest_openings(service=service, around=start, now=now, calendar=calendar),
        )
    return [provider]


def _choose_provider(*, service, candidates, start, now, calendar, wanted, ignore_appointment=None):
    """The first candidate free at `start`; else the most telling refusal."""
    reasons = []
    for candidate in candidates:
        reason = check_slot(service=service, provider=candidate, start=start, now=now, calendar=calendar,
                            ignore_appointment=ignore_appointment)
        if reason is None:
            return candidate
        reasons.append((candidate, reason))
    raise _refusal(service=service, start=start, reasons=reasons, wanted=wanted, now=now, calendar=calendar,
                   ignore_appointment=ignore_appointment)


def _refusal(*, service, start, reasons, wanted, now, calendar, ignore_appointment=None):
    codes = [reason for _, reason in reasons]
    alternatives = lambda: _alternatives(  # noqa: E731
        service=service, start=start, provider=wanted, now=now, calendar=calendar, ignore_appointment=ignore_appointment
    )
    clinic = ClinicSettings.load()
    if "in_the_past" in codes:
        return BookingRefused(_REFUSALS["in_the_past"], code="in_the_past", alternatives=alternatives())
    if "too_soon" in codes:
        hours, minutes = divmod(clinic.min_booking_notice_minutes, 60)
        notice = f"{hours} hour{'s' if hours != 1 else ''}" if not minutes else f"{clinic.min_booking_notice_minutes} minutes"
        return BookingRefused(f"We need at least {notice} of notice to book.", code="too_soon",
                              alternatives=alternatives())
    if "beyond_horizon" in codes:
        return BookingRefused(f"We only book up to {clinic.booking_horizon_days} days ahead.", code="beyond_horizon")
    if "taken" in codes:
        return SlotTaken(alternatives=alternatives())
    for code in ("provider_unavailable", "outside_hours", "closed"):
        if code in codes:
            who = wanted.name if wanted is not None else "No one"
            return BookingRefused(_REFUSALS[code].format(provider=who), code=code, alternatives=alternatives())
    raise AssertionError(f"unknown refusal codes {codes}")


def _alternatives(*, service, start, provider, now, calendar, ignore_appointment=None):
    try:
        return nearest_openings(service=service, around=start, provider=provider, now=now, calendar=calendar,
                                ignore_appointment=ignore_appointment)
    except SchedulingError:
        # The refusal matters more than its suggestions.
        logger.warning("Could not compute alternatives for %s at %s", service, start, exc_info=True)
        return []


# --- rescheduling and cancelling ----------------------------------------------------------------

def reschedule_appointment(*, appointment, start, provider=None, by, now=None, calendar=None):
    """Move an appointment to an open `start`, atomically (the row and its calendar event, or neither).

    `provider` None: keep the current provider when free then, else another who performs the service.
    Raises SlotTaken, BookingRefused or CalendarUnavailable; the appointment is unchanged then.
    """
    start = require_aware(start, "start")
    now = require_aware(now, "now") if now is not None else timezone.now()
    if by not in Appointment.BookedBy.values:
        raise ValueError(f"by must be one of {Appointment.BookedBy.values}, not {by!r}")
    calendar = calendar if calendar is not None else get_calendar()
    with _serialised():
        current = _reload(appointment)
        if current.status != Appointment.Status.SCHEDULED:
            raise BookingRefused(f"That appointment is {current.get_status_display().lower()}, so it cannot be moved.",
                                 code="not_scheduled")
        if current.start <= now:
            raise BookingRefused("That appointment has already started.", code="in_the_past")
        target = provider
        if target is not None and target.pk == current.provider_id and start == current.start:
            return current
        if target is None:
            others = [p for p in current.service.providers.filter(is_active=True).order_by("name", "pk")
                      if p.pk != current.provider_id]
            candidates = [current.provider, *others]
        else:
            candidates = _candidate_providers(service=current.service, provider=target, start=start, now=now,
                                              calendar=calendar)
        if target is None and start == current.start:
            return current
        previous = {"start": current.start, "end": current.end, "provider": current.provider}
        try:
            with transaction.atomic():
                _take_sqlite_write_lock()
                locked = Appointment.objects.select_for_update().select_related("customer", "service", "provider").get(
                    pk=current.pk
                )
                if locked.status != Appointment.Status.SCHEDULED or locked.start != previous["start"]:
                    raise BookingRefused("That appointment was changed a moment ago; please check it again.",
                                         code="changed")
                chosen = _choose_provider(service=locked.service, candidates=candidates, start=start, now=now,
                                          calendar=calendar, wanted=target, ignore_appointment=locked)
                history = list(locked.metadata.get("reschedules", []))
                tz = ClinicSettings.load().tz
                history.append(reschedule_entry(from_start=previous["start"], to_start=start,
                                                from_provider=previous["provider"], to_provider=chosen, by=by,
                                                at=now, tz=tz))
                locked.metadata = {**locked.metadata, "reschedules": history}
                locked.start, locked.end, locked.provider = start, Appointment.end_for(locked.service, start), chosen
                locked.save(update_fields=["start", "end", "provider", "metadata", "updated_at"])
                event_id = calendar.update_event(appointment=locked, previous_provider=previous["provider"])
                if event_id != locked.calendar_event_id:
                    locked.calendar_event_id = event_id
                    locked.save(update_fields=["calendar_event_id", "updated_at"])
                send_after_commit(appointment_rescheduled, locked, previous_start=previous["start"], start=start)
        except IntegrityError as error:
            if not _is_double_booking(error):
                raise
            raise SlotTaken(alternatives=_alternatives(service=current.service, start=start, provider=target, now=now,
                                                       calendar=calendar, ignore_appointment=current)) from error
    return locked


def cancel_appointment(*, appointment, reason="", by, now=None, calendar=None):
    """Cancel, recording the reason, who and when; less notice than the clinic asks is allowed but flagged.

    Cancelling a cancelled appointment changes nothing. Raises BookingRefused for a past or
    completed appointment and CalendarUnavailable when the calendar event cannot be removed.
    """
    now = require_aware(now, "now") if now is not None else timezone.now()
    if by not in Appointment.BookedBy.values:
        raise ValueError(f"by must be one of {Appointment.BookedBy.values}, not {by!r}")
    calendar = calendar if calendar is not None else get_calendar()
    clinic = ClinicSettings.load()
    with _serialised(), transaction.atomic():
        _take_sqlite_write_lock()
        locked = Appointment.objects.select_for_update().select_related("customer", "service", "provider").get(
            pk=appointment.pk
        )
        if locked.status == Appointment.Status.CANCELLED:
            return locked
        if locked.status != Appointment.Status.SCHEDULED:
            raise BookingRefused(f"That appointment is {locked.get_status_display().lower()}, so it cannot be cancelled.",
                                 code="not_scheduled")
        if locked.start <= now:
            raise BookingRefused("That appointment has already started.", code="in_the_past")
        locked.status = Appointment.Status.CANCELLED
        locked.cancellation_reason = reason
        locked.cancelled_at = now
        locked.cancelled_by = by
        locked.late_cancellation = locked.is_late_cancellation(now=now, notice_hours=clinic.cancellation_notice_hours)
        locked.save(update_fields=["status", "cancellation_reason", "cancelled_at", "cancelled_by",
                                   "late_cancellation", "updated_at"])
        calendar.delete_event(appointment=locked)
        send_after_commit(appointment_cancelled, locked)
    return locked


def record_visit(*, appointment, status, now=None):
    """Record how a visit went: completed or a no-show, once it has started.

    A visit recorded one way can be corrected to the other. Raises BookingRefused for a visit
    that has not started yet, or one that was cancelled.
    """
    now = require_aware(now, "now") if now is not None else timezone.now()
    outcomes = (Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW)
    if status not in outcomes:
        raise ValueError(f"status must be one of {[str(outcome) for outcome in outcomes]}, not {status!r}")
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status == Appointment.Status.CANCELLED:
            raise BookingRefused("That appointment was cancelled.", code="not_scheduled")
        if locked.start > now:
            raise BookingRefused("That appointment has not started yet.", code="not_started")
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
    return locked


# --- reads --------------------------------------------------------------------------------------

def find_appointments(*, phone, upcoming_only=True, now=None):
    """The appointments of the customer with this phone, soonest first; upcoming scheduled ones by default."""
    try:
        normalised = normalise_phone(phone)
    except ValidationError:
        raise SchedulingError(f"“{phone}” does not look like a phone number.", code="invalid_phone") from None
    if not normalised:
        return []
    appointments = Appointment.objects.filter(customer__phone=normalised).select_related("customer", "service", "provider")
    if upcoming_only:
        now = require_aware(now, "now") if now is not None else timezone.now()
        appointments = appointments.filter(status=Appointment.Status.SCHEDULED, start__gte=now)
    return list(appointments.order_by("start"))


def get_appointment(*, appointment_id):
    """The appointment with this id; BookingRefused(code="not_found") when there is none."""
    if not isinstance(appointment_id, int) or not 0 < appointment_id < 2**63:
        raise BookingRefused("That appointment could not be found.", code="not_found")
    try:
        return Appointment.objects.select_related("customer", "service", "provider").get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValueError, TypeError):
        raise BookingRefused("That appointment could not be found.", code="not_found") from None


# --- concurrency helpers --------------------------------------------------------------------

@contextmanager
def _serialised():
    """On SQLite, one booking write at a time in this process (see the module docstring)."""
    if connection.vendor == "sqlite":
        with _sqlite_booking_lock:
            yield
    else:
        yield


def _take_sqlite_write_lock():
    # A no-op write as the transaction's first statement: SQLite takes its write lock now,
    # so another process's booking cannot read the calendar until ours commits.
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE scheduling_clinicsettings SET id = id WHERE id = 1")


def _is_double_booking(error):
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == "23P01" or "appointment_no_double_booking" in str(error)


def _reload(appointment):
    return Appointment.objects.select_related("customer", "service", "provider").get(pk=appointment.pk)


def _delete_stray_event(calendar, appointment):
    try:
        calendar.delete_event(appointment=appointment)
    except SchedulingError:
        logger.error("Could not remove the calendar event of rolled-back appointment %s", appointment.pk, exc_info=True)

