"""The assistant's tools, shared by every channel (voice now, SMS and email through the text agent).

    from receptionist.tools import ToolContext, run_tool, tool_schemas
    context = ToolContext(channel="sms", conversation_id=conversation.pk)
    result = run_tool("check_availability", '{"service": "Botox", "date": "2025-06-03"}', context=context, call_id="c1")
    result.output_json()   # the function_call_output for the model
    context.effects        # e.g. [{"kind": "transfer", ...}, {"kind": "end_call", ...}] for the channel to act on

The names are a contract with prompts, tests and analytics (ARCHITECTURE.md).
"""

from receptionist.tools import booking, calls, info  # noqa: F401  (each module registers its tools)
from receptionist.tools.registry import REGISTRY, ToolContext, ToolRefusal, ToolResult, run_tool, tool_schemas

TOOL_NAMES = (
    "get_current_datetime", "get_business_info", "get_service_info", "get_provider_info", "check_availability",
    "book_appointment", "find_appointments", "reschedule_appointment", "cancel_appointment", "transfer_to_staff",
    "end_call",
)
if set(REGISTRY) != set(TOOL_NAMES):  # the contract, checked once at import
    raise RuntimeError(f"Tool registry differs from the contract: {sorted(set(REGISTRY) ^ set(TOOL_NAMES))}")

__all__ = ["REGISTRY", "TOOL_NAMES", "ToolContext", "ToolRefusal", "ToolResult", "run_tool", "tool_schemas"]
