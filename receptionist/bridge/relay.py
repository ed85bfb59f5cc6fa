"""The voice relay: one call between the caller's page and the Realtime engine.

The page sends PCM16 frames and JSON control (docs/voice-protocol.md); the
engine speaks Realtime GA events. The relay turns commits into
`input_audio_buffer.commit` + `response.create`, barge-ins into
`response.cancel` + `conversation.item.truncate`, runs the tools, and saves the
conversation as it happens — through a writer task, never in the relay loop.
"""

import asyncio
import base64
import binascii
import json
import logging
import secrets
import time
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from receptionist import services
from receptionist.bridge.outbound import PageOutbound
from receptionist.bridge.transcript import Transcript, heard_words
from receptionist.bridge.writer import PersistenceWriter
from receptionist.engines import UpstreamClosed, UpstreamUnavailable, connect_engine, engine_name
from receptionist.prompt import FILLER_LINE, say_exactly
from receptionist.tools import ToolContext, ToolResult, run_tool, tool_schemas

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
MIN_COMMIT_MS = 100  # OpenAI refuses a commit of less (input_audio_buffer_commit_empty)
MAX_TEXT_CHARS = 2000
MAX_PENDING_AUDIO_MS = 5000  # held while the engine (re)connects, then sent
MAX_RECONNECTS = 3  # one attempt per loss, at most this many losses a call
SEED_LINES = 60
END_GRACE_SECONDS = 15  # after a goodbye is asked for, the call ends even if it never comes
APOLOGY = ("I'm sorry, we've lost the connection to our assistant. Please call the clinic{phone}, and we'll be "
           "glad to help. Goodbye.")
UNAVAILABLE = "Our assistant is not available right now. Please call the clinic{phone}. We're sorry for the trouble."
TIME_LIMIT_LINE = ("We've reached the time limit for this call. Thank you for calling, and please call again if "
                   "there's anything else. Goodbye!")
BENIGN_ERRORS = {"response_cancel_not_active", "conversation_already_has_active_response"}


@dataclass(frozen=True)
class VoiceConfig:
    turn_detection: str
    voice: str
    transcription_model: str
    max_call_seconds: int
    max_frame_bytes: int
    outbound_buffer_ms: int
    filler_after_ms: int
    connect_timeout: float

    @classmethod
    def from_settings(cls):
        return cls(
            turn_detection=settings.VOICE_TURN_DETECTION, voice=settings.VOICE_VOICE,
            transcription_model=settings.VOICE_TRANSCRIPTION_MODEL, max_call_seconds=settings.VOICE_MAX_CALL_SECONDS,
            max_frame_bytes=settings.VOICE_MAX_FRAME_BYTES, outbound_buffer_ms=settings.VOICE_OUTBOUND_BUFFER_MS,
            filler_after_ms=settings.VOICE_FILLER_AFTER_MS, connect_timeout=settings.VOICE_UPSTREAM_CONNECT_TIMEOUT,
        )


def page_settings():
    """What the call page needs to know before it captures a frame (sent in `session`)."""
    return {
        "audio": {"encoding": "pcm_s16le", "sample_rate": SAMPLE_RATE, "channels": 1,
                  "frame_ms": settings.VOICE_FRAME_MS, "max_frame_bytes": settings.VOICE_MAX_FRAME_BYTES},
        "vad": {"commit_silence_ms": settings.VOICE_COMMIT_SILENCE_MS,
                "short_commit_silence_ms": settings.VOICE_SHORT_COMMIT_SILENCE_MS,
                "short_utterance_ms": settings.VOICE_SHORT_UTTERANCE_MS,
                "speech_start_ms": settings.VOICE_SPEECH_START_MS, "preroll_ms": settings.VOICE_PREROLL_MS},
        "turn_detection": settings.VOICE_TURN_DETECTION, "max_call_seconds": settings.VOICE_MAX_CALL_SECONDS,
        "min_commit_ms": MIN_COMMIT_MS,
    }


class PageError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class SessionLost(Exception):
    """The engine's session ended under us (it expired, or the connection went)."""


class AudioItem:
    """One assistant item whose audio goes to the page."""

    __slots__ = ("id", "response_id", "received_bytes", "done", "interrupted", "heard_ms", "out_of_band",
                 "announced", "parts", "final", "saved")

    def __init__(self, item_id, response_id, out_of_band):
        self.id, self.response_id, self.out_of_band = item_id, response_id, out_of_band
        self.received_bytes = 0
        self.done = self.interrupted = self.announced = self.saved = False
        self.heard_ms = None
        self.parts = []
        self.final = None

    @property
    def received_ms(self):
        return self.received_bytes // BYTES_PER_MS

    def words(self):
        text = self.final if self.final is not None else "".join(self.parts)
        if self.heard_ms is None:
            return text
        if self.heard_ms <= 0:
            return ""
        return heard_words(text, self.heard_ms, self.received_ms)


class VoiceBridge:
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
        self.usage = {}
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
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                            data={"where": "upstream_start", "reason": str(exc)})
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
        self.upstream = await connect_engine(timeout=self.config.connect_timeout)
        await self.upstream.send({"type": "session.update", "session": self._session()})
        self.upstream_ready = True
        if self.pending_audio:
            pending, self.pending_audio = bytes(self.pending_audio), bytearray()
            await self._append(pending)
        if self.started and not self.greeted:
            await self._greet()
        elif not self.started:
            self._state("listening")

    def _session(self, instructions=None):
        detection = {
            "none": None,
            "server_vad": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                           "silence_duration_ms": 500, "create_response": True, "interrupt_response": True},
            "semantic_vad": {"type": "semantic_vad", "eagerness": "auto", "create_response": True,
                             "interrupt_response": True},
        }[self.config.turn_detection]
        return {
            "type": "realtime", "instructions": instructions or self.info["instructions"],
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE},
                          "transcription": {"model": self.config.transcription_model},
                          "noise_reduction": {"type": "near_field"}, "turn_detection": detection},
                "output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": self.config.voice},
            },
            "tools": tool_schemas(), "tool_choice": "auto",
        }

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
            self.upstream = await connect_engine(timeout=self.config.connect_timeout)
            await self.upstream.send({"type": "session.update", "session": self._session()})
            for n, (speaker, words) in enumerate(self.transcript.conversation_so_far()[-SEED_LINES:]):
                item_id = f"seed{self.reconnects}_{n}_{secrets.token_hex(4)}"
                self.transcript.seeded.add(item_id)
                kind = "input_text" if speaker == "caller" else "output_text"
                await self.upstream.send({"type": "conversation.item.create", "item": {
                    "id": item_id, "type": "message", "role": "user" if speaker == "caller" else "assistant",
                    "content": [{"type": kind, "text": words}]}})
        except (UpstreamUnavailable, UpstreamClosed) as exc:
            self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                            data={"where": "upstream_reconnect", "reason": str(exc)})
            await self._finish("upstream_lost", failed=True, say=APOLOGY.format(phone=self._phone()))
            return
        self.upstream_ready = True
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
                            failed=failed, usage=self._usage_summary())
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

    def _usage_summary(self):
        if not self.usage:
            return None
        return {**self.usage, "model": settings.OPENAI_REALTIME_MODEL if self.engine == "openai" else "local",
                "late_audio_dropped": self.late_audio_dropped,
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
        if not isinstance(item_id, str) or not isinstance(played, (int, float)) or played < 0:
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
        await self._send({"type": "response.create", "response": params})

    async def _cancel_response(self):
        self.drop_current = True
        # What the caller got of this response is what was forwarded; the page may report less (interrupt).
        for item in self.audio_items.values():
            if item.response_id == self.current_response_id and not item.done and not item.interrupted:
                item.interrupted = True
                item.heard_ms = item.received_ms
        await self._send({"type": "response.cancel"})

    # --- from the engine -------------------------------------------------------------------------
    async def _on_event(self, event):
        kind = event.get("type")
        if kind == "response.output_audio.delta":  # the hot path: no other work per frame
            item = self.audio_items.get(event["item_id"]) or self._audio_item(event["item_id"], event.get("response_id"))
            if self.drop_current or item.interrupted:
                self.late_audio_dropped += 1
                return
            try:
                pcm = base64.b64decode(event["delta"])
            except (binascii.Error, TypeError):
                return
            if not item.announced:
                item.announced = True
                self.outbound.json({"type": "audio.start", "item_id": item.id})
                self._state("speaking")
            item.received_bytes += len(pcm)
            self.outbound.audio(pcm)
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            await handler(self, event)

    def _audio_item(self, item_id, response_id, out_of_band=False):
        item = self.audio_items[item_id] = AudioItem(item_id, response_id, out_of_band)
        if self.drop_current:  # born in a cancelled response: the caller hears none of it
            item.interrupted = True
            item.heard_ms = 0
        return item

    async def _on_response_created(self, event):
        response = event.get("response") or {}
        self.response_active = True
        self.current_response_id = response.get("id")
        self.current_out_of_band = (response.get("metadata") or {}).get("ava_purpose") == "filler"

    async def _on_output_item_added(self, event):
        item = event.get("item") or {}
        if item.get("type") == "message" and item.get("id") not in self.audio_items:
            out_of_band = self.current_out_of_band
            self._audio_item(item["id"], event.get("response_id"), out_of_band)
            if out_of_band:
                self.transcript.place(item["id"], in_conversation=False)

    async def _on_item_added(self, event):
        item = event.get("item") or {}
        item_id = item.get("id")
        if not item_id or item_id in self.transcript.seeded:
            return
        position = self.transcript.place(item_id, event.get("previous_item_id"))
        if item_id in self.typed:
            text = self.typed.pop(item_id)
            self._save(item_id, "caller", text, position, metadata={"typed": True})
            self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": text,
                                "final": True})

    async def _on_committed(self, event):
        self.transcript.place(event["item_id"], event.get("previous_item_id"))

    async def _on_caller_delta(self, event):
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"),
                            "delta": event.get("delta", ""), "final": False})

    async def _on_caller_completed(self, event):
        item_id, words = event.get("item_id"), (event.get("transcript") or "").strip()
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": words,
                            "final": True})
        if words:
            self._save(item_id, "caller", words, self.transcript.place(item_id))

    async def _on_caller_failed(self, event):
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"), "text": "",
                            "final": True, "failed": True})

    async def _on_audio_done(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is not None:
            item.done = True
            if item.announced and not item.interrupted:
                self.outbound.json({"type": "audio.done", "item_id": item.id, "audio_ms": item.received_ms})

    async def _on_assistant_delta(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is None or item.interrupted or self.drop_current:
            if item is not None:
                item.parts.append(event.get("delta", ""))
            return
        item.parts.append(event.get("delta", ""))
        self.outbound.json({"type": "transcript", "speaker": "assistant", "item_id": item.id,
                            "delta": event.get("delta", ""), "final": False})

    async def _on_assistant_done(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is None:
            return
        item.final = event.get("transcript") or "".join(item.parts)
        self._save_assistant(item)

    def _save_assistant(self, item):
        if item.saved:
            return
        words = item.words().strip()
        item.saved = True
        self.outbound.json({"type": "transcript", "speaker": "assistant", "item_id": item.id, "text": words,
                            "final": True, "interrupted": item.heard_ms is not None})
        if words:
            metadata = {"filler": True} if item.out_of_band else {}
            if item.heard_ms is not None:
                metadata.update(interrupted=True, heard_ms=item.heard_ms, audio_ms=item.received_ms,
                                generated=item.final or "".join(item.parts))
            self._save(item.id, "assistant", words, self.transcript.place(item.id), metadata=metadata)

    def _revise(self, item):
        words = item.words().strip()
        self.transcript.record(item.id, "assistant", words)
        self.writer.put(services.revise_utterance, conversation_id=self.conversation_id, item_id=item.id,
                        content=words or "…", metadata={"interrupted": True, "heard_ms": item.heard_ms,
                                                        "audio_ms": item.received_ms,
                                                        "generated": item.final or "".join(item.parts)})

    def _save(self, item_id, speaker, words, position, metadata=None):
        self.transcript.record(item_id, speaker, words)
        self.writer.put(services.save_utterance, conversation_id=self.conversation_id, speaker=speaker,
                        content=words, position=position, item_id=item_id,
                        sent_at=self.transcript.placed_at.get(item_id), metadata=metadata)

    async def _on_arguments_done(self, event):
        if self.drop_current:
            return  # the caller cut this response off; its call is not made
        call_id, name = event.get("call_id", ""), event.get("name", "")
        self.outbound.json({"type": "tool", "name": name, "call_id": call_id, "status": "running"})
        self._state("thinking")
        task = asyncio.ensure_future(self._run_tool(call_id, name, event.get("arguments") or "{}"))
        self.tool_batch.append(task)

    async def _run_tool(self, call_id, name, arguments):
        context = ToolContext(channel="voice", conversation_id=self.conversation_id, customer_id=self.customer_id)
        try:
            result = await database_sync_to_async(run_tool)(name, arguments, context=context, call_id=call_id)
        except Exception as exc:  # even recording failed: the model still gets an answer
            log.exception("Tool %s could not run", name)
            result = ToolResult(name=name, call_id=call_id, arguments=arguments, duration_ms=0, output={
                "ok": False, "code": "tool_error", "error": "Something went wrong on our side.",
                "detail": type(exc).__name__})
        for effect in context.effects:
            if effect["kind"] == "customer":
                self.customer_id = effect["customer_id"]
            elif effect["kind"] == "end_call":
                self.end_after_response = "assistant_ended"
        self.outbound.json({"type": "tool", "name": name, "call_id": call_id,
                            "status": "done" if result.ok else "failed"})
        return result

    async def _on_response_done(self, event):
        response = event.get("response") or {}
        self.response_active = False
        self.drop_current = False
        self._add_usage(response.get("usage"))
        for output in response.get("output") or []:
            item = self.audio_items.get(output.get("id"))
            if item is not None and not item.saved:
                item.done = True
                self._save_assistant(item)
        if self.tool_batch:
            batch, self.tool_batch = self.tool_batch, []
            self.tools_pending = True
            self._spawn(self._finish_tools(batch, answer=response.get("status") != "cancelled"), name="tools")
            return
        await self._next_after_response()

    async def _next_after_response(self):
        if self.tools_pending or self.finished:
            return
        if self.pending_response is not None:
            params, self.pending_response = self.pending_response, None
            await self._create_response(params)
        elif self.end_after_response:
            await self._finish(self.end_after_response)
        else:
            self._state("listening")

    async def _finish_tools(self, batch, *, answer):
        """Every function_call_output, then one response.create; a filler if the tools are slow."""
        _, slow = await asyncio.wait(batch, timeout=self.config.filler_after_ms / 1000)
        if slow and not self.response_active and answer:
            self.response_active = True
            await self._send({"type": "response.create", "response": {
                "conversation": "none", "input": [], "instructions": say_exactly(FILLER_LINE),
                "metadata": {"ava_purpose": "filler"}, "tool_choice": "none"}})
        results = await asyncio.gather(*batch)
        for result in results:
            await self._send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": result.call_id, "output": result.output_json()}})
        self.tools_pending = False
        if answer and self.pending_response is None:
            self.pending_response = {}
        if not self.response_active:
            await self._next_after_response()

    async def _on_error(self, event):
        error = event.get("error") or {}
        code = error.get("code")
        if code == "session_expired":
            raise SessionLost("session_expired")
        if code == "conversation_already_has_active_response":
            self.response_active = True
            if self.pending_response is None:
                self.pending_response = {}
            return
        if code in BENIGN_ERRORS:
            return
        log.warning("Realtime error: %s", error)
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                        data={"where": "upstream", "code": code, "message": error.get("message", "")})

    async def _on_speech_started(self, event):
        # Server turn detection heard the caller: the page stops playback and reports what was played.
        self.outbound.json({"type": "audio.flush"})
        self._state("listening")

    def _add_usage(self, usage):
        if not usage:
            return
        totals = self.usage
        for key in ("input_tokens", "output_tokens", "total_tokens"):
            totals[key] = totals.get(key, 0) + (usage.get(key) or 0)
        for side in ("input_token_details", "output_token_details"):
            for key, value in (usage.get(side) or {}).items():
                if isinstance(value, int):
                    name = f"{side.split('_')[0]}_{key}"
                    totals[name] = totals.get(name, 0) + value

    def _state(self, state):
        if state != self.page_state:
            self.page_state = state
            self.outbound.json({"type": "state", "state": state})

    _handlers = {
        "response.created": _on_response_created,
        "response.output_item.added": _on_output_item_added,
        "conversation.item.added": _on_item_added,
        "input_audio_buffer.committed": _on_committed,
        "conversation.item.input_audio_transcription.delta": _on_caller_delta,
        "conversation.item.input_audio_transcription.completed": _on_caller_completed,
        "conversation.item.input_audio_transcription.failed": _on_caller_failed,
        "response.output_audio.done": _on_audio_done,
        "response.output_audio_transcript.delta": _on_assistant_delta,
        "response.output_audio_transcript.done": _on_assistant_done,
        "response.function_call_arguments.done": _on_arguments_done,
        "response.done": _on_response_done,
        "error": _on_error,
        "input_audio_buffer.speech_started": _on_speech_started,
    }
