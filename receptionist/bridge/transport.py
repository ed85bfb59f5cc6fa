"""The seam between a call's bridge and the line the caller is on.

One bridge (relay.py) runs a call whatever carries it; a transport carries it: the call page
(page.py: PCM16 24 kHz, the page's VAD commits turns and reports what it played) or, next, the
phone (Twilio media streams: G.711 mu-law 8 kHz passed through as audio/pcmu, the server commits
turns, and what was played is learnt from `mark` echoes).

What the bridge asks of a transport is `Transport` below. What a transport may ask of the bridge
is the bridge's caller side: `start(consent=…)`, `caller_audio(chunk)`, `commit()`, `typed(text)`,
`interrupted(item_id, played_ms)` and `hangup()`. Those raise `CallerError` for input the call
cannot take; the page shows it as an `error` message, a phone line would log it.
"""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AudioFormat:
    """The caller's audio, both ways. The engine is given the same format: no transcoding."""

    session_format: dict  # as Realtime GA's `audio.input.format` / `audio.output.format`
    bytes_per_ms: int


PCM16_24K = AudioFormat(session_format={"type": "audio/pcm", "rate": 24000}, bytes_per_ms=48)
PCMU_8K = AudioFormat(session_format={"type": "audio/pcmu"}, bytes_per_ms=8)  # the phone's G.711 mu-law


class CallerError(Exception):
    """Input from the caller's side that the call cannot take (the call goes on)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


class Transport(Protocol):
    audio_format: AudioFormat

    def attach(self, bridge) -> None:
        """The bridge this transport feeds (it calls the bridge's caller side)."""

    def start(self) -> None:
        """Start sending (the bridge calls it before anything is sent)."""

    def opened(self, info: dict, *, engine: str) -> None:
        """The conversation exists: `info` is services.open_voice_call's answer."""

    def state(self, state: str) -> None:
        """connecting, listening, thinking, speaking or reconnecting (sent on change)."""

    def start_item(self, item_id: str) -> None:
        """Audio from now on belongs to this assistant item."""

    def audio(self, chunk: bytes) -> None:
        """Queue Ava's audio for the caller. Never waits: the relay loop must not block on the line."""

    def item_done(self, item_id: str, audio_ms: int) -> None:
        """All of the item's audio has been queued."""

    def stop_playback(self) -> None:
        """The engine heard the caller over Ava: stop playing at once, then tell the bridge how much
        of the item was played (`bridge.interrupted(item_id, played_ms)`)."""

    def control(self, message: dict) -> None:
        """A control message in the call page's words (transcript, tool, error): what a screen shows."""

    async def end(self, reason: str, say: str, *, caller_gone: bool) -> None:
        """The call is over: tell the caller (unless gone), flush what is queued, close."""

    def stats(self) -> dict:
        """The transport's figures for the call's `call_stats` event."""
