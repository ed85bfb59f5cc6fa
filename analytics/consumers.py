"""Websockets of the staff dashboard: Live now on the overview, a transcript while the call runs, the console.

All are staff only (the session cookie, through AuthMiddlewareStack) and listen to the groups
communications.live publishes to. They send JSON "ops" carrying HTML rendered from the same
template partials the pages use, so static/js/live.js only places the fragments.
"""

import logging
import uuid
from functools import partial
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.template.loader import render_to_string
from django.utils import timezone

from communications import console, live
from communications.models import CommunicationEvent, Conversation, Message
from communications.selectors import conversation_timeline
from conventions.access import is_staff
from scheduling.models import ClinicSettings

log = logging.getLogger(__name__)

# Close codes the page understands: do not reconnect.
REFUSED = 4403
NOT_FOUND = 4404


def _clinic_zone():
    return ClinicSettings.load().tz


class _StaffConsumer(AsyncJsonWebsocketConsumer):
    groups_to_join = ()

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not is_staff(user):
            # Before accept: the handshake is refused (HTTP 403), nothing is sent.
            await self.close(code=REFUSED)
            return
        self.tz = await database_sync_to_async(_clinic_zone)()
        if not await self.prepare():
            await self.close(code=NOT_FOUND)
            return
        for group in self.groups_to_join:
            await self.channel_layer.group_add(group, self.channel_name)
        self.joined = list(self.groups_to_join)
        await self.accept()
        await self.send_snapshot()

    async def prepare(self):
        return True

    async def send_snapshot(self):
        pass

    async def disconnect(self, code):
        for group in getattr(self, "joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The page only listens; anything it sends is ignored.
        pass

    def render(self, template, context):
        with timezone.override(self.tz):
            return render_to_string(template, context)

    async def live_update(self, message):
        try:
            op = self.op_for(message)
        except Exception:
            # A malformed update must not close a staff member's socket.
            log.exception("Could not render live update %s", message.get("event"))
            return
        if op is not None:
            await self.send_json(op)

    def op_for(self, message):
        """The JSON op to send for one group message, or None to send nothing."""
        return None


class DashboardConsumer(_StaffConsumer):
    """/ws/dashboard/: conversations that start, speak and end, for the overview's Live now."""

    groups_to_join = (live.DASHBOARD_GROUP,)

    async def send_snapshot(self):
        # The page rendered the list before this socket opened; anything in between is in here.
        rows = await database_sync_to_async(live.live_conversations)()
        await self.send_json({
            "op": "snapshot", "now": timezone.now().isoformat(),
            "html": self.render("dashboard/overview.html#live-rows", {"live": rows}),
        })

    def op_for(self, message):
        event = message["event"]
        if event == "started":
            row = {**message["conversation"], "last": None}
            return {"op": "upsert", "id": row["id"], "html": self.render("dashboard/overview.html#live-row", {"row": row})}
        if event == "message":
            return {"op": "utterance", "id": message["conversation_id"],
                    "html": self.render("dashboard/overview.html#live-last", {"last": message["message"]})}
        if event == "identified":
            row = {"id": message["conversation_id"], "customer": message["customer"], "customer_id": message["customer_id"]}
            return {"op": "customer", "id": row["id"],
                    "html": self.render("dashboard/overview.html#live-customer", {"row": row})}
        if event == "ended":
            return {"op": "remove", "id": message["conversation_id"]}
        return None


class ConversationConsumer(_StaffConsumer):
    """/ws/dashboard/conversations/<uuid>/: the transcript of a conversation in progress, as it is said."""

    async def prepare(self):
        self.conversation_id = self.scope["url_route"]["kwargs"]["pk"]
        self.groups_to_join = (live.conversation_group(self.conversation_id),)
        return await database_sync_to_async(Conversation.objects.filter(pk=self.conversation_id).exists)()

    async def send_snapshot(self):
        # Whatever was said between the page's render and this socket: the whole transcript again.
        html, active = await database_sync_to_async(self._transcript)()
        await self.send_json({"op": "transcript", "html": html})
        if not active:
            await self.send_json(self._ended())

    def _transcript(self):
        conversation = Conversation.objects.get(pk=self.conversation_id)
        html = self.render("dashboard/conversation.html#transcript-items",
                           {"timeline": conversation_timeline(conversation)})
        return html, conversation.is_active

    def _ended(self):
        return {"op": "ended", "html": self.render("dashboard/conversation.html#live-ended", {})}

    def op_for(self, message):
        event = message["event"]
        if event in ("message", "revised"):
            data = message["message"]
            item = Message(pk=data["id"], conversation_id=data["conversation_id"], author=data["author"],
                           content=data["content"], position=data["position"], sent_at=live.parse_time(data["sent_at"]))
            html = self.render("dashboard/conversation.html#message", {"item": item})
            return {"op": "message" if event == "message" else "replace", "key": f"m{item.pk}",
                    "position": item.position, "html": html}
        if event == "event":
            data = message["item"]
            item = CommunicationEvent(pk=data["id"], conversation_id=data["conversation_id"], type=data["type"],
                                      data=data["data"], at=live.parse_time(data["at"]))
            html = self.render("dashboard/conversation.html#event", {"item": item})
            return {"op": "event", "key": f"e{item.pk}", "html": html}
        if event == "ended":
            return self._ended()
        return None


class ConsoleConsumer(_StaffConsumer):
    """/ws/dashboard/console/[?conversation=<uuid>]: the messaging console's thread and outbox, as they change.

    The thread is re-rendered whole from the database on each change of its conversation (a handful
    of messages, and it keeps "Ava is writing…" right); the outbox gets one row per change, which the
    page places when its filter shows that channel.
    """

    async def prepare(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.conversation_id = (query.get("conversation") or [None])[0]
        try:
            self.outbox_after = int((query.get("after") or ["0"])[0])
        except ValueError:
            return False
        groups = [live.OUTBOX_GROUP]
        if self.conversation_id:
            try:
                self.conversation_id = str(uuid.UUID(self.conversation_id))
            except ValueError:
                return False
            groups.append(live.conversation_group(self.conversation_id))
        self.groups_to_join = tuple(groups)
        return True

    async def send_snapshot(self):
        # What changed between the page's render and this socket (or while it was reconnecting).
        if self.conversation_id:
            await self.send_json(await database_sync_to_async(self._thread_op)())
        for op in await database_sync_to_async(self._outbox_ops)():
            await self.send_json(op)

    def _outbox_ops(self):
        return [self._row_op(row, created=True) for row in console.outbox_since(self.outbox_after)]

    def _row_op(self, row, *, created):
        return {"op": "outbound", "id": str(row.pk), "channel": row.channel, "created": created,
                "html": self.render("dashboard/console.html#outbox-row", {"row": row})}

    def _thread_op(self):
        html = self.render("dashboard/console.html#thread", console.thread_context(self.conversation_id))
        return {"op": "swap", "target": "thread", "html": html}

    def _outbound_op(self, message):
        row = console.outbox_row(message["id"])
        return None if row is None else self._row_op(row, created=message.get("created", False))

    async def live_update(self, message):
        event = message.get("event")
        if event == "outbound":
            build = partial(self._outbound_op, message)
        elif self.conversation_id and message.get("conversation_id") == self.conversation_id:
            build = self._thread_op
        else:
            return
        try:
            op = await database_sync_to_async(build)()
        except Exception:
            log.exception("Could not render console update %s", event)
            return
        if op is not None:
            await self.send_json(op)
