"""Tools about the conversation itself: handing over to staff, and ending a call."""

from communications import services as communications
from receptionist.phone.transfer import can_put_through
from receptionist.tools.info import local_now
from receptionist.tools.registry import tool
from scheduling.models import ClinicSettings


@tool(
    "transfer_to_staff",
    "Hand the conversation to the clinic's staff: for an emergency or a reaction after a treatment (urgent=true, "
    "after telling the caller to call 911 if it is urgent), when the caller asks for a person, or when you cannot "
    "help. Staff call the caller back; tell the caller that.",
    {"reason": {"type": "string", "description": "Why, in a sentence staff can act on."},
     "urgent": {"type": "boolean", "description": "A possible medical emergency or adverse reaction."},
     "callback_phone": {"type": "string", "description": "The number to call back, if the caller gave one."}},
    required=["reason"],
)
def transfer_to_staff(*, context, reason, urgent=False, callback_phone=""):
    clinic = ClinicSettings.load()
    if context.conversation_id is not None:
        communications.mark_escalated(conversation_id=context.conversation_id, reason=reason,
                                      data={"urgent": bool(urgent), "channel": context.channel})
        # The callback is a task for the front desk, kept with the conversation.
        communications.record_event(
            conversation_id=context.conversation_id, type="staff_task",
            data={"kind": "callback", "reason": reason, "urgent": bool(urgent), "phone": callback_phone,
                  "requested_at": local_now(context, clinic).isoformat()},
        )
    if context.conversation_id is not None and can_put_through(context.conversation_id):
        # A phone call in opening hours: the line puts the caller through once Ava has said so.
        context.effect("transfer", urgent=bool(urgent), reason=reason, live=True)
        return put_through_result()
    context.effect("transfer", urgent=bool(urgent), reason=reason)
    return transfer_result(urgent=urgent, clinic=clinic)


@tool(
    "end_call",
    "End the conversation after the caller is done. Say a short goodbye after calling it.",
    {"reason": {"type": "string", "description": "Why the conversation ends, e.g. 'caller is done'."}},
)
def end_call(*, context, reason=""):
    context.effect("end_call", reason=reason or "caller is done")
    return end_call_result()


# --- the answers' shapes (also what the demo history records) ----------------------------------

def transfer_result(*, urgent, clinic):
    """transfer_to_staff's answer: what happens next, as the caller should hear it."""
    soon = "as soon as possible" if urgent else "shortly, during opening hours"
    next_step = f"A member of our team will call you back {soon}."
    if urgent:
        next_step = "If this is an emergency, call 911 now. " + next_step
    if clinic.phone:
        next_step += f" You can also reach the clinic directly at {clinic.phone}."
    return {"transferred": True, "urgent": bool(urgent), "what_happens_next": next_step}


def put_through_result():
    """transfer_to_staff's answer on a phone call the front desk can take now."""
    return {"transferred": True, "live": True,
            "what_happens_next": "Tell the caller in one short sentence that you are putting them through to the "
                                 "front desk now. The call is transferred as soon as you have said it."}


def end_call_result():
    return {"ending": True, "instruction": "Say a short, warm goodbye now; the call ends after it."}
