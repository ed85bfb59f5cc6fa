"""The engine connection: one Realtime session at a time, confirmed before use, audio held until then.

Client events get an `event_id` (all but the audio appends) and the last few are remembered by id,
so an upstream `error` can name the event it answers. Caller audio that comes while the session is
(re)connecting is held, up to MAX_PENDING_AUDIO_MS, and sent once it is confirmed.

The caller's audio goes up in appends of VOICE_UPSTREAM_APPEND_MS (100 ms: 2-5 page frames) while our own
VAD decides the turn, since the relay's cost is per message, not per byte (bench/README.md, "Voice relay").
The audio being gathered is the only audio queued here, and control events go ahead of it: a cancel or a
truncate is sent at once, while a commit (or a clear) first sends what is held, so it carries every frame
the caller sent before it.
"""

import itertools

from django.conf import settings

from receptionist.bridge.config import MAX_PENDING_AUDIO_MS
from receptionist.bridge.session import confirm_session
from receptionist.engines import UpstreamClosed, connect_engine

SENT_EVENTS_KEPT = 256  # client events remembered by event_id, to name what an error answers
AFTER_AUDIO = frozenset({"input_audio_buffer.commit", "input_audio_buffer.clear"})  # act on the audio before them


class EngineLink:
    def __init__(self, *, connect_timeout, bytes_per_ms, append_ms=None):
        self.connect_timeout = connect_timeout
        self.bytes_per_ms = bytes_per_ms
        if append_ms is None:
            # When OpenAI decides the turn (server_vad, semantic_vad) it must hear each frame at once: gathering
            # would delay its speech_started, and so a barge-in, by up to an append.
            append_ms = settings.VOICE_UPSTREAM_APPEND_MS if settings.VOICE_TURN_DETECTION == "none" else 0
        self.append_bytes = append_ms * bytes_per_ms
        self.upstream = None
        self.ready = False  # a confirmed session: events and audio go up
        self.buffered_ms = 0.0  # caller audio taken since the last commit (sent, or gathered to send)
        self._held = bytearray()
        self._gathered = bytearray()  # audio of a confirmed session, until it makes an append
        self._numbers = itertools.count(1)
        self._sent_kinds = {}  # event_id -> type of the client events sent lately

    def event_id(self):
        return f"ava_{next(self._numbers)}"

    async def open(self, session):
        """Connect and confirm `session`: a ConfirmedSession, or SessionRefused / UpstreamUnavailable."""
        self.upstream = await connect_engine(timeout=self.connect_timeout)
        return await confirm_session(self.upstream, session, timeout=self.connect_timeout, event_id=self.event_id)

    async def recv(self):
        return await self.upstream.recv()

    async def send(self, event):
        """Send a client event once the session is confirmed (ahead of the audio being gathered, unless
        it acts on that audio); False when it could not go."""
        if self.upstream is None or not self.ready:
            return False
        if event["type"] in AFTER_AUDIO:
            await self.flush()
        event["event_id"] = event_id = self.event_id()
        self._sent_kinds[event_id] = event["type"]
        if len(self._sent_kinds) > SENT_EVENTS_KEPT:
            del self._sent_kinds[next(iter(self._sent_kinds))]
        try:
            await self.upstream.send(event)
            return True
        except UpstreamClosed:
            return False

    async def send_unconfirmed(self, event):
        """An event for a session being set up (re-seeding it), before `ready`."""
        event["event_id"] = self.event_id()
        await self.upstream.send(event)

    def caused_by(self, event_id):
        return self._sent_kinds.get(event_id)

    async def audio(self, chunk):
        """The caller's audio: gathered into the next append, or held while the session is not confirmed."""
        if not self.ready:
            if len(self._held) + len(chunk) <= MAX_PENDING_AUDIO_MS * self.bytes_per_ms:
                self._held += chunk
            return
        self.buffered_ms += len(chunk) / self.bytes_per_ms
        self._gathered += chunk
        if len(self._gathered) >= self.append_bytes:
            await self.flush()

    async def flush(self):
        """Send the audio gathered so far as one append."""
        if not self._gathered or self.upstream is None:
            return
        audio, self._gathered = self._gathered, bytearray()
        try:
            await self.upstream.send_audio(audio)
        except UpstreamClosed:
            # The reader sees the loss and recovers; meanwhile this audio stays first in line for the
            # session that follows (drop() holds it), as what the caller says while it reconnects.
            self._gathered[:0] = audio

    async def send_held(self):
        """Once the session is confirmed (`ready`): the audio held meanwhile goes up."""
        if self._held:
            held, self._held = bytes(self._held), bytearray()
            await self.audio(held)

    async def drop(self):
        """The session is gone: close what is left of it (reconnecting starts clean)."""
        self.ready = False
        self.buffered_ms = 0.0
        # What had not gone up yet is held for the next session, like what the caller says while it connects.
        self._held, self._gathered = self._gathered[:MAX_PENDING_AUDIO_MS * self.bytes_per_ms], bytearray()
        old, self.upstream = self.upstream, None
        if old is not None:
            await old.close()

    async def close(self):
        if self.upstream is not None:
            await self.upstream.close()  # bounded: about a second at most
