"""The voice relay: one call between the caller's page and the Realtime engine.

The page sends PCM16 frames and JSON control (docs/voice-protocol.md); the
engine speaks Realtime GA events. The relay turns commits into
`input_audio_buffer.commit` + `response.create`, barge-ins into
`response.cancel` + `conversation.item.truncate`, runs the tools, and saves the
conversation as it happens — through a writer task, never in the relay loop.
This file is the life cycle and the page's side; engine_events.py the engine's.
"""

import asyncio
import itertools
import json
import logging
import math
import secrets

from channels.db import database_sync_to_async
from django.conf import settings

from receptionist import services
from receptionist.bridge.config import (
    APOLOGY, BYTES_PER_MS, END_GRACE_SECONDS, MAX_PENDING_AUDIO_MS, MAX_RECONNECTS, MAX_TEXT_CHARS, MIN_COMMIT_MS,
    SEED_LINES, TIME_LIMIT_LINE, UNAVAILABLE, PageError, SessionLost, VoiceConfig, page_settings, realtime_session,
)
from receptionist.bridge.engine_events import EngineEvents
from receptionist.bridge.outbound import PageOutbound
from receptionist.bridge.session import SessionRefused, confirm_session
from receptionist.bridge.transcript import Transcript
from receptionist.bridge.writer import PersistenceWriter
from receptionist.engines import UpstreamClosed, UpstreamUnavailable, connect_engine, engine_name
from receptionist.prompt import say_exactly
from receptionist.tools import tool_schemas

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 16384  # a control message is small; anything bigger is refused unread
SENT_EVENTS_KEPT = 256  # client events remembered by event_id, to name what an error answers

class VoiceBridge(EngineEvents):
    def __init__(self, *, send_text, send_bytes, close_page, session_id, user_agent=""):
        self.config = VoiceConfig.from_settings()
        self.session_id = session_id
        self.user_agent = user_agent
        self.close_page = close_page
        self.outbound = PageOutbound(send_text=send_text, send_bytes=send_bytes,
                                     max_audio_bytes=self.config.outbound_buffer_ms * BYTES_PER_MS)
        self.writer = PersistenceWriter()
        self.transcript = Transcript()
        self.engine = engine_name()
        self.conversation_id = None
        self.info = {}
        self.upstream = None
        self.upstream_ready = False
        self.started = False
        self.greeted = False
        self.customer_id = None
        # One response at a time: `response_active` from our response.create (or the server's
        # response.created) until its response.done.
        self.response_active = False
        self.drop_current = False  # a cancelled response: its late audio is never forwarded
        self.current_response_id = None
        self.current_out_of_band = False
        self.pending_response = None  # params of a response.create waiting for the active one to end
        self.tools_pending = False
        self.tool_batch = []
        self.end_after_response = None
        self.audio_items = {}
        self.typed = {}
        self.input_ms = 0.0
        self.pending_audio = bytearray()
        self.page_state = None
        self.reconnects = 0
        self.interruptions = 0
        self.late_audio_dropped = 0
        self._event_numbers = itertools.count(1)
        self.sent_kinds = {}  # event_id -> type of the client events sent lately
        self.current_purpose = None  # the running response's metadata.ava_purpose (filler, apology)
        self.sent_response = None  # the params of the last response.create, to retry a failed one
        self.failed_in_a_row = 0
        self.low_rate_limits = set()
        self.finished = False
        self.done = asyncio.Event()
        self._tasks = set()

    # --- life cycle ------------------------------------------------------------------------------
    async def open(self):
        """Create the conversation, tell the page the session settings, and start the engine."""
        self.outbound.start()
        self.writer.start()
        self.info = await database_sync_to_async(services.open_voice_call)(
            session_id=self.session_id, engine=self.engine, user_agent=self.user_agent)
        self.conversation_id = self.info["conversation_id"]
        self.outbound.json({
            "type": "session", "conversation_id": str(self.conversation_id), "engine": self.engine,
            "offline_demo": self.engine == "local", "assistant_name": self.info["assistant_name"],
            "clinic_name": self.info["clinic_name"], "recording_notice": services.RECORDING_NOTICE,
            **page_settings(),
        })
        self._state("connecting")
        self._spawn(self._run(), name="upstream")
        self._spawn(self._call_timer(), name="timer")

    def _spawn(self, coroutine, *, name=""):
        task = asyncio.ensure_future(coroutine)
        task.set_name(f"voice-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self):
        try:
            await self._connect()
        except UpstreamUnavailable as exc:
            data = {"where": "upstream_start", "reason": str(exc)}
            if isinstance(exc, SessionRefused):
                data.update(where="session_refused", **exc.details)
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error", data=data)
            phone = f" at {self.info['clinic_phone']}" if self.info.get("clinic_phone") else ""
            self.outbound.json({"type": "error", "code": "assistant_unavailable",
                                "message": UNAVAILABLE.format(phone=phone)})
            await self._finish("upstream_unavailable", failed=True, say=UNAVAILABLE.format(phone=phone),
                               save_say=False)
            return
        try:
            while not self.finished:
                try:
                    event = await self.upstream.recv()
                    await self._on_event(event)
                except (UpstreamClosed, SessionLost) as exc:
                    if self.finished:
                        return
                    await self._recover(str(exc) or type(exc).__name__)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Voice relay failed")
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                            data={"where": "relay", "reason": "internal error"})
            await self._finish("error", failed=True, say=APOLOGY.format(phone=self._phone()))

    def _phone(self):
        return f" at {self.info['clinic_phone']}" if self.info.get("clinic_phone") else ""

    async def _connect(self):
        early_events = await self._open_session()
        self.upstream_ready = True
        for event in early_events:
            await self._on_event(event)
        if self.pending_audio:
            pending, self.pending_audio = bytes(self.pending_audio), bytearray()
            await self._append(pending)
        if self.started and not self.greeted:
            await self._greet()
        elif not self.started:
            self._state("listening")

    def _session(self):
        return realtime_session(self.config, instructions=self.info["instructions"], tools=tool_schemas())

    def _event_id(self):
        return f"ava_{next(self._event_numbers)}"

    async def _open_session(self):
        """Connect, and return once OpenAI has confirmed the session (SessionRefused when it does not)."""
        self.upstream = await connect_engine(timeout=self.config.connect_timeout)
        confirmed = await confirm_session(self.upstream, self._session(), timeout=self.config.connect_timeout,
                                          event_id=self._event_id)
        if confirmed.dropped:
            log.warning("Realtime session confirmed without %s", [d["part"] for d in confirmed.dropped])
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="session_degraded",
                            data={"dropped": confirmed.dropped})
        if confirmed.differences:
            log.warning("Realtime session differs from what was asked: %s", confirmed.differences)
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="session_mismatch",
                            data={"differences": confirmed.differences})
        return confirmed.early_events

    async def _recover(self, reason):
        """One reconnect with the conversation re-seeded; else an apology and a clean end."""
        self.upstream_ready = False
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                        data={"where": "upstream_lost", "reason": reason})
        old, self.upstream = self.upstream, None
        if old is not None:
            await old.close()
        if self.reconnects >= MAX_RECONNECTS:
            await self._finish("upstream_lost", failed=True, say=APOLOGY.format(phone=self._phone()))
            return
        self.reconnects += 1
        self._state("reconnecting")
        self._reset_turn_state()
        try:
            self.info["instructions"] = await database_sync_to_async(services.session_instructions)()
            early_events = await self._open_session()
            for n, (speaker, words) in enumerate(self.transcript.conversation_so_far()[-SEED_LINES:]):
                item_id = f"seed{self.reconnects}_{n}_{secrets.token_hex(4)}"
                self.transcript.seeded.add(item_id)
                kind = "input_text" if speaker == "caller" else "output_text"
                await self.upstream.send({"type": "conversation.item.create", "event_id": self._event_id(),
                                          "item": {
                    "id": item_id, "type": "message", "role": "user" if speaker == "caller" else "assistant",
                    "content": [{"type": kind, "text": words}]}})
        except (UpstreamUnavailable, UpstreamClosed) as exc:
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                            data={"where": "upstream_reconnect", "reason": str(exc)})
            await self._finish("upstream_lost", failed=True, say=APOLOGY.format(phone=self._phone()))
            return
        self.upstream_ready = True
        for event in early_events:
            await self._on_event(event)
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="reconnected",
                        data={"reason": reason, "attempt": self.reconnects})
        if self.pending_audio:
            pending, self.pending_audio = bytes(self.pending_audio), bytearray()
            await self._append(pending)
        if self.started:
            await self._create_response({"instructions": (
                "The phone line dropped for a moment and is back now. Say sorry in one short sentence, then carry "
                "on from where the conversation left off.")})
        else:
            self._state("listening")

    def _reset_turn_state(self):
        self.response_active = False
        self.drop_current = False
        self.pending_response = None
        self.tools_pending = False
        self.tool_batch = []
        self.input_ms = 0.0
        for item in self.audio_items.values():
            item.done = True
        for task in list(self._tasks):
            if task.get_name() == "voice-tools":
                task.cancel()

    async def _call_timer(self):
        await asyncio.sleep(self.config.max_call_seconds)
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="time_limit",
                        data={"max_call_seconds": self.config.max_call_seconds})
        await self._say_and_end("time_limit", TIME_LIMIT_LINE)

    async def _say_and_end(self, reason, line):
        self.end_after_response = reason
        if self.upstream_ready:
            if self.response_active:
                await self._cancel_response()
            await self._create_response({"instructions": say_exactly(line)}, special=True)
        await asyncio.sleep(END_GRACE_SECONDS)
        await self._finish(reason)

    async def hangup(self, reason="caller_hung_up"):
        """The caller left (page closed or hung up): close the engine at once and finalise."""
        if not self.finished:
            await self._finish(reason, page_gone=reason == "caller_hung_up")
        await self.done.wait()

    async def _finish(self, reason, *, failed=False, say=None, save_say=True, page_gone=False):
        if self.finished:
            return
        self.finished = True
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current and task.get_name() != "voice-upstream":
                task.cancel()
        if self.upstream is not None:
            await self.upstream.close()  # bounded: about a second at most
        if say and save_say:
            position = self.transcript.place(f"end_{secrets.token_hex(4)}", in_conversation=False)
            self.writer.put(services.save_utterance, conversation_id=self.conversation_id, speaker="assistant",
                            content=say, position=position, item_id="", sent_at=None,
                            metadata={"spoken_by": "page", "reason": reason})
        # Saved first, so whatever the caller sees next is already on record.
        if self.conversation_id is not None:
            self.writer.put(services.finish_voice_call, conversation_id=self.conversation_id, end_reason=reason,
                            failed=failed, stats=self._call_stats())
        await self.writer.close()
        if not page_gone:
            self.outbound.json({"type": "call.ended", "reason": reason, "message": say or "", "say": say or ""})
            await self.outbound.close(timeout=2.0)
            try:
                await self.close_page()
            except Exception:  # already gone
                pass
        else:
            await self.outbound.close(timeout=0)
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        self.done.set()

    def _call_stats(self):
        # Tokens are not summed here: each response's usage was saved as it ended (communications.usage).
        return {"late_audio_dropped": self.late_audio_dropped,
                "outbound_audio_dropped_bytes": self.outbound.dropped_audio_bytes, "reconnects": self.reconnects}

    # --- from the page ---------------------------------------------------------------------------
    async def on_audio(self, pcm):
        try:
            if len(pcm) > self.config.max_frame_bytes:
                raise PageError("frame_too_large", f"Audio frames may be at most {self.config.max_frame_bytes} bytes.")
            if len(pcm) % 2:
                raise PageError("bad_audio_frame", "Audio frames are PCM16: an even number of bytes.")
            if not self.started:
                raise PageError("not_started", "Send start before audio.")
        except PageError as exc:
            self._page_error(exc)
            return
        if self.finished:
            return
        if not self.upstream_ready:
            if len(self.pending_audio) + len(pcm) <= MAX_PENDING_AUDIO_MS * BYTES_PER_MS:
                self.pending_audio += pcm
            return
        await self._append(pcm)

    async def _append(self, pcm):
        self.input_ms += len(pcm) / BYTES_PER_MS
        try:
            await self.upstream.send_audio(pcm)
        except UpstreamClosed:
            pass  # the reader sees the loss and recovers

    async def on_message(self, raw):
        try:
            if len(raw) > MAX_MESSAGE_CHARS:
                raise PageError("message_too_large", f"Control messages may be at most {MAX_MESSAGE_CHARS} characters.")
            try:
                message = json.loads(raw)
            except ValueError:
                raise PageError("bad_json", "That message was not valid JSON.") from None
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                raise PageError("bad_message", "A message is a JSON object with a type.")
            handler = {"start": self._on_start, "commit": self._on_commit, "interrupt": self._on_interrupt,
                       "text": self._on_text, "hangup": self._on_hangup}.get(message["type"])
            if handler is None:
                raise PageError("unknown_type", f"Unknown message type: {message['type'][:40]}.")
            if self.finished:
                return
            if message["type"] not in {"start", "hangup"} and not self.started:
                raise PageError("not_started", "Send start first.")
            await handler(message)
        except PageError as exc:
            self._page_error(exc)

    def _page_error(self, exc):
        self.outbound.json({"type": "error", "code": exc.code, "message": exc.message})

    async def _on_start(self, message):
        if self.started:
            raise PageError("already_started", "The call has already started.")
        accepted = message.get("consent") is True
        self.writer.put(services.record_consent, conversation_id=self.conversation_id, accepted=accepted)
        if not accepted:
            await self._finish("consent_declined", say="")
            return
        self.started = True
        if self.upstream_ready and not self.greeted:
            await self._greet()

    async def _greet(self):
        self.greeted = True
        await self._create_response({"instructions": say_exactly(self.info["greeting"], why="Greet the caller.")},
                                    special=True)

    async def _on_commit(self, message):
        if self.config.turn_detection != "none":
            return  # OpenAI decides the end of the turn
        if self.input_ms < MIN_COMMIT_MS:
            raise PageError("commit_empty", f"Nothing to commit: {self.input_ms:.0f} ms of audio since the last "
                                            f"commit (at least {MIN_COMMIT_MS} ms).")
        if not self.upstream_ready:
            raise PageError("not_ready", "The assistant is reconnecting; please repeat that in a moment.")
        if self.response_active:
            await self._cancel_response()  # the caller took the turn while Ava was still thinking
        self.input_ms = 0.0
        await self._send({"type": "input_audio_buffer.commit"})
        self._state("thinking")
        await self._create_response({})

    async def _on_text(self, message):
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PageError("bad_message", "text needs a non-empty text.")
        if len(text) > MAX_TEXT_CHARS:
            raise PageError("text_too_long", f"Typed messages may be at most {MAX_TEXT_CHARS} characters.")
        if not self.upstream_ready:
            raise PageError("not_ready", "The assistant is connecting; please send that again in a moment.")
        text = text.strip()
        item_id = f"typed_{secrets.token_hex(8)}"
        self.typed[item_id] = text
        if self.response_active:
            await self._cancel_response()
        await self._send({"type": "conversation.item.create", "item": {
            "id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
        self._state("thinking")
        await self._create_response({})

    async def _on_interrupt(self, message):
        item_id, played = message.get("item_id"), message.get("played_ms")
        if (not isinstance(item_id, str) or isinstance(played, bool) or not isinstance(played, (int, float))
                or not math.isfinite(played) or played < 0):
            raise PageError("bad_message", "interrupt needs item_id (string) and played_ms (number ≥ 0).")
        played_ms = int(played)
        if self.response_active:
            await self._cancel_response()
        item = self.audio_items.get(item_id)
        if item is None:
            raise PageError("unknown_item", "No assistant audio with that item_id.")
        item.interrupted = True
        finished = item.done and played_ms >= item.received_ms
        audio_end_ms = None
        if not finished:
            audio_end_ms = max(0, min(played_ms, item.received_ms))
            item.heard_ms = audio_end_ms
            if not item.out_of_band:  # an out-of-band item (a filler) is not in the conversation
                await self._send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                                  "audio_end_ms": audio_end_ms})
            if item.saved:
                self._revise(item)
        self.interruptions += 1
        self.writer.put(services.record_interruption, conversation_id=self.conversation_id, item_id=item_id,
                        played_ms=played_ms, audio_end_ms=audio_end_ms)
        self._state("listening")

    async def _on_hangup(self, message):
        await self._finish("caller_hung_up", say="")

    # --- to the engine ---------------------------------------------------------------------------
    async def _send(self, event):
        if self.upstream is None or not self.upstream_ready:
            return False
        event["event_id"] = event_id = self._event_id()
        self.sent_kinds[event_id] = event["type"]
        if len(self.sent_kinds) > SENT_EVENTS_KEPT:
            del self.sent_kinds[next(iter(self.sent_kinds))]
        try:
            await self.upstream.send(event)
            return True
        except UpstreamClosed:
            return False

    async def _create_response(self, params, *, special=False):
        """One response.create, or kept until the active response and the tools are done."""
        if self.response_active or self.tools_pending:
            if special or self.pending_response is None:
                self.pending_response = params
            return
        self.response_active = True
        self.sent_response = params
        await self._send({"type": "response.create", "response": params})

    async def _cancel_response(self):
        self.drop_current = True
        # What the caller got of this response is what was forwarded; the page may report less (interrupt).
        for item in self.audio_items.values():
            if item.response_id == self.current_response_id and not item.done and not item.interrupted:
                item.interrupted = True
                item.heard_ms = item.received_ms
        await self._send({"type": "response.cancel"})
