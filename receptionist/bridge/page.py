"""The call page as a transport: binary PCM16 24 kHz frames and JSON control (docs/voice-protocol.md).

The page's VAD commits the caller's turns (`commit`) and, on a barge-in, reports how much of Ava's
item it played (`interrupt`). Toward the page everything goes through a bounded buffer
(outbound.py), so the relay loop never waits on a slow connection.
"""

import json
import math

from django.conf import settings

from receptionist import services
from receptionist.bridge.config import MIN_COMMIT_MS
from receptionist.bridge.outbound import PageOutbound
from receptionist.bridge.transport import PCM16_24K, CallerError

MAX_MESSAGE_CHARS = 16384  # a control message is small; anything bigger is refused unread


def page_settings():
    """What the call page needs to know before it captures a frame (sent in `session`)."""
    return {
        "audio": {"encoding": "pcm_s16le", "sample_rate": 24000, "channels": 1,
                  "frame_ms": settings.VOICE_FRAME_MS, "max_frame_bytes": settings.VOICE_MAX_FRAME_BYTES},
        "vad": {"commit_silence_ms": settings.VOICE_COMMIT_SILENCE_MS,
                "short_commit_silence_ms": settings.VOICE_SHORT_COMMIT_SILENCE_MS,
                "short_utterance_ms": settings.VOICE_SHORT_UTTERANCE_MS,
                "speech_start_ms": settings.VOICE_SPEECH_START_MS, "preroll_ms": settings.VOICE_PREROLL_MS},
        "turn_detection": settings.VOICE_TURN_DETECTION, "max_call_seconds": settings.VOICE_MAX_CALL_SECONDS,
        "min_commit_ms": MIN_COMMIT_MS,
    }


class PageTransport:
    audio_format = PCM16_24K

    def __init__(self, *, send_text, send_bytes, close_page):
        self.max_frame_bytes = settings.VOICE_MAX_FRAME_BYTES
        self.close_page = close_page
        self.outbound = PageOutbound(
            send_text=send_text, send_bytes=send_bytes,
            max_audio_bytes=settings.VOICE_OUTBOUND_BUFFER_MS * self.audio_format.bytes_per_ms)
        self.bridge = None
        self._state = None

    # --- from the page -----------------------------------------------------------------------------
    async def receive_audio(self, chunk):
        try:
            if len(chunk) > self.max_frame_bytes:
                raise CallerError("frame_too_large", f"Audio frames may be at most {self.max_frame_bytes} bytes.")
            if len(chunk) % 2:
                raise CallerError("bad_audio_frame", "Audio frames are PCM16: an even number of bytes.")
            await self.bridge.caller_audio(chunk)
        except CallerError as exc:
            self._error(exc)

    async def receive_text(self, raw):
        try:
            if len(raw) > MAX_MESSAGE_CHARS:
                raise CallerError("message_too_large",
                                  f"Control messages may be at most {MAX_MESSAGE_CHARS} characters.")
            try:
                message = json.loads(raw)
            except ValueError:
                raise CallerError("bad_json", "That message was not valid JSON.") from None
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                raise CallerError("bad_message", "A message is a JSON object with a type.")
            handler = self._handlers.get(message["type"])
            if handler is None:
                raise CallerError("unknown_type", f"Unknown message type: {message['type'][:40]}.")
            if self.bridge.finished:
                return
            if message["type"] not in {"start", "hangup"} and not self.bridge.started:
                raise CallerError("not_started", "Send start first.")
            await handler(self, message)
        except CallerError as exc:
            self._error(exc)

    async def _on_start(self, message):
        await self.bridge.start(consent=message.get("consent") is True)

    async def _on_commit(self, message):
        await self.bridge.commit()

    async def _on_interrupt(self, message):
        item_id, played = message.get("item_id"), message.get("played_ms")
        if (not isinstance(item_id, str) or isinstance(played, bool) or not isinstance(played, (int, float))
                or not math.isfinite(played) or played < 0):
            raise CallerError("bad_message", "interrupt needs item_id (string) and played_ms (number ≥ 0).")
        await self.bridge.interrupted(item_id, int(played))

    async def _on_text(self, message):
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CallerError("bad_message", "text needs a non-empty text.")
        await self.bridge.typed(text)

    async def _on_hangup(self, message):
        await self.bridge.caller_hung_up()

    _handlers = {"start": _on_start, "commit": _on_commit, "interrupt": _on_interrupt, "text": _on_text,
                 "hangup": _on_hangup}

    def _error(self, exc):
        self.outbound.json({"type": "error", "code": exc.code, "message": exc.message})

    # --- the Transport the bridge uses (transport.py) ------------------------------------------------
    def attach(self, bridge):
        self.bridge = bridge

    def start(self):
        self.outbound.start()

    def opened(self, info, *, engine):
        self.outbound.json({
            "type": "session", "conversation_id": str(info["conversation_id"]), "engine": engine,
            "offline_demo": engine == "local", "assistant_name": info["assistant_name"],
            "clinic_name": info["clinic_name"], "recording_notice": services.RECORDING_NOTICE, **page_settings(),
        })

    def state(self, state):
        if state != self._state:
            self._state = state
            self.outbound.json({"type": "state", "state": state})

    def start_item(self, item_id):
        self.outbound.json({"type": "audio.start", "item_id": item_id})

    def audio(self, chunk):
        self.outbound.audio(chunk)

    def item_done(self, item_id, audio_ms):
        self.outbound.json({"type": "audio.done", "item_id": item_id, "audio_ms": audio_ms})

    def stop_playback(self):
        self.outbound.json({"type": "audio.flush"})  # the page answers with `interrupt` and the played time

    def control(self, message):
        self.outbound.json(message)

    async def end(self, reason, say, *, caller_gone):
        if caller_gone:
            await self.outbound.close(timeout=0)
            return
        self.outbound.json({"type": "call.ended", "reason": reason, "message": say, "say": say})
        await self.outbound.close(timeout=2.0)
        try:
            await self.close_page()
        except Exception:  # already gone
            pass

    def stats(self):
        return {"outbound_audio_dropped_bytes": self.outbound.dropped_audio_bytes}
