"""The bounded buffer toward the caller's page.

Policy: control messages (JSON) are always queued, in order, with the audio;
they are small and few. Audio is capped at `max_audio_bytes` queued (a setting,
VOICE_OUTBOUND_BUFFER_MS): a frame that would pass the cap is dropped and counted,
so a caller on a stalled connection costs at most that much memory, and the
upstream reader never waits on the page. OpenAI sends audio faster than real
time, so the cap must hold a whole reply's burst (20 s by default).
"""

import asyncio
import collections
import json
import logging

log = logging.getLogger(__name__)


class PageOutbound:
    def __init__(self, *, send_text, send_bytes, max_audio_bytes):
        self._send_text = send_text
        self._send_bytes = send_bytes
        self.max_audio_bytes = max_audio_bytes
        self._queue = collections.deque()
        self._wake = asyncio.Event()
        self.audio_bytes = 0
        self.dropped_audio_bytes = 0
        self.sent_frames = 0
        self._task = None
        self._closed = False

    def start(self):
        self._task = asyncio.ensure_future(self._run())

    def json(self, message):
        if not self._closed:
            self._queue.append((True, json.dumps(message, separators=(",", ":"), default=str)))
            self._wake.set()

    def audio(self, pcm):
        """Queue one audio frame; False when it was dropped by the cap."""
        if self._closed:
            return False
        if self.audio_bytes + len(pcm) > self.max_audio_bytes:
            self.dropped_audio_bytes += len(pcm)
            return False
        self.audio_bytes += len(pcm)
        self._queue.append((False, pcm))
        self._wake.set()
        return True

    async def _run(self):
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    is_text, data = self._queue.popleft()
                    if is_text:
                        await self._send_text(data)
                    else:
                        self.audio_bytes -= len(data)
                        await self._send_bytes(data)
                        self.sent_frames += 1
                if self._closed:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # the page went away mid-send: nothing more can reach it
            log.debug("Sending to the page failed", exc_info=True)
            self._closed = True
            self._queue.clear()

    async def close(self, *, timeout=1.0):
        """Send what is queued (up to `timeout`), then stop."""
        self._closed = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            except asyncio.TimeoutError:
                self._task.cancel()
