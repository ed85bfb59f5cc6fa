"""The bridge: one call between the caller's line (a transport) and the Realtime engine.

It is made of parts with one job each, and this file is their life cycle and the caller's side:
the session's configuration (config.py, session.py), the engine connection (link.py), turn state:
what is playing and what was heard (turns.py), one response at a time (responses.py), item order
and transcript, saved through a writer task, never in the relay loop (record.py), the tool runner
(tool_runner.py), and the engine's events routed to them (engine_events.py). The transport
(transport.py; the call page is page.py) carries the audio and says what the caller does.
"""

import asyncio
import logging
import secrets

from channels.db import database_sync_to_async
from django.conf import settings

from receptionist import services
from receptionist.bridge.config import (
    APOLOGY, END_GRACE_SECONDS, MAX_RECONNECTS, MAX_TEXT_CHARS, MIN_COMMIT_MS, SEED_LINES, TIME_LIMIT_LINE,
    UNAVAILABLE, SessionLost, VoiceConfig, realtime_session,
)
from receptionist.bridge.engine_events import EngineEvents
from receptionist.bridge.link import EngineLink
from receptionist.bridge.record import CallRecord
from receptionist.bridge.recording import CallRecorder
from receptionist.bridge.responses import ResponseFlow
from receptionist.bridge.session import SessionRefused
from receptionist.bridge.tool_runner import ToolRunner
from receptionist.bridge.transport import CallerError
from receptionist.bridge.turns import TurnState
from receptionist.engines import UpstreamClosed, UpstreamUnavailable, engine_name
from receptionist.prompt import say_exactly
from receptionist.tools import tool_schemas

__all__ = ["VoiceBridge", "TIME_LIMIT_LINE"]
log = logging.getLogger(__name__)
RECONNECTED = ("The phone line dropped for a moment and is back now. Say sorry in one short sentence, then carry "
               "on from where the conversation left off.")


class VoiceBridge:
    def __init__(self, *, transport, call_details):
        """`call_details`: what services.open_voice_call records about the call (session_id, user_agent…)."""
        self.config = config = VoiceConfig.from_settings()
        self.transport = transport
        self.call_details = call_details
        self.engine = engine_name()
        self.info = {}
        fmt = transport.audio_format
        self.link = EngineLink(connect_timeout=config.connect_timeout, bytes_per_ms=fmt.bytes_per_ms)
        self.turns = TurnState(bytes_per_ms=fmt.bytes_per_ms)
        self.record = CallRecord()
        self.recorder = CallRecorder(audio_format=fmt, record=self.record)  # from the caller's consent on
        self.responses = ResponseFlow(link=self.link, turns=self.turns, record=self.record, transport=transport)
        self.tools = ToolRunner(link=self.link, responses=self.responses, transport=transport, record=self.record,
                                filler_after_ms=config.filler_after_ms, spawn=self._spawn, then=self._after_response)
        self.events = EngineEvents(turns=self.turns, responses=self.responses, record=self.record, tools=self.tools,
                                   transport=transport, link=self.link, then=self._after_response, models={
                                       "voice": self._model("voice"), "transcription": self._model("transcription")},
                                   recorder=self.recorder)
        self.started = False  # the caller consented
        self.greeted = False
        self.reconnects = 0
        self.finished = False
        self.done = asyncio.Event()
        self._tasks = set()
        transport.attach(self)

    def _model(self, part):
        """The model billed for a part of the call ("local" on the built-in engine, which costs nothing)."""
        if self.engine != "openai":
            return "local"
        return self.config.transcription_model if part == "transcription" else settings.OPENAI_REALTIME_MODEL

    # --- life cycle ------------------------------------------------------------------------------
    async def open(self):
        """Create the conversation, tell the caller's line, and start the engine."""
        self.transport.start()
        self.record.start()
        self.info = await database_sync_to_async(services.open_voice_call)(engine=self.engine, **self.call_details)
        self.record.conversation_id = self.info["conversation_id"]
        if self.info.get("so_far"):
            # A phone call taken back after an unanswered transfer: the same conversation goes on, its lines
            # seed the new session and new ones are placed after them.
            self.record.transcript.resume(self.info["so_far"])
        self.transport.opened(self.info, engine=self.engine)
        self.transport.state("connecting")
        self._spawn(self._run(), name="upstream")
        self._spawn(self._call_timer(), name="timer")

    def _spawn(self, coroutine, *, name=""):
        task = asyncio.ensure_future(coroutine)
        task.set_name(f"voice-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _phone(self):
        return f" at {self.info['clinic_phone']}" if self.info.get("clinic_phone") else ""

    async def _run(self):
        try:
            await self._connect()
        except UpstreamUnavailable as exc:
            data = {"where": "upstream_start", "reason": str(exc)}
            if isinstance(exc, SessionRefused):
                data.update(where="session_refused", **exc.details)
            self.record.event("error", data)
            line = UNAVAILABLE.format(phone=self._phone())
            self.transport.control({"type": "error", "code": "assistant_unavailable", "message": line})
            await self._finish("upstream_unavailable", failed=True, say=line, save_say=False)
            return
        try:
            while not self.finished:
                try:
                    await self.events.handle(await self.link.recv())
                except (UpstreamClosed, SessionLost) as exc:
                    if self.finished:
                        return
                    await self._recover(str(exc) or type(exc).__name__)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Voice relay failed")
            self.record.event("error", {"where": "relay", "reason": "internal error"})
            await self._finish("error", failed=True, say=APOLOGY.format(phone=self._phone()))

    async def _open_session(self):
        """Connect, and return once OpenAI has confirmed the session (SessionRefused when it does not)."""
        session = realtime_session(self.config, instructions=self.info["instructions"], tools=tool_schemas(),
                                   audio_format=self.transport.audio_format)
        confirmed = await self.link.open(session)
        if confirmed.dropped:
            log.warning("Realtime session confirmed without %s", [d["part"] for d in confirmed.dropped])
            self.record.event("session_degraded", {"dropped": confirmed.dropped})
        if confirmed.differences:
            log.warning("Realtime session differs from what was asked: %s", confirmed.differences)
            self.record.event("session_mismatch", {"differences": confirmed.differences})
        return confirmed.early_events

    async def _confirmed(self, early_events):
        self.link.ready = True
        for event in early_events:
            await self.events.handle(event)

    async def _connect(self):
        early_events = await self._open_session()
        await self._seed()  # nothing on a new call
        await self._confirmed(early_events)
        await self.link.send_held()
        if self.started and not self.greeted:
            await self._greet()
        elif not self.started:
            self.transport.state("listening")

    async def _recover(self, reason):
        """One reconnect with the conversation re-seeded; else an apology and a clean end."""
        self.link.ready = False
        self.record.event("error", {"where": "upstream_lost", "reason": reason})
        await self.link.drop()
        if self.reconnects >= MAX_RECONNECTS:
            await self._finish("upstream_lost", failed=True, say=APOLOGY.format(phone=self._phone()))
            return
        self.reconnects += 1
        self.transport.state("reconnecting")
        self.responses.reset()
        self.turns.reset()
        self.tools.reset()
        try:
            self.info["instructions"] = await database_sync_to_async(services.session_instructions)(
                conversation_id=self.record.conversation_id)
            early_events = await self._open_session()
            await self._seed()
        except (UpstreamUnavailable, UpstreamClosed) as exc:
            self.record.event("error", {"where": "upstream_reconnect", "reason": str(exc)})
            await self._finish("upstream_lost", failed=True, say=APOLOGY.format(phone=self._phone()))
            return
        await self._confirmed(early_events)
        self.record.event("reconnected", {"reason": reason, "attempt": self.reconnects})
        await self.link.send_held()
        if self.started:
            await self.responses.create({"instructions": RECONNECTED})
        else:
            self.transport.state("listening")

    async def _seed(self):
        """A new session starts with the conversation so far (after a reconnect, or a call taken back)."""
        transcript = self.record.transcript
        for n, (speaker, words) in enumerate(transcript.conversation_so_far()[-SEED_LINES:]):
            item_id = f"seed{self.reconnects}_{n}_{secrets.token_hex(4)}"
            transcript.seeded.add(item_id)
            kind = "input_text" if speaker == "caller" else "output_text"
            await self.link.send_unconfirmed({"type": "conversation.item.create", "item": {
                "id": item_id, "type": "message", "role": "user" if speaker == "caller" else "assistant",
                "content": [{"type": kind, "text": words}]}})

    async def _call_timer(self):
        await asyncio.sleep(self.config.max_call_seconds)
        self.record.event("time_limit", {"max_call_seconds": self.config.max_call_seconds})
        await self._say_and_end("time_limit", TIME_LIMIT_LINE)

    async def _say_and_end(self, reason, line):
        self.responses.end_after = reason
        if self.link.ready:
            if self.responses.active:
                await self.responses.cancel()
            await self.responses.create({"instructions": say_exactly(line)}, special=True)
        await asyncio.sleep(END_GRACE_SECONDS)
        await self._finish(reason)

    async def _after_response(self):
        """A response (and its tools) ended: the next one waiting, the call's end, or the caller's turn."""
        if self.responses.tools_pending or self.finished:
            return
        if self.responses.pending is not None:
            await self.responses.create(self.responses.take_pending())
        elif self.responses.end_after:
            await self._finish(self.responses.end_after)
        else:
            self.transport.state("listening")

    async def line_closed(self, reason="caller_hung_up"):
        """The caller's line went (page closed): close the engine at once and finalise."""
        if not self.finished:
            await self._finish(reason, caller_gone=reason == "caller_hung_up")
        await self.done.wait()

    async def _finish(self, reason, *, failed=False, say=None, save_say=True, caller_gone=False):
        if self.finished:
            return
        self.finished = True
        self.recorder.end(caller_gone=caller_gone)
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current and task.get_name() != "voice-upstream":
                task.cancel()
        await self.link.close()
        if say and save_say:
            self.record.outside_conversation(say, {"spoken_by": "page", "reason": reason})
        # Saved first, so whatever the caller sees next is already on record.
        self.record.finish(end_reason=reason, failed=failed, stats=self._call_stats())
        await self.record.close()
        await self.transport.end(reason, say or "", caller_gone=caller_gone)
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        await self.recorder.close()  # after the call's writes: its messages get their places in the file
        self.done.set()

    def _call_stats(self):
        # Tokens are not summed here: each response's usage was saved as it ended (communications.usage).
        return {"late_audio_dropped": self.turns.late_audio_dropped, **self.transport.stats(),
                "reconnects": self.reconnects}

    # --- the caller's side (what a transport calls; CallerError for what the call cannot take) ----
    async def caller_audio(self, chunk):
        if not self.started:
            raise CallerError("not_started", "Send start before audio.")
        if not self.finished:
            self.recorder.caller(chunk)
            await self.link.audio(chunk)

    async def start(self, *, consent):
        if self.started:
            raise CallerError("already_started", "The call has already started.")
        self.record.consent(consent)
        if not consent:
            await self._finish("consent_declined", say="")
            return
        self.started = True
        self.recorder.begin()
        if self.link.ready and not self.greeted:
            await self._greet()

    async def _greet(self):
        self.greeted = True
        why = self.info.get("greeting_why", "Greet the caller.")  # a call taken back is not greeted again
        await self.responses.create({"instructions": say_exactly(self.info["greeting"], why=why)}, special=True)

    async def commit(self):
        """The caller's turn ended (the page's VAD, or the server's on a line without one)."""
        if self.config.turn_detection != "none":
            return  # OpenAI decides the end of the turn
        if self.link.buffered_ms < MIN_COMMIT_MS:
            raise CallerError("commit_empty", f"Nothing to commit: {self.link.buffered_ms:.0f} ms of audio since "
                                              f"the last commit (at least {MIN_COMMIT_MS} ms).")
        if not self.link.ready:
            raise CallerError("not_ready", "The assistant is reconnecting; please repeat that in a moment.")
        if self.responses.active:
            await self.responses.cancel()  # the caller took the turn while Ava was still thinking
        self.link.buffered_ms = 0.0
        await self.link.send({"type": "input_audio_buffer.commit"})
        self.transport.state("thinking")
        await self.responses.create({})

    async def typed(self, text):
        if len(text) > MAX_TEXT_CHARS:
            raise CallerError("text_too_long", f"Typed messages may be at most {MAX_TEXT_CHARS} characters.")
        if not self.link.ready:
            raise CallerError("not_ready", "The assistant is connecting; please send that again in a moment.")
        text = text.strip()
        item_id = f"typed_{secrets.token_hex(8)}"
        self.record.typed[item_id] = text
        if self.responses.active:
            await self.responses.cancel()
        await self.link.send({"type": "conversation.item.create", "item": {
            "id": item_id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}})
        self.transport.state("thinking")
        await self.responses.create({})

    async def interrupted(self, item_id, played_ms):
        """Barge-in: the line stopped Ava's item `item_id` after `played_ms` of it had played."""
        if self.responses.active:
            await self.responses.cancel()
        item = self.turns.items.get(item_id)
        if item is None:
            raise CallerError("unknown_item", "No assistant audio with that item_id.")
        audio_end_ms = self.turns.barge_in(item, played_ms)
        if audio_end_ms is not None:
            self.recorder.cut(item_id, audio_end_ms)
            if not item.out_of_band:  # an out-of-band item (a filler) is not in the conversation
                await self.link.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                                      "audio_end_ms": audio_end_ms})
            if item.saved:
                self.record.revise(item)
        self.record.interruption(item_id=item_id, played_ms=played_ms, audio_end_ms=audio_end_ms)
        self.transport.state("listening")

    async def caller_hung_up(self):
        await self._finish("caller_hung_up", say="")

    def caller_event(self, type, data):
        """Something the caller did that the call keeps as an event (a key pressed on the phone)."""
        self.record.event(type, data)

    async def caller_asked_for_staff(self, *, why, stop_playback=None):
        """The caller asked for the front desk (`why` tells the model how, e.g. the phone's 0 key): Ava stops, and
        the next response must call transfer_to_staff (tool_choice), so what follows is that tool's whatever was
        said: put through while the desk is open, else a message taken. `stop_playback` is the line's own way to
        stop Ava where the caller heard her (it reports the interruption); without it a response under way is
        cancelled. Nothing happens before the caller's start, after the end, or while the engine reconnects."""
        if not self.started or self.finished or not self.link.ready:
            return
        if stop_playback is not None:
            await stop_playback()
        elif self.responses.active:
            await self.responses.cancel()
        await self.link.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "system", "content": [{"type": "input_text", "text": why}]}})
        await self.responses.create({"tool_choice": {"type": "function", "name": "transfer_to_staff"}})
