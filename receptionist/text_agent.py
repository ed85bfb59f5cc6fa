"""The text agent: Ava answering texts (SMS, WhatsApp) and emails with the voice assistant's persona and tools.

    reply = answer(conversation_id=conversation.pk)   # AgentReply(text, effects, engine), or None
    reply_to_conversation(conversation_id=...)        # answer and send, once per new customer message

With OPENAI_API_KEY it uses OpenAI's Chat Completions with tools through the official SDK
(`OpenAI(...).chat.completions.create(model, messages, tools)`; OPENAI_BASE_URL honoured). The
model sees the whole thread: the customer's and Ava's messages and every earlier tool call with
its result (stored as `tool_call` events by the shared registry), so a booking can span several
messages. Without a key the local engine's brain answers (receptionist.engines.local_brain),
its state between messages kept in the conversation's metadata.

Replies are shaped for the channel: short for SMS and WhatsApp; a greeting and a sign-off for email.
"""

import asyncio
import json
import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from openai import APIConnectionError, APIStatusError, APITimeoutError, OpenAI

from communications import messaging
from communications import services as communications
from communications import usage as usage_records
from communications.models import TWILIO_CHANNELS, Channel, CommunicationEvent, Conversation, Message, UsageRecord
from receptionist.engines.local_brain import BOOK, CANCEL, LocalBrain
from receptionist.prompt import build_instructions
from receptionist.tools import REGISTRY, ToolContext, run_tool
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)

LOCAL_STATE_KEY = "local_brain"
SMS_MAX_CHARS = 1600  # Twilio's limit for one message (it splits it into segments)
HISTORY_LIMIT = 80  # entries of the thread the model sees (a thread is bounded by its window anyway)
LOCK_SECONDS = 300  # a reply's claim older than this belonged to a writer that died
FALLBACK = ("Sorry, I'm having trouble answering right now. A member of our team will get back to you shortly.")
_GREETING = re.compile(r"^\s*(hi|hello|hey|dear|good (morning|afternoon|evening))\b", re.I)
_MARKDOWN = re.compile(r"(\*\*|__|^#+\s*)", re.M)


class AgentUnavailable(Exception):
    """OpenAI could not answer now (network, 429, 5xx, timeout): worth another try later."""


@dataclass
class AgentReply:
    text: str
    engine: str
    effects: list = field(default_factory=list)


# --- the instructions ------------------------------------------------------------------------

def instructions(conversation, *, now=None):
    """The voice assistant's instructions plus what this text conversation needs."""
    clinic = ClinicSettings.load()
    customer = conversation.customer
    lines = ["", "# This conversation"]
    if conversation.channel in TWILIO_CHANNELS:
        where = " on WhatsApp" if conversation.channel == Channel.WHATSAPP else ""
        lines += [
            f"You are texting with the customer{where}. Keep every reply short: one to three plain sentences, under "
            "320 characters, no markdown, no lists. Greet only in your first message.",
        ]
        if customer and customer.phone:
            lines.append(f"They are texting from {customer.phone}: use it as their phone number for bookings and "
                         "for finding their appointments unless they give another; do not ask for it.")
    else:
        lines += [
            "You are answering the customer's email. Start with a greeting ('Hi <first name>,' or 'Hello,'), answer "
            "in short plain-text paragraphs, and end with a sign-off on its own lines: 'Best regards,', then "
            f"'{clinic.assistant_name}', then '{clinic.name}'.",
            "Bookings need a phone number: ask for one if you do not have it.",
        ]
        if customer and customer.email:
            lines.append(f"Their email address is {customer.email}.")
    if customer and customer.name:
        lines.append(f"The customer's name is {customer.name}.")
    lines.append("When the customer is done, call end_call and write a short goodbye.")
    return build_instructions(channel=conversation.channel, now=now) + "\n".join(lines)


def format_for_channel(text, *, conversation):
    """Make a reply fit its channel whatever wrote it: plain and bounded for texts, greeted and signed for email."""
    text = (text or "").strip()
    if conversation.channel in TWILIO_CHANNELS:
        text = _MARKDOWN.sub("", text)
        return text[:SMS_MAX_CHARS]
    clinic = ClinicSettings.load()
    customer = conversation.customer
    if not _GREETING.match(text):
        first = (customer.name.split()[0] if customer and customer.name else "")
        text = f"Hi {first},\n\n{text}" if first else f"Hello,\n\n{text}"
    if clinic.assistant_name.lower() not in "\n".join(text.splitlines()[-4:]).lower():
        text = f"{text}\n\nBest regards,\n{clinic.assistant_name}\n{clinic.name}"
    return text


# --- the thread as the model sees it ------------------------------------------------------------

def chat_history(conversation):
    """The conversation as Chat Completions messages: words in order, tool calls with their results."""
    messages = list(conversation.messages.exclude(author=Message.Author.SYSTEM).order_by("position", "sent_at", "id"))
    events = list(conversation.events.filter(type="tool_call").order_by("at", "id"))
    # Sort by time; at a tie the customer's words come first and Ava's after the tools she used.
    entries = sorted(
        [((m.sent_at, 0 if m.author == Message.Author.CUSTOMER else 2, m.position), m) for m in messages]
        + [((e.at, 1, e.pk), e) for e in events],
        key=lambda pair: pair[0],
    )
    history, calls = [], []
    for _, item in entries:
        if isinstance(item, CommunicationEvent):
            calls.append(item)
            continue
        history += _tool_turn(calls)
        calls = []
        role = "user" if item.author == Message.Author.CUSTOMER else "assistant"
        history.append({"role": role, "content": item.content})
    history += _tool_turn(calls)
    history = history[-HISTORY_LIMIT:]
    while history and history[0]["role"] == "tool":  # never start in the middle of a tool turn
        history.pop(0)
    return history


def _tool_turn(events):
    if not events:
        return []
    turn = [{"role": "assistant", "content": None, "tool_calls": [
        {"id": _call_id(e), "type": "function",
         "function": {"name": e.data.get("name", ""), "arguments": json.dumps(e.data.get("arguments") or {})}}
        for e in events]}]
    turn += [{"role": "tool", "tool_call_id": _call_id(e), "content": json.dumps(e.data.get("result"), default=str)}
             for e in events]
    return turn


def _call_id(event):
    return event.data.get("call_id") or f"call_{event.pk}"


def chat_tools():
    """The shared registry's tools in Chat Completions' shape."""
    return [{"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters}} for t in REGISTRY.values()]


# --- answering ----------------------------------------------------------------------------------

def answer(*, conversation_id, now=None):
    """Ava's next message in a text conversation (tools run and recorded on the way). None if it is gone.

    Raises AgentUnavailable when OpenAI cannot answer now.
    """
    conversation = Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    if conversation is None:
        return None
    context = ToolContext(channel=conversation.channel, conversation_id=conversation.pk,
                          customer_id=conversation.customer_id, now=now)
    if settings.OPENAI_API_KEY:
        text, engine = _openai_answer(conversation, context, now=now), "openai"
    else:
        text, engine = _local_answer(conversation, context), "local"
    return AgentReply(text=format_for_channel(text, conversation=conversation), engine=engine,
                      effects=context.effects)


def _client():
    return OpenAI(api_key=settings.OPENAI_API_KEY, base_url=settings.OPENAI_BASE_URL or None,
                  timeout=settings.TEXT_AGENT_TIMEOUT_SECONDS, max_retries=1)


def _openai_answer(conversation, context, *, now=None):
    client = _client()
    messages = [{"role": "system", "content": instructions(conversation, now=now)}, *chat_history(conversation)]
    tools = chat_tools()
    for _ in range(settings.TEXT_AGENT_MAX_TOOL_ROUNDS):
        try:
            completion = client.chat.completions.create(model=settings.OPENAI_TEXT_MODEL, messages=messages,
                                                        tools=tools, tool_choice="auto")
        except (APIConnectionError, APITimeoutError) as error:
            raise AgentUnavailable(f"OpenAI could not be reached: {error}") from error
        except APIStatusError as error:
            if error.status_code == 429 or error.status_code >= 500:
                raise AgentUnavailable(f"OpenAI answered {error.status_code}") from error
            raise
        # Each completion's usage as it comes back: a later round that fails keeps what this one spent.
        usage_records.record_usage(conversation_id=conversation.pk, kind=UsageRecord.Kind.TEXT,
                                   model=completion.model or settings.OPENAI_TEXT_MODEL, usage=completion.usage,
                                   source_id=completion.id or "")
        reply = completion.choices[0].message
        if not reply.tool_calls:
            return reply.content or reply.refusal or FALLBACK
        messages.append({"role": "assistant", "content": reply.content, "tool_calls": [
            {"id": call.id, "type": "function",
             "function": {"name": call.function.name, "arguments": call.function.arguments}}
            for call in reply.tool_calls]})
        for call in reply.tool_calls:
            result = run_tool(call.function.name, call.function.arguments, context=context, call_id=call.id)
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result.output_json()})
    log.warning("Text agent for %s used all %d tool rounds", conversation.pk, settings.TEXT_AGENT_MAX_TOOL_ROUNDS)
    return FALLBACK


# --- the local engine's brain, one message at a time -----------------------------------------------

class _TextTurn:
    """What LocalBrain.respond needs of a Realtime response, for text: it collects words and tool calls."""

    instructions = ""

    def __init__(self, sim):
        self.sim = sim
        self.said = []
        self.calls = []

    async def say(self, text, **kwargs):
        self.said.append(text)

    async def call_function(self, name, arguments):
        item = {"type": "function_call", "call_id": f"call_{uuid.uuid4().hex[:16]}", "name": name,
                "arguments": json.dumps(arguments)}
        self.sim.items.append(item)
        self.calls.append(item)
        return item


class _Items:
    def __init__(self, items):
        self.items = items


def _local_answer(conversation, context):
    brain = restore_brain(conversation.metadata.get(LOCAL_STATE_KEY))
    text = " ".join(m.content for m in unanswered_messages(conversation)).strip()
    sim = _Items([{"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}])
    said = []
    _seed(brain, conversation, text)
    for _ in range(settings.TEXT_AGENT_MAX_TOOL_ROUNDS + 2):  # the brain learns the clinic in one extra round
        turn = _TextTurn(sim)
        _run(brain.respond(turn))
        said += turn.said
        if not turn.calls:
            break
        for call in turn.calls:
            result = run_tool(call["name"], call["arguments"], context=context, call_id=call["call_id"])
            sim.items.append({"type": "function_call_output", "call_id": call["call_id"],
                              "output": result.output_json()})
        _seed(brain, conversation, "")
    metadata = Conversation.objects.get(pk=conversation.pk).metadata
    metadata[LOCAL_STATE_KEY] = brain_state(brain)
    Conversation.objects.filter(pk=conversation.pk).update(metadata=metadata)
    return " ".join(said) or "How can I help you?"


def _seed(brain, conversation, text):
    """A texting customer's number is known: the brain need not ask for it to book or to find a booking."""
    customer = conversation.customer
    if conversation.channel not in TWILIO_CHANNELS or customer is None or not customer.phone:
        return
    if brain.cancelling or CANCEL.search(text):
        brain.cancelling.setdefault("phone", customer.phone)
    elif brain.booking or BOOK.search(text):
        brain.booking.setdefault("phone", customer.phone)
        if customer.name:
            brain.booking.setdefault("name", customer.name)


def _run(coroutine):
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:  # called from async code: a loop of its own elsewhere
        return pool.submit(asyncio.run, coroutine).result()


def restore_brain(state):
    brain = LocalBrain()
    for name, value in _decode(state or {}).items():
        if name in {"catalogue", "booking", "cancelling"}:
            setattr(brain, name, value)
    return brain


def brain_state(brain):
    """The brain's memory between messages, as JSON (dates, times and tuples tagged)."""
    return _encode({"catalogue": brain.catalogue, "booking": brain.booking, "cancelling": brain.cancelling})


def _encode(value):
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        if set(value) == {"$tuple"}:
            return tuple(_decode(v) for v in value["$tuple"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


# --- the workflow the task runs -----------------------------------------------------------------

def unanswered_messages(conversation):
    """The customer's messages that no reply has answered yet.

    A reply records the last customer message it saw ("answers_through"): a text that arrives
    while Ava is writing lands before her reply but is still unanswered.
    """
    answered = -1
    for position, metadata in (conversation.messages.exclude(author=Message.Author.CUSTOMER)
                               .values_list("position", "metadata")):
        answered = max(answered, (metadata or {}).get("answers_through", position))
    waiting = (conversation.messages.filter(author=Message.Author.CUSTOMER, position__gt=answered)
               .order_by("position", "sent_at", "id"))
    return [m for m in waiting if not (m.metadata or {}).get("no_reply")]


@dataclass
class ReplyResult:
    status: str  # replied, busy, retry, nothing_to_do, opted_out, gone
    message: Message | None = None
    error: Exception | None = None


def reply_to_conversation(*, conversation_id, final_try=False, now=None, owner=None):
    """Answer a text conversation's new customer messages once, and send the answer on its channel.

    One writer at a time per conversation (communications' claim_reply, a conditional update; `owner`
    names the writer, the task's id). A text that arrives while Ava writes finds the conversation busy
    and is left to the writer, who answers it before letting go, so nobody waits. On the final try after
    OpenAI failures the customer gets an apology and staff are asked to follow up, so no message goes
    unanswered.
    """
    owner = owner or uuid.uuid4().hex
    result = ReplyResult("busy")
    while True:
        claimed_at = communications.claim_reply(conversation_id=conversation_id, owner=owner, timeout=LOCK_SECONDS)
        if claimed_at is None:
            return result
        try:
            latest = _reply_once(conversation_id=conversation_id, final_try=final_try, now=now)
        finally:
            communications.release_reply(conversation_id=conversation_id, claimed_at=claimed_at)
        if latest.status != "replied":
            return latest if latest.status == "retry" or result.status == "busy" else result
        result = latest
        # Texts that came while Ava wrote found her busy: answer them now (after letting go, so that a
        # text whose claim failed while we held it is always seen here).
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is None or not conversation.is_active or not unanswered_messages(conversation):
            return result


def _reply_once(*, conversation_id, final_try, now):
    conversation = Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
    if conversation is None or not conversation.is_active:
        return ReplyResult("gone")
    waiting = unanswered_messages(conversation)
    if not waiting:
        return ReplyResult("nothing_to_do")
    customer = conversation.customer
    if customer is not None and customer.opted_out_of(conversation.channel):
        return ReplyResult("opted_out")
    try:
        reply = answer(conversation_id=conversation_id, now=now)
    except AgentUnavailable as error:
        if not final_try:
            return ReplyResult("retry", error=error)
        communications.mark_escalated(conversation_id=conversation_id, reason="The text agent could not answer.",
                                      data={"error": str(error)})
        reply = AgentReply(text=format_for_channel(FALLBACK, conversation=conversation), engine="fallback")
    if reply is None:
        return ReplyResult("gone")
    message = messaging.send_reply(conversation_id=conversation_id, content=reply.text,
                                   metadata={"engine": reply.engine, "answers_through": waiting[-1].position})
    if any(effect["kind"] == "end_call" for effect in reply.effects):
        communications.end_conversation(conversation_id=conversation_id, end_reason="assistant_ended")
    return ReplyResult("replied", message=message)
