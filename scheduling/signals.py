"""Signals other apps listen to when an appointment changes, so scheduling never imports them.

Each is sent by scheduling.services after the booking transaction commits (never for a
rolled-back change, and never for a retry that changed nothing), whatever the channel:
voice, SMS, email, staff pages or the API. Confirmations to the customer listen here
(receptionist.notifications).

    appointment_booked.send(sender=Appointment, appointment_id=42)
    appointment_rescheduled.send(sender=Appointment, appointment_id=42, previous_start=<aware>, start=<aware>)
    appointment_cancelled.send(sender=Appointment, appointment_id=42)
"""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

appointment_booked = Signal()
appointment_rescheduled = Signal()
appointment_cancelled = Signal()


def send_after_commit(signal, appointment, **kwargs):
    """Send `signal` for `appointment` once the surrounding transaction commits (at once in autocommit).

    robust: a listener that fails is logged and never turns a committed booking into an error.
    """
    transaction.on_commit(partial(signal.send, sender=type(appointment), appointment_id=appointment.pk, **kwargs),
                          robust=True)
