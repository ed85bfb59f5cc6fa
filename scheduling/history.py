"""Appointments that already happened, and the record a move leaves: shared by the booking services and
by whoever writes past appointments in bulk (the demo history, an import)."""

from scheduling.models import Appointment


def reschedule_entry(*, from_start, to_start, from_provider, to_provider, by, at, tz):
    """One move, as an appointment keeps it in metadata["reschedules"] (local times, provider ids)."""
    return {
        "from": from_start.astimezone(tz).isoformat(), "to": to_start.astimezone(tz).isoformat(),
        "from_provider": from_provider.pk, "to_provider": to_provider.pk, "by": by, "at": at.isoformat(),
    }


def write_past_appointments(appointments, *, batch_size=500):
    """Save appointments keeping the created_at and updated_at they were given (auto_now_add would say now).

    No signals, no calendar events, no confirmations: these bookings were made and told long ago.
    """
    stamps = [(a.created_at, a.updated_at) for a in appointments]
    Appointment.objects.bulk_create(appointments, batch_size=batch_size)
    for appointment, (created_at, updated_at) in zip(appointments, stamps, strict=True):
        appointment.created_at, appointment.updated_at = created_at, updated_at
    Appointment.objects.bulk_update(appointments, ["created_at", "updated_at"], batch_size=batch_size)
