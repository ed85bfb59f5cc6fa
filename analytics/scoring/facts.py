"""What the data knows about a conversation, which beats any scorer's guess."""

from dataclasses import dataclass, field

from communications.models import CommunicationEvent, Outcome
from scheduling.models import Appointment


@dataclass
class ConversationFacts:
    booked_services: list = field(default_factory=list)  # names, one per appointment booked in it
    rescheduled: int = 0  # successful reschedule_appointment tool calls
    cancelled: int = 0  # successful cancel_appointment tool calls
    escalated: bool = False  # transferred to staff
    tools_used: list = field(default_factory=list)  # tool names in call order
    failed_tools: list = field(default_factory=list)  # tool names whose result carried an error

    @property
    def outcome(self):
        """The outcome the data proves, or "" when only a scorer can tell.

        A booking wins over everything (it is what the clinic wanted most), then a reschedule,
        a cancellation, and a transfer to staff.
        """
        if self.booked_services:
            return Outcome.BOOKED.value
        if self.rescheduled:
            return Outcome.RESCHEDULED.value
        if self.cancelled:
            return Outcome.CANCELLED.value
        if self.escalated:
            return Outcome.ESCALATED.value
        return ""


def tool_failed(data):
    result = data.get("result") if isinstance(data, dict) else None
    return isinstance(result, dict) and "error" in result


def facts_for(conversation):
    facts = ConversationFacts(escalated=conversation.escalated)
    facts.booked_services = list(
        Appointment.objects.filter(conversation=conversation).order_by("created_at", "id")
        .values_list("service__name", flat=True)
    )
    for type_, data in CommunicationEvent.objects.filter(
        conversation=conversation, type__in=["tool_call", "escalated"]
    ).values_list("type", "data"):
        if type_ == "escalated":
            facts.escalated = True
            continue
        name = (data or {}).get("name", "")
        facts.tools_used.append(name)
        if tool_failed(data):
            facts.failed_tools.append(name)
        elif name == "reschedule_appointment":
            facts.rescheduled += 1
        elif name == "cancel_appointment":
            facts.cancelled += 1
    return facts


def apply_facts(answer, facts):
    """The answer with the data's outcome where the data knows it; returns (answer, what was overridden)."""
    proven = facts.outcome
    if proven and answer["outcome"] != proven:
        overridden = {"outcome": {"scorer": answer["outcome"], "data": proven}}
        return {**answer, "outcome": proven}, overridden
    return answer, {}
