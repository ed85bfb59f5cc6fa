"""/ws/twilio/media: Twilio's bidirectional Media Stream for a phone call (docs/phone.md).

Two locks before any audio flows: the handshake's X-Twilio-Signature (Twilio signs the wss:// URL as the
TwiML wrote it) is checked before the socket is accepted, and the `start` message must carry the token
the voice webhook issued for this very CallSid. Then the call runs on the same bridge as the call page,
with the phone transport (transport.py).
"""

import asyncio
import dataclasses
import json
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from communications.models import Conversation
from receptionist.bridge import VoiceBridge
from receptionist.call_tokens import read_stream_token
from receptionist.phone import twiml
from receptionist.phone.transfer import front_desk_is_open
from receptionist.phone.transport import PhoneTransport
from receptionist.phone.twiml import STREAM_PATH

log = logging.getLogger(__name__)


def handshake_url(scope):
    """The stream's URL as the TwiML wrote it: TWILIO_WEBHOOK_BASE_URL (https -> wss), else this host."""
    base = settings.TWILIO_WEBHOOK_BASE_URL
    if base:
        base = base.rstrip("/")
        return ("wss://" + base.removeprefix("https://") if base.startswith("https://")
                else "ws://" + base.removeprefix("http://")) + STREAM_PATH
    host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'ws')}://{host}{STREAM_PATH}"


def handshake_is_signed(scope):
    token = settings.TWILIO_AUTH_TOKEN
    signature = dict(scope.get("headers") or []).get(b"x-twilio-signature", b"").decode("latin-1")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(handshake_url(scope), {}, signature)


NOT_AVAILABLE = "I'm sorry, our assistant is not available right now."
PUT_THROUGH = NOT_AVAILABLE + " Let me put you through to the front desk."


def public_base(scope):
    """The https:// address Twilio reaches Ava's webhooks at, for the TwiML a live call is given."""
    stream = handshake_url(scope).removesuffix(STREAM_PATH)
    return "https://" + stream.removeprefix("wss://") if stream.startswith("wss://") else \
        "http://" + stream.removeprefix("ws://")


def put_through_twiml(*, base, desk_open):
    """Ava cannot go on (OpenAI unreachable or lost): the caller hears why and, while the desk is open, rings
    it (no answer: a message); otherwise may leave a recorded message. (The page's apology asks the caller
    to phone the clinic; on the phone they are put through, or a message is taken, instead.)"""
    dialed, message = base + reverse("phone:voice-dialed"), base + reverse("phone:voice-message")
    if settings.FRONT_DESK_PHONE and desk_open:
        return twiml.put_through(say=PUT_THROUGH, dial_action_url=dialed, message_url=message)
    return twiml.take_message(say=NOT_AVAILABLE, message_url=message)


def redirect_call(call_sid, twiml):
    """Replace what the live call does (this ends its media stream), through Twilio's REST API."""
    from communications.messaging.sms import twilio_client

    twilio_client().calls(call_sid).update(twiml=twiml)


class TwilioMediaConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = "voice-calls-use-no-channel-layer"  # one call, one line: no groups

    bridge = None
    line = None
    call_sid = ""

    async def dispatch(self, message):
        # 50 media messages a second per call: skip Channels' per-message stale-connection cleanup (a
        # thread hop each); the relay never touches the database in this loop (see consumers.py).
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        if not handshake_is_signed(self.scope):
            log.warning("Media stream refused: missing or invalid X-Twilio-Signature")
            await self.close(code=4403)  # before accept: the handshake is refused (HTTP 403)
            return
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        event = message.get("event") if isinstance(message, dict) else None
        if event == "media":
            if self.line is not None:
                await self.line.media(message["media"]["payload"])
        elif event == "mark":
            if self.line is not None:
                self.line.mark((message.get("mark") or {}).get("name", ""))
        elif event == "start":
            await self.start_call(message.get("start") or {}, message.get("streamSid", ""))
        elif event == "stop":
            # The call ended (the caller hung up, or a transfer took it): close the upstream now, not at
            # the socket's close, which may come later.
            if self.bridge is not None:
                await self.bridge.line_closed("transferred" if self.line.transferring else "caller_hung_up")
            await self.close()
        elif event == "dtmf":
            if self.line is not None:
                await self.line.dtmf(str((message.get("dtmf") or {}).get("digit", "")))
        # connected: nothing to do

    async def start_call(self, start, stream_sid):
        if self.line is not None:
            return
        params = start.get("customParameters") or {}
        self.call_sid = start.get("callSid", "")
        conversation_id = read_stream_token(params.get("token"), call_sid=self.call_sid,
                                            resume=params.get("resume") or "")
        if conversation_id is None or params.get("callSid", self.call_sid) != self.call_sid:
            log.warning("Media stream refused: no valid stream token for its call")
            await self.close(code=4403)
            return
        self.line = PhoneTransport(stream_sid=stream_sid or start.get("streamSid", ""),
                                   send_text=self._send_text, close_line=self._close_line)
        # `resume`: the call comes back from a transfer nobody answered; its conversation goes on.
        self.bridge = VoiceBridge(transport=self.line, call_details={
            "conversation_id": conversation_id, "call_sid": self.call_sid, "stream_sid": self.line.stream_sid,
            "resume": bool(params.get("resume"))})
        self.bridge.config = dataclasses.replace(self.bridge.config, max_call_seconds=settings.PHONE_MAX_CALL_SECONDS)
        try:
            await self.bridge.open()
        except Conversation.DoesNotExist:
            # Back from a transfer nobody answered, but the call ended meanwhile (the caller hung up while
            # it rang): nothing to take back and Twilio's call is over, so the stream just closes.
            log.info("Media stream for call %s closed: its conversation has already ended", self.call_sid)
            bridge, self.bridge = self.bridge, None
            await bridge.line_closed("caller_hung_up")  # stops what open() started; nothing is written
            await self.close()
            return
        # Staying on the line after the greeting's recording notice is the caller's consent.
        await self.bridge.start(consent=True)

    async def disconnect(self, code):
        if self.bridge is not None:
            # A socket gone without its `stop` while Ava hands the call over is still a transfer.
            await self.bridge.line_closed("transferred" if self.line.transferring else "caller_hung_up")

    async def _send_text(self, text):
        await self.send(text_data=text)

    async def _close_line(self, *, reason, say):
        if say and self.call_sid and settings.TWILIO_ACCOUNT_SID:
            # Ava could not speak it (OpenAI unreachable or lost): Twilio says it, then rings the front desk
            # or takes a message.
            try:
                desk_open = await database_sync_to_async(front_desk_is_open)()
                await sync_to_async(redirect_call, thread_sensitive=False)(
                    self.call_sid, put_through_twiml(base=public_base(self.scope), desk_open=desk_open))
            except Exception:
                log.exception("Could not put the caller through after %s", reason)
        await asyncio.sleep(0)
        await self.close()
