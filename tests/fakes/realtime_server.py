"""A scriptable fake of OpenAI's Realtime API (GA protocol), served on a free local port.

Tests point the real SDK at it (OPENAI_API_KEY="test-key",
OPENAI_BASE_URL=fake.base_url), so the production code path is the one tested:

    async with FakeRealtimeServer() as fake:
        fake.reply(Call("check_availability", {"service": "Botox", "date": "2025-06-03"}))
        fake.reply(Say("I have ten or eleven."))
        fake.hear("I'd like Botox on Tuesday")       # what the next committed audio "says"
        ...
        fake.events("response.cancel")                # every client event of that type, all sessions
        await fake.wait_for("conversation.item.truncate")

Like OpenAI it checks the API key, speaks only GA (a beta header is refused with
close code 4000), and answers through the same simulator as Ava's local engine
(receptionist.engines.simulated): commit-empty, active-response and
cancel-not-active errors, truncate refused past the item's audio, and so on.
Responses that `say_exactly` instructions ask for (the greeting, fillers,
goodbyes) are said as asked; other responses take the next scripted reply.
"""

import asyncio
import collections
import json
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from receptionist.engines.simulated import RealtimeError, RealtimeSimulator, ResponseEnded
from receptionist.prompt import line_to_say
from tests.fakes.realtime_wire import mismatches


@dataclass
class Say:
    text: str
    audio_ms: int | None = None
    pace: float | None = None  # seconds between 100 ms chunks; None: the server's


@dataclass
class Call:
    name: str
    arguments: dict


@dataclass
class Wait:
    seconds: float


@dataclass
class Fail:
    """The response ends `failed`, as a fault at OpenAI ends it (status_details.error)."""
    message: str = "The server had an error while processing your request."
    code: str | None = "server_error"


@dataclass
class Filtered:
    """OpenAI's safety filter stops the response: `incomplete`, reason `content_filter`."""


def _merged(base, overrides):
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merged(base.get(key) or {}, value) if isinstance(value, dict) else value
    return merged


class FakeSession:
    """One websocket session: what the client sent (with arrival times) and what it was sent."""

    def __init__(self, server, connection, headers, path):
        self.server = server
        self.connection = connection
        self.headers = headers
        self.path = path
        self.query = parse_qs(urlparse(path).query)
        self.received = []  # (perf_counter, event)
        self.sent = []
        self.responses_done = 0
        self._response_done = asyncio.Condition()
        self.simulator = None

    async def emit(self, event):
        if event["type"] == "session.updated" and self.server.confirm_overrides:
            event = {**event, "session": _merged(event["session"], self.server.confirm_overrides)}
        self.sent.append(event)
        self.server.check_wire(event, side="server")
        try:
            await self.connection.send(json.dumps(event))
        except ConnectionClosed:
            return
        if event["type"] == "response.done":
            async with self._response_done:
                self.responses_done += 1
                self._response_done.notify_all()

    async def responses_finished(self, count):
        """Wait until `count` more responses have finished."""
        async with self._response_done:
            target = self.responses_done + count
            await self._response_done.wait_for(lambda: self.responses_done >= target)

    def events(self, kind=None):
        return [e for _, e in self.received if kind is None or e.get("type") == kind]

    async def drop(self):
        """Cut the connection without a close frame, as a network failure would."""
        self.connection.transport.abort()

    async def expire(self):
        """OpenAI's 60-minute limit: an error event, then the session closes."""
        await self.emit({"type": "error", "event_id": "event_expired", "error": {
            "type": "invalid_request_error", "code": "session_expired",
            "message": "Your session hit the maximum duration of 60 minutes.", "param": None, "event_id": None}})
        await self.connection.close()


class FakeRealtimeServer:
    def __init__(self, *, api_key="test-key", pace=0.0, chunk_ms=100, default_reply="Okay.", greeting_audio_ms=None,
                 check_wire=True):
        self.api_key = api_key
        # Every event both ways is read with the SDK's own models; leaving the server with a
        # mismatch fails the test (tests/fakes/realtime_wire.py). A load test may turn it off.
        self.checks_wire = check_wire
        self.wire_mismatches = []
        self.pace = pace
        self.chunk_ms = chunk_ms
        self.default_reply = default_reply
        self.greeting_audio_ms = greeting_audio_ms
        self.sessions = []
        self.rejected = []  # (status, path) of refused handshakes
        self.script = collections.deque()
        self.transcripts = collections.deque()
        # Hold each transcript until this many more responses are done (OpenAI's transcription is
        # asynchronous: the caller's words often land after Ava's reply).
        self.transcript_delay_responses = 0
        self.refuse_connections = 0
        self.session_refusals = []  # [param, code, message, times left or None]
        self.confirm_overrides = {}  # merged into what session.updated echoes (a server keeping its own values)
        self.ignore_session_updates = False  # never answer a session.update at all
        self._server = None
        self.port = None

    # --- life cycle ----------------------------------------------------------------------------
    async def start(self):
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._check_request,
                                   max_size=None, compression=None)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self.wire_mismatches:
            raise AssertionError("Events the OpenAI SDK does not read as sent:\n" + "\n".join(self.wire_mismatches[:20]))

    def check_wire(self, event, *, side):
        if self.checks_wire:
            self.wire_mismatches.extend(mismatches(event, side=side))

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.stop()

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    # --- scripting -----------------------------------------------------------------------------
    def reply(self, *actions):
        """Queue what the next ordinary response does: Say, Call, Wait, or an async fn(response)."""
        self.script.append(actions)

    def refuse_session(self, param, *, code="invalid_value", message=None, times=None):
        """Refuse every `session.update` that sets `param` (e.g. "session.audio.input.transcription.model"),
        as OpenAI refuses a retired model, an unknown voice or a bad tool schema: an `error` naming the
        param, with the update's event_id, and the session left as it was. `times`: only that many."""
        self.session_refusals.append([param, code, message or f"Invalid value for '{param}'.", times])

    def _refusal(self, event):
        for refusal in self.session_refusals:
            param, code, message, times = refusal
            value = event.get("session") or {}
            for key in param.removeprefix("session.").split("."):
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None and times != 0:
                if times is not None:
                    refusal[3] = times - 1
                return RealtimeError(code, message, param=param)
        return None

    def hear(self, *transcripts):
        """Queue what the next committed audio buffers are transcribed as."""
        self.transcripts.extend(transcripts)

    @property
    def session(self):
        return self.sessions[-1]

    def events(self, kind=None):
        return [e for s in self.sessions for e in s.events(kind)]

    def timed_events(self, kind):
        return [(t, e) for s in self.sessions for t, e in s.received if e.get("type") == kind]

    async def wait_for(self, kind, *, count=1, timeout=5.0):
        """Wait until the client has sent `count` events of `kind`; returns them."""
        deadline = time.monotonic() + timeout
        while len(self.events(kind)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"Timed out waiting for {count} × {kind}; got {[e['type'] for e in self.events()]}")
            await asyncio.sleep(0.005)
        return self.events(kind)

    async def wait_for_sessions(self, count, *, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.sessions) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"Timed out waiting for {count} sessions")
            await asyncio.sleep(0.005)

    # --- the server ----------------------------------------------------------------------------
    def _check_request(self, connection, request):
        parsed = urlparse(request.path)
        status = None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            status = HTTPStatus.UNAUTHORIZED
        elif parsed.path != "/v1/realtime" or not parse_qs(parsed.query).get("model"):
            status = HTTPStatus.NOT_FOUND
        elif self.refuse_connections:
            self.refuse_connections -= 1
            status = HTTPStatus.SERVICE_UNAVAILABLE
        if status is not None:
            self.rejected.append((status, request.path))
            return connection.respond(status, f"{status.phrase}\n")
        return None

    async def _handle(self, connection):
        request = connection.request
        session = FakeSession(self, connection, request.headers, request.path)
        self.sessions.append(session)
        if request.headers.get("OpenAI-Beta"):
            await session.emit({"type": "error", "event_id": "event_beta", "error": {
                "type": "invalid_request_error", "code": "beta_api_shape_disabled",
                "message": "The beta Realtime API shape is no longer supported.", "param": None, "event_id": None}})
            await connection.close(4000, "beta_api_shape_disabled")
            return
        session.simulator = RealtimeSimulator(
            emit=session.emit, responder=lambda response: self._respond(session, response),
            transcriber=lambda item_id, pcm: self._transcribe(session, item_id, pcm),
            model=session.query.get("model", [""])[0], pace=self.pace, chunk_ms=self.chunk_ms,
        )
        await session.simulator.open()
        try:
            async for raw in connection:
                event = json.loads(raw)
                session.received.append((time.perf_counter(), event))
                self.check_wire(event, side="client")
                if event.get("type") == "session.update" and self.ignore_session_updates:
                    continue
                refusal = self._refusal(event) if event.get("type") == "session.update" else None
                if refusal is not None:
                    await session.simulator.error(refusal, event)
                    continue
                await session.simulator.handle(event)
        except ConnectionClosed:
            pass
        finally:
            await session.simulator.close()

    async def _respond(self, session, response):
        line = line_to_say(response.instructions)
        if line is not None:
            await response.say(line, audio_ms=self.greeting_audio_ms)
            return
        actions = self.script.popleft() if self.script else (Say(self.default_reply),)
        for action in actions:
            if isinstance(action, Say):
                await response.say(action.text, audio_ms=action.audio_ms, pace=action.pace)
            elif isinstance(action, Call):
                await response.call_function(action.name, action.arguments)
            elif isinstance(action, Wait):
                await asyncio.sleep(action.seconds)
            elif isinstance(action, Fail):
                raise ResponseEnded("failed", {"type": "failed", "error": {
                    "type": "server_error", "code": action.code, "message": action.message}})
            elif isinstance(action, Filtered):
                raise ResponseEnded("incomplete", {"type": "incomplete", "reason": "content_filter"})
            else:
                await action(response)

    async def _transcribe(self, session, item_id, pcm):
        words = self.transcripts.popleft() if self.transcripts else "(inaudible)"
        if self.transcript_delay_responses:
            await session.responses_finished(self.transcript_delay_responses)
        return words
