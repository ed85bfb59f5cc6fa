"""The call page's websocket: a thin consumer around the voice relay."""

import json
import logging
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from receptionist.bridge import PageTransport, VoiceBridge
from receptionist.call_tokens import call_token_is_valid
from receptionist.limits import allow_new_call, give_back_call_slot, take_call_slot

log = logging.getLogger(__name__)


class VoiceConsumer(AsyncWebsocketConsumer):
    """/ws/voice/<session_id>: binary PCM16 frames and JSON control (docs/voice-protocol.md)."""

    # No channel layer: a call talks to one page and one engine, never to a group, so it
    # need not hold a channel-layer receive open (a Redis connection each) for its whole life.
    channel_layer_alias = "voice-calls-use-no-channel-layer"

    bridge = None
    page = None
    slot_ip = None

    async def dispatch(self, message):
        # Channels' dispatch closes stale database connections before every message, a thread hop
        # each time: at 25-50 audio frames a second per call that is the relay's main cost. The relay
        # never touches the database (its writes run through database_sync_to_async, which does that
        # cleanup), so the frames skip it; connect and disconnect go through Channels as usual.
        # test_consumer_dispatch.py fails if Channels' dispatch changes from what this relies on.
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        await self.accept()
        ip = (self.scope.get("client") or ("unknown", 0))[0]
        token = (parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
        if not call_token_is_valid(token, ip=ip):
            await self.refuse(code="page_expired", close_code=4403,
                              message="This call page has expired. Please reload it to call again.")
            return
        if not await allow_new_call(ip):
            await self.refuse(code="too_many_calls", close_code=4429,
                              message="Too many new calls from your address. Please wait a minute and call again.")
            return
        if not await take_call_slot(ip):
            await self.refuse(code="too_many_calls", close_code=4429,
                              message="Too many calls from your address at once. Please hang up another call first.")
            return
        self.slot_ip = ip
        headers = dict(self.scope.get("headers") or [])
        self.page = PageTransport(send_text=self._send_text, send_bytes=self._send_bytes, close_page=self.close)
        self.bridge = VoiceBridge(transport=self.page, call_details={
            "session_id": self.scope["url_route"]["kwargs"]["session_id"],
            "user_agent": headers.get(b"user-agent", b"").decode("latin-1"),
        })
        await self.bridge.open()

    async def receive(self, text_data=None, bytes_data=None):
        if self.page is None:
            return
        if bytes_data is not None:
            await self.page.receive_audio(bytes_data)
        else:
            await self.page.receive_text(text_data)

    async def disconnect(self, code):
        try:
            if self.bridge is not None:
                await self.bridge.line_closed()
        finally:
            if self.slot_ip is not None:
                await give_back_call_slot(self.slot_ip)
                self.slot_ip = None

    async def refuse(self, *, code, message, close_code):
        """Tell the page why, in the protocol's words, and close before any call exists."""
        await self.send_json_message({"type": "error", "code": code, "message": message})
        await self.send_json_message({"type": "call.ended", "reason": code, "message": message, "say": ""})
        await self.close(code=close_code)

    async def send_json_message(self, message):
        await self.send(text_data=json.dumps(message))

    async def _send_text(self, text):
        await self.send(text_data=text)

    async def _send_bytes(self, data):
        await self.send(bytes_data=data)
