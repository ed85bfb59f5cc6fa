"""A stand-in for Twilio's side of a bidirectional Media Stream (what `<Connect><Stream>` opens).

It behaves as a phone line does, so tests see what a caller would hear:

- sends `connected`, then `start` (streamSid, callSid, customParameters, mediaFormat audio/x-mulaw 8 kHz),
  then one `media` message every 20 ms of real time (160 bytes of mu-law), the caller's audio followed by
  the line's silence, as Twilio does (it never stops sending while the call is up);
- plays what the server sends: `media` is queued and "played" at real time (8 bytes a millisecond); a
  `mark` is echoed only once the audio queued before it has been played; `clear` drops the queued audio
  and echoes the marks still pending at once;
- `stop` ends the stream.

It talks through two callables, so the same fake drives Channels' WebsocketCommunicator in tests and a
real websocket (the `websockets` client) in a benchmark:

    line = FakeTwilioLine(send=..., receive=..., call_sid="CA…", custom_parameters={"callSid": …, "token": …})
    await line.connect()
    await line.say(speech_mulaw("I'd like to book a facial"))   # at real-time pace, then silence
    await line.wait_for_mark()                                  # something Ava said has been heard
    line.played_ms, line.marks_echoed, line.clears              # what the caller heard, and when
    await line.hang_up()
"""

import asyncio
import base64
import collections
import json
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

FRAME_BYTES = 160  # 20 ms of 8 kHz mu-law
FRAME_SECONDS = 0.02
SILENCE = b"\xff" * FRAME_BYTES


def speech_mulaw(text, *, voice="en-us"):
    """`text` spoken by espeak-ng, as raw 8 kHz mu-law (sox), what a phone line carries."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        return subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", "-"],
                              check=True, capture_output=True).stdout


class FakeTwilioLine:
    def __init__(self, *, send, receive, call_sid="CA" + "0" * 32, account_sid="AC" + "1" * 32,
                 custom_parameters=None, stream_sid=None):
        self._send_text = send  # async (str) -> None
        self._receive_text = receive  # async () -> str, raising when the socket closes
        self.call_sid = call_sid
        self.account_sid = account_sid
        self.stream_sid = stream_sid or "MZ" + secrets.token_hex(16)
        self.custom_parameters = custom_parameters or {}
        self.sequence = 0
        self.chunk = 0
        self.started_at = None
        self._outgoing = collections.deque()  # caller audio waiting for its 20 ms slot
        self._queue = collections.deque()  # what the server sent, to play: ("audio", bytes) | ("mark", name)
        self.played = bytearray()  # every byte of the server's audio that was played, in order
        self.marks_echoed = []  # [(name, seconds since start)] as echoed
        self.clears = []  # seconds since start of each `clear`
        self.received = []  # every message from the server, parsed, with its arrival time
        self.closed = False
        self.closed_by = None  # what ended the listening: the socket's close, or the server's error
        self._tasks = []
        self._mark_echoed = asyncio.Event()

    # --- what the line reports ------------------------------------------------------------------
    @property
    def played_ms(self):
        return len(self.played) // 8

    @property
    def queued_ms(self):
        return sum(len(item) for kind, item in self._queue if kind == "audio") // 8

    def now(self):
        return time.monotonic() - self.started_at

    def messages(self, event):
        return [message for _, message in self.received if message.get("event") == event]

    # --- driving the call -------------------------------------------------------------------------
    async def connect(self):
        """`connected` and `start`, then the line runs: caller audio out, server audio played."""
        self.started_at = time.monotonic()
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self._send({"event": "start", "sequenceNumber": str(self._next_sequence()), "streamSid": self.stream_sid,
                          "start": {"streamSid": self.stream_sid, "accountSid": self.account_sid,
                                    "callSid": self.call_sid, "tracks": ["inbound"],
                                    "customParameters": self.custom_parameters,
                                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
        self._tasks = [asyncio.create_task(self._speak_loop()), asyncio.create_task(self._listen_loop()),
                       asyncio.create_task(self._play_loop())]

    async def say(self, audio):
        """Queue the caller's audio (raw mu-law); returns once the line has sent it all, at real-time pace
        (or the call ended)."""
        frames = [audio[i:i + FRAME_BYTES].ljust(FRAME_BYTES, b"\xff") for i in range(0, len(audio), FRAME_BYTES)]
        done = asyncio.get_running_loop().create_future()
        if self.closed:
            return
        self._outgoing.extend(frames)
        self._outgoing.append(done)
        await done

    async def press(self, digit):
        await self._send({"event": "dtmf", "streamSid": self.stream_sid, "sequenceNumber": str(self._next_sequence()),
                          "dtmf": {"track": "inbound_track", "digit": str(digit)}})

    async def wait_for(self, event, *, count=1, timeout=5.0):
        """Wait until the server has sent `count` messages of this event; returns the last."""
        deadline = time.monotonic() + timeout
        while len(self.messages(event)) < count:
            if self.closed or time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {count} {event!r}; got {len(self.messages(event))} "
                                     f"({'closed' if self.closed else 'open'})")
            await asyncio.sleep(0.005)
        return self.messages(event)[count - 1]

    async def wait_for_mark(self, *, count=1, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.marks_echoed) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout}s for {count} mark echoes; got {len(self.marks_echoed)}")
            await asyncio.sleep(0.005)
        return self.marks_echoed[count - 1]

    async def wait_until_quiet(self, *, timeout=10.0):
        """Until everything the server sent has been played."""
        deadline = time.monotonic() + timeout
        while self._queue:
            if time.monotonic() > deadline:
                raise AssertionError(f"still {self.queued_ms} ms to play after {timeout}s")
            await asyncio.sleep(0.01)

    async def hang_up(self):
        """The caller hangs up: Twilio sends `stop` and the line goes quiet."""
        if not self.closed:
            await self._send({"event": "stop", "sequenceNumber": str(self._next_sequence()),
                              "streamSid": self.stream_sid,
                              "stop": {"accountSid": self.account_sid, "callSid": self.call_sid}})
        await self.close()

    async def close(self):
        self.closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    # --- the line's three loops ------------------------------------------------------------------
    def _next_sequence(self):
        self.sequence += 1
        return self.sequence

    async def _send(self, message):
        await self._send_text(json.dumps(message))

    async def _speak_loop(self):
        try:
            await self._speak()
        finally:
            # The call is over: whoever waits for their words to be sent stops waiting.
            for item in self._outgoing:
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_result(None)
            self._outgoing.clear()

    async def _speak(self):
        # 50 media messages a second, on an absolute schedule so the pace does not drift.
        tick = 0
        while not self.closed:
            item = self._outgoing.popleft() if self._outgoing else SILENCE
            if isinstance(item, asyncio.Future):
                item.set_result(None)
                continue
            self.chunk += 1
            try:
                await self._send({"event": "media", "sequenceNumber": str(self._next_sequence()),
                                  "streamSid": self.stream_sid,
                                  "media": {"track": "inbound", "chunk": str(self.chunk),
                                            "timestamp": str(tick * 20), "payload": base64.b64encode(item).decode()}})
            except Exception as error:  # the server closed the socket
                self.closed, self.closed_by = True, self.closed_by or error
                break
            tick += 1
            await asyncio.sleep(max(0.0, self.started_at + tick * FRAME_SECONDS - time.monotonic()))

    async def _listen_loop(self):
        try:
            while True:
                message = json.loads(await self._receive_text())
                self.received.append((self.now(), message))
                event = message.get("event")
                if message.get("streamSid") != self.stream_sid:
                    raise AssertionError(f"a {event!r} without this stream's streamSid: {message}")
                if event == "media":
                    self._queue.append(("audio", base64.b64decode(message["media"]["payload"])))
                elif event == "mark":
                    self._queue.append(("mark", message["mark"]["name"]))
                elif event == "clear":
                    self.clears.append(self.now())
                    pending = [item for kind, item in self._queue if kind == "mark"]
                    self._queue.clear()
                    for name in pending:  # what Twilio does: the pending marks come back at once
                        await self._echo(name)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the server closed the socket (or failed: kept for the tests to tell)
            self.closed, self.closed_by = True, self.closed_by or error

    async def _play_loop(self):
        # 20 ms of audio played per 20 ms of real time; a mark is echoed once the audio before it has played.
        tick = 0
        start = time.monotonic()
        while not self.closed:
            budget = FRAME_BYTES
            while self._queue and (budget or self._queue[0][0] == "mark"):
                kind, item = self._queue[0]
                if kind == "mark":
                    self._queue.popleft()
                    await self._echo(item)
                    continue
                taken = item[:budget]
                self.played.extend(taken)
                budget -= len(taken)
                if len(taken) == len(item):
                    self._queue.popleft()
                else:
                    self._queue[0] = ("audio", item[len(taken):])
            tick += 1
            await asyncio.sleep(max(0.0, start + tick * FRAME_SECONDS - time.monotonic()))

    async def _echo(self, name):
        self.marks_echoed.append((name, self.now()))
        if not self.closed:
            try:
                await self._send({"event": "mark", "sequenceNumber": str(self._next_sequence()),
                                  "streamSid": self.stream_sid, "mark": {"name": name}})
            except Exception as error:
                self.closed, self.closed_by = True, self.closed_by or error
