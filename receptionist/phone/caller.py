"""Caller ID: what Ava knows when the number calling belongs to a customer (docs/phone.md).

The greeting uses their first name; the session's instructions gain their upcoming appointments and
the summary of their last conversation, and the number they call from, so the tools need not ask it.
"""

from django.utils import timezone

from communications.models import Conversation
from communications.phones import display_phone
from scheduling.models import Appointment
from scheduling.spoken import spoken_datetime


def first_name(customer):
    return (customer.name or "").split(" ")[0] if customer and customer.name else ""


def phone_greeting(greeting, customer):
    """The clinic's greeting, opened with the returning customer's first name ("Hi Maya! …")."""
    name = first_name(customer)
    return f"Hi {name}! {greeting}" if name else greeting


TAKE_A_MESSAGE = (
    "\n\nThis caller asked for the front desk and was put through, but nobody answered; the call is back with you "
    "and you have told them so. Do not offer to put them through again. Take a message: their name, the best "
    "number to call them back on, and what it is about. Then call transfer_to_staff with a reason that says "
    "who they are and what they want, and callback_phone; tell them the team will call them back, say goodbye "
    "and call end_call.")


def take_a_message_line(customer):
    """What Ava says when she takes a call back that nobody at the front desk answered."""
    name = first_name(customer)
    if name:
        return (f"Sorry {name}, nobody at the front desk could pick up just now. I can take a message and have "
                "someone call you back. What would you like me to pass on?")
    return ("Sorry, nobody at the front desk could pick up just now. I can take a message and have someone call "
            "you back. May I have your name?")


def caller_instructions(*, customer, from_number, conversation_id, tz):
    """What the session's instructions add about the caller: their number, and who they are if known."""
    if not from_number:
        return ("\n\nThis phone caller's number is withheld: ask for a phone number when a booking or a lookup "
                "needs one.")
    lines = [f"\n\nThis phone caller is calling from {display_phone(from_number)} ({from_number}). Use that "
             "number for bookings and lookups without asking for it; confirm the number when they book for "
             "someone else."]
    if customer is None:
        lines.append("The number is not a known client's.")
        return "\n".join(lines)
    lines.append(f"The number belongs to the client {customer.name or 'whose name is not on file'}.")
    upcoming = (Appointment.objects.filter(customer=customer, status=Appointment.Status.SCHEDULED,
                                           start__gte=timezone.now())
                .select_related("service", "provider").order_by("start")[:5])
    if upcoming:
        lines.append("Their upcoming appointments: " + "; ".join(
            f"{a.service.name} with {a.provider.name} on {spoken_datetime(a.start.astimezone(tz))}" for a in upcoming) + ".")
    else:
        lines.append("They have no upcoming appointments.")
    last = (Conversation.objects.filter(customer=customer).exclude(pk=conversation_id).exclude(summary="")
            .order_by("-started_at").first())
    if last:
        lines.append(f"Their last conversation ({last.get_channel_display()}): {last.summary}")
    return "\n".join(lines)
