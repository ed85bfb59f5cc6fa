"""Live updates for the staff dashboard: what changed in a conversation, pushed over the channel layer.

communications.services calls the `publish_*` functions; each sends one small message to the
"dashboard" group (the overview's Live now) and to `conversation.<uuid>` (a transcript being
watched) after the transaction commits; communications.messaging.delivery tells the "outbox" group
(the messaging console) about each OutboundMessage stored or moved on. Consumers turn them into
HTML (analytics.consumers, communications.consumers).

Publishing must never hurt the write it follows: a channel layer that is down or slow is
logged and forgotten (bounded by PUBLISH_TIMEOUT_SECONDS), and nothing here queries the database.
`live_conversations()` is the matching read: the rows Live now shows when a page loads or a
socket (re)connects, in the same shape as the published payloads.
"""

import asyncio
import logging
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from communications.models import Channel, Conversation
from communications.phones import display_phone
from communications.selectors import last_messages

log = logging.getLogger(__name__)

DASHBOARD_GROUP = "dashboard"
OUTBOX_GROUP = "outbox"
PUBLISH_TIMEOUT_SECONDS = 1.0
# Live now shows a line of the last utterance; a watched transcript shows whole messages
# (an email can be long; the page links to the full text).
PREVIEW_CHARS = 160
MESSAGE_CHARS = 4000
LIVE_LIMIT = 50


def conversation_group(conversation_id):
    return f"conversation.{conversation_id}"


# --- payloads: plain, msgpack-safe dicts -----------------------------------------------------

def _iso(moment):
    return moment.isoformat() if moment else None


def _call_details(conversation):
    """A voice conversation's VoiceCallDetail when it is loaded (select_related, or just created), else None."""
    if conversation.channel != Channel.VOICE or not Conversation.voice.is_cached(conversation):
        return None
    return getattr(conversation, "voice", None)  # a missing row raises DoesNotExist, an AttributeError


def conversation_payload(conversation):
    """What Live now needs of one conversation (no query: the customer and the call's details are read only if
    loaded). A call is named for how it came, "Phone call" (with the caller's number) or "Web call"."""
    customer = conversation.customer if conversation.customer_id else None
    call = _call_details(conversation)
    return {
        "id": str(conversation.pk),
        "channel": conversation.channel,
        "channel_label": call.get_source_display() if call else conversation.get_channel_display(),
        "source": call.source if call else "",
        "caller": display_phone(call.from_number) if call else "",
        "customer": str(customer) if customer else "",
        "customer_id": conversation.customer_id,
        "status": conversation.status,
        "started_at": _iso(conversation.started_at),
    }


def message_payload(message, *, limit=MESSAGE_CHARS):
    return {
        "id": message.pk,
        "conversation_id": str(message.conversation_id),
        "author": message.author,
        "content": message.content[:limit],
        "position": message.position,
        "sent_at": _iso(message.sent_at),
    }


def event_payload(event):
    data = event.data or {}
    # Only the parts the transcript shows: a tool's name and whether it failed, a barge-in's timing.
    shown = {key: data[key] for key in ("name", "played_ms") if key in data}
    if isinstance(data.get("result"), dict) and "error" in data["result"]:
        shown["result"] = {"error": True}
    return {
        "id": event.pk,
        "conversation_id": str(event.conversation_id),
        "type": event.type,
        "data": shown,
        "at": _iso(event.at),
    }


def parse_time(value):
    return datetime.fromisoformat(value) if value else None


# --- publishing ---------------------------------------------------------------------------------

def publish_started(conversation):
    _publish({"event": "started", "conversation": conversation_payload(conversation)},
             groups=[DASHBOARD_GROUP])


def publish_message(message):
    conversation_id = message.conversation_id
    _publish({"event": "message", "conversation_id": str(conversation_id),
              "message": message_payload(message, limit=PREVIEW_CHARS)}, groups=[DASHBOARD_GROUP])
    _publish({"event": "message", "conversation_id": str(conversation_id), "message": message_payload(message)},
             groups=[conversation_group(conversation_id)])


def publish_revised(message):
    _publish({"event": "revised", "conversation_id": str(message.conversation_id), "message": message_payload(message)},
             groups=[conversation_group(message.conversation_id)])


def publish_event(event):
    _publish({"event": "event", "conversation_id": str(event.conversation_id), "item": event_payload(event)},
             groups=[conversation_group(event.conversation_id)])


def publish_identified(*, conversation_id, customer):
    _publish({"event": "identified", "conversation_id": str(conversation_id), "customer": str(customer),
              "customer_id": customer.pk}, groups=[DASHBOARD_GROUP])


def publish_ended(conversation):
    message = {"event": "ended", "conversation_id": str(conversation.pk), "status": conversation.status,
               "ended_at": _iso(conversation.ended_at)}
    _publish(message, groups=[DASHBOARD_GROUP, conversation_group(conversation.pk)])


def publish_outbound(outbound, *, created=False):
    """An OutboundMessage was stored (`created`) or its status changed: the console's outbox shows it."""
    _publish({"event": "outbound", "id": outbound.pk, "channel": outbound.channel, "created": created},
             groups=[OUTBOX_GROUP])


def _publish(message, *, groups):
    """Send after the surrounding transaction commits (at once in autocommit); never raise."""
    transaction.on_commit(lambda: send_now(message, groups=groups))


def send_now(message, *, groups):
    """group_send `message` as a "live.update" to each group; failures are logged, not raised."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None:
            # The usual case: a request thread, or the thread database_sync_to_async runs in
            # (async_to_sync hands the send to the server's event loop and waits for it).
            async_to_sync(_send)(layer, message, groups)
        else:
            # Called straight from async code: it cannot wait here, so the loop sends it soon.
            task = loop.create_task(_send(layer, message, groups))
            task.add_done_callback(_log_task_failure)
    except Exception:
        log.warning("Live update %s not sent to %s", message.get("event"), groups, exc_info=True)


async def _send(layer, message, groups):
    async def send_all():
        for group in groups:
            await layer.group_send(group, {"type": "live.update", **message})

    await asyncio.wait_for(send_all(), PUBLISH_TIMEOUT_SECONDS)


def _log_task_failure(task):
    if not task.cancelled() and task.exception() is not None:
        log.warning("Live update not sent", exc_info=task.exception())


# --- the matching read ----------------------------------------------------------------------------

def live_conversations(*, limit=LIVE_LIMIT):
    """Conversations in progress, oldest first, each with its last utterance: [payload + "last"].

    Two queries: the active conversations (a partial scan of the status index) and their
    newest messages.
    """
    conversations = list(
        Conversation.objects.filter(status=Conversation.Status.ACTIVE).select_related("customer", "voice")
        .order_by("started_at")[:limit]
    )
    latest = last_messages([c.pk for c in conversations])
    rows = []
    for conversation in conversations:
        row = conversation_payload(conversation)
        message = latest.get(conversation.pk)
        row["last"] = message_payload(message, limit=PREVIEW_CHARS) if message else None
        rows.append(row)
    return rows
