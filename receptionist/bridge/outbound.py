"""The bounded buffer toward the caller's page.

Policy: control messages (JSON) are always queued, in order, with the audio;
they are small and few. Audio is capped at `max_audio_bytes` queued (a setting,
VOICE_OUTBOUND_BUFFER_MS): a frame that would pass the cap is dropped and counted,
so a caller on a stalled connection costs at most that much memory, and the
upstream reader never waits on the page. OpenAI sends audio faster than real
time, so the cap must hold a whole reply's burst (20 s by default).

Audio frames found queued one after another go to the page as one message (up to
MAX_JOINED_BYTES): the relay's cost is per message, not per byte, so a burst from
OpenAI, or a backlog on a busy server, costs a few sends instead of dozens. A
frame that finds the queue empty goes alone, at once.
"""

import abc
import asyncio
import collections
import json
import logging

log = logging.getLogger(__name__)
MAX_JOINED_BYTES = 24000  # 500 ms of PCM16 24 kHz: the most audio joined into one message to the page


class OrderedSender(abc.ABC):
    """Sends queued messages in order from a task of its own, so the relay loop never waits on the line.

    Subclasses queue items and say how one is sent (`_send`); a send that fails closes the sender,
    since nothing more can reach that caller.
    """

    failure = "Sending to the caller failed"

    def __init__(self):
        self._queue = collections.deque()
        self._wake = asyncio.Event()
        self._task = None
        self._closed = False

    def start(self):
        self._task = asyncio.ensure_future(self._run())

    def _put(self, item, *, first=False):
        (self._queue.appendleft if first else self._queue.append)(item)
        self._wake.set()

    @abc.abstractmethod
    async def _send(self, item):
        """Send one queued item to the caller."""

    def _next(self):
        """The next item to send (a subclass may join several)."""
        return self._queue.popleft()

    async def _run(self):
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    await self._send(self._next())
                if self._closed:
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # the caller went away mid-send: nothing more can reach them
            log.debug(self.failure, exc_info=True)
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


class PageOutbound(OrderedSender):
    failure = "Sending to the page failed"

    def __init__(self, *, send_text, send_bytes, max_audio_bytes):
        super().__init__()
        self._send_text = send_text
        self._send_bytes = send_bytes
        self.max_audio_bytes = max_audio_bytes
        self.audio_bytes = 0
        self.dropped_audio_bytes = 0
        self.sent_frames = 0

    def json(self, message):
        if not self._closed:
            self._put((True, json.dumps(message, separators=(",", ":"), default=str)))

    def audio(self, pcm):
        """Queue one audio frame; False when it was dropped by the cap."""
        if self._closed:
            return False
        if self.audio_bytes + len(pcm) > self.max_audio_bytes:
            self.dropped_audio_bytes += len(pcm)
            return False
        self.audio_bytes += len(pcm)
        self._put((False, pcm))
        return True

    def _next(self):
        queue = self._queue
        is_text, data = queue.popleft()
        if is_text or not queue or queue[0][0]:
            return is_text, data
        parts, size = [data], len(data)
        while queue and not queue[0][0] and size + len(queue[0][1]) <= MAX_JOINED_BYTES:
            part = queue.popleft()[1]
            parts.append(part)
            size += len(part)
        return False, b"".join(parts)

    async def _send(self, item):
        is_text, data = item
        if is_text:
            await self._send_text(data)
        else:
            self.audio_bytes -= len(data)
            await self._send_bytes(data)
            self.sent_frames += 1
