"""The tool registry: names, JSON schemas, and one way to run any tool on any channel.

Tools are plain synchronous functions (they read and write the database); the
voice bridge runs them in a worker thread, the text agent runs them directly.
Every call is recorded as a `tool_call` event of its conversation (analytics
reads these), and a tool that raises becomes an error result the model can
apologise for: the conversation goes on.
"""

import json
import logging
import time
from dataclasses import dataclass, field

from communications import services as communications
from scheduling.exceptions import SchedulingError

log = logging.getLogger(__name__)

REGISTRY = {}


@dataclass
class ToolContext:
    """Who is asking, on which channel. Tools report side effects in `effects` for the channel to act on."""

    channel: str
    conversation_id: object = None
    customer_id: int | None = None
    now: object = None  # a fixed "now" (tests, replays); None: the clock
    effects: list = field(default_factory=list)

    def effect(self, kind, **data):
        self.effects.append({"kind": kind, **data})


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict
    function: object

    def schema(self):
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self.parameters}


@dataclass
class ToolResult:
    name: str
    call_id: str
    arguments: object
    output: dict
    duration_ms: int

    @property
    def ok(self):
        return self.output.get("ok", False)

    def output_json(self):
        return json.dumps(self.output, default=str)


class ToolRefusal(Exception):
    """A tool cannot do what was asked, for a reason the caller should hear (not a fault)."""

    def __init__(self, message, *, code, **details):
        super().__init__(message)
        self.message, self.code, self.details = message, code, details


def tool(name, description, properties=None, required=()):
    """Register a function as a tool with a JSON schema built from `properties`."""

    def register(function):
        REGISTRY[name] = Tool(
            name=name, description=description,
            parameters={"type": "object", "properties": properties or {}, "required": list(required),
                        "additionalProperties": False},
            function=function,
        )
        return function

    return register


def tool_schemas():
    """The tools in the shape OpenAI's session and responses take."""
    return [t.schema() for t in REGISTRY.values()]


def run_tool(name, arguments, *, context, call_id=""):
    """Run one tool call and record it. `arguments` is the model's JSON string (or a dict).

    Never raises for a tool's own failure: the result says what went wrong.
    """
    started = time.monotonic()
    parsed = arguments
    try:
        if isinstance(arguments, str):
            parsed = json.loads(arguments or "{}")
        if not isinstance(parsed, dict):
            raise ValueError("arguments must be a JSON object")
    except ValueError as exc:
        output = {"ok": False, "code": "invalid_arguments", "error": f"The arguments were not valid JSON: {exc}"}
    else:
        output = _call(name, parsed, context)
    result = ToolResult(name=name, call_id=call_id, arguments=parsed, output=output,
                        duration_ms=int((time.monotonic() - started) * 1000))
    if context.conversation_id is not None:
        communications.record_event(
            conversation_id=context.conversation_id, type="tool_call",
            data={"name": name, "arguments": parsed, "result": json.loads(result.output_json()),
                  "call_id": call_id, "duration_ms": result.duration_ms},
        )
        if output.get("code") == "tool_error":
            communications.record_event(
                conversation_id=context.conversation_id, type="error",
                data={"where": "tool", "name": name, "call_id": call_id, "message": output.get("detail", "")},
            )
    return result


def _call(name, arguments, context):
    entry = REGISTRY.get(name)
    if entry is None:
        return {"ok": False, "code": "unknown_tool", "error": f"There is no tool called {name}."}
    allowed = set(entry.parameters["properties"])
    unknown = set(arguments) - allowed
    missing = [key for key in entry.parameters["required"] if arguments.get(key) in (None, "")]
    if unknown or missing:
        problems = [f"unknown argument(s): {', '.join(sorted(unknown))}"] if unknown else []
        problems += [f"missing: {', '.join(missing)}"] if missing else []
        return {"ok": False, "code": "invalid_arguments", "error": "; ".join(problems)}
    try:
        output = entry.function(context=context, **arguments)
    except ToolRefusal as exc:
        return {"ok": False, "code": exc.code, "error": exc.message, **exc.details}
    except SchedulingError as exc:
        return {"ok": False, **exc.to_dict(), "error": exc.message}
    except Exception as exc:  # the call goes on; the model apologises and offers another way
        log.exception("Tool %s failed", name)
        return {"ok": False, "code": "tool_error", "detail": f"{type(exc).__name__}: {exc}",
                "error": "Something went wrong on our side while doing that. Apologise, and offer to have a "
                         "member of staff call the caller back."}
    return succeeded(output)


def succeeded(output):
    """A tool's answer as the model and the records get it (also what the demo history records)."""
    return {"ok": True, **output}
