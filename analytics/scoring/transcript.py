"""The transcript a scorer reads: both speakers labelled, tool calls and their results in line."""

import json

from communications.models import Channel, CommunicationEvent, Message
from scheduling.models import ClinicSettings

MAX_TOOL_JSON_CHARS = 600
MAX_TRANSCRIPT_CHARS = 40_000
# Events worth a line; the rest (interruptions, consent, …) do not change how the conversation went.
SHOWN_EVENTS = {"tool_call", "escalated", "closed_inactive", "error"}


def customer_said_something(conversation_id):
    """Did the customer say (or write) anything at all? If not, there is nothing to score."""
    contents = Message.objects.filter(conversation_id=conversation_id, author=Message.Author.CUSTOMER).values_list(
        "content", flat=True
    )
    return any(content.strip() for content in contents)


def _speaker(author, channel, assistant_name):
    if author == Message.Author.CUSTOMER:
        return "Caller" if channel == Channel.VOICE else "Customer"
    if author == Message.Author.ASSISTANT:
        return f"{assistant_name} (assistant)"
    return "Staff" if author == Message.Author.STAFF else "System"


def _compact(value, limit=MAX_TOOL_JSON_CHARS):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _event_line(event):
    data = event.data or {}
    if event.type == "tool_call":
        name = data.get("name", "?")
        return f"[tool call] {name}({_compact(data.get('arguments', {}))}) -> {_compact(data.get('result'))}"
    if event.type == "escalated":
        reason = data.get("reason") or "no reason given"
        return f"[transferred to staff: {reason}]"
    if event.type == "closed_inactive":
        return "[the conversation was closed by the system after a long silence; the connection was probably lost]"
    return f"[{event.type}: {_compact(data, 200)}]"


def _duration(seconds):
    if seconds is None:
        return "still open"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def format_transcript(conversation, *, clinic=None, max_chars=MAX_TRANSCRIPT_CHARS):
    """The conversation as plain text, oldest first, with a short header.

    Messages keep their stored order (position; voice transcripts can arrive late, so the
    relay numbers them). An event linked to a message follows it; any other event is placed
    by time after the messages that came before it.
    """
    clinic = clinic or ClinicSettings.load()
    started = conversation.started_at.astimezone(clinic.tz)
    header = [
        f"Channel: {conversation.get_channel_display()}",
        f"Started: {started:%A %Y-%m-%d %H:%M} ({clinic.time_zone}); length: {_duration(conversation.duration_seconds)}",
    ]
    if conversation.customer_id:
        customer = conversation.customer
        header.append(f"Customer: {'new' if customer.is_new_client else 'returning'} client")

    messages = list(Message.objects.filter(conversation=conversation).order_by("position", "sent_at", "id"))
    events = [
        event for event in CommunicationEvent.objects.filter(conversation=conversation).order_by("at", "id")
        if event.type in SHOWN_EVENTS
    ]
    lines = []  # (sort key, text)
    keys_by_message = {}
    latest = None
    for index, message in enumerate(messages):
        # The running latest time keeps keys in message order even when sent_at is not.
        latest = message.sent_at if latest is None else max(latest, message.sent_at)
        key = (latest, 0, index, 0)
        keys_by_message[message.pk] = key
        speaker = _speaker(message.author, conversation.channel, clinic.assistant_name)
        lines.append((key, f"{speaker}: {message.content.strip()}"))
    for index, event in enumerate(events):
        linked = keys_by_message.get(event.message_id)
        key = (linked[0], 0, linked[2], 1 + index) if linked else (event.at, 1, index, 0)
        lines.append((key, _event_line(event)))
    lines.sort(key=lambda pair: pair[0])
    body = [text for _, text in lines]

    text = "\n".join(header + ["", *body])
    if len(text) <= max_chars:
        return text
    # Too long for one prompt: keep the opening and the ending, where outcomes are decided.
    head_budget, tail_budget = int(max_chars * 0.4), int(max_chars * 0.55)
    head, tail = [], []
    used = 0
    for line in body:
        if used + len(line) > head_budget:
            break
        head.append(line)
        used += len(line) + 1
    used = 0
    for line in reversed(body[len(head):]):
        if used + len(line) > tail_budget:
            break
        tail.insert(0, line)
        used += len(line) + 1
    omitted = len(body) - len(head) - len(tail)
    return "\n".join(header + ["", *head, f"[… {omitted} lines omitted …]", *tail])
