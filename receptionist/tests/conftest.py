"""Fixtures for voice calls: the clinic, the fake Realtime upstream, and a page that talks to the real application."""

import asyncio
import json
import socket

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.db import connections

from receptionist.engines.simulated import BYTES_PER_MS, tone
from scheduling.tests.factories import glow_med_spa
from tests.fakes.realtime_server import FakeRealtimeServer


def db(function, *args, **kwargs):
    """Run a database read from an async test (the consumer writes from other threads)."""
    return database_sync_to_async(function)(*args, **kwargs)


@pytest.fixture(autouse=True)
def _no_calls_left_open():
    cache.clear()  # the per-address call counts
    yield
    cache.clear()


@pytest.fixture
def spa(transactional_db, pinned_now):
    # The calls speak of "tomorrow at 2 pm" and late cancellations: pinned, they mean the same at any hour.
    return glow_med_spa()


@pytest.fixture
async def fake_realtime(settings):
    async with FakeRealtimeServer() as fake:
        settings.OPENAI_API_KEY = "test-key"
        settings.OPENAI_BASE_URL = fake.base_url
        # Scoring after the call also reads OPENAI_BASE_URL and finds no HTTP API here; one try is enough.
        settings.ANALYTICS_SCORING_MAX_RETRIES = 0
        yield fake


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Page:
    """The call page's side of the websocket, as a test drives it."""

    def __init__(self, communicator):
        self.communicator = communicator
        self.messages = []
        self.audio = {}  # item id -> bytes received
        self.audio_item = None
        self.closed = None

    async def next(self, timeout=5.0):
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            self.closed = output.get("code", 1000)
            return {"type": "websocket.close", "code": self.closed}
        if output.get("bytes") is not None:
            self.audio[self.audio_item] = self.audio.get(self.audio_item, b"") + output["bytes"]
            return {"type": "audio.frame", "bytes": len(output["bytes"])}
        message = json.loads(output["text"])
        if message["type"] == "audio.start":
            self.audio_item = message["item_id"]
        self.messages.append(message)
        return message

    async def expect(self, kind, timeout=5.0, **fields):
        """The next message of `kind` whose fields match; others on the way are kept in `messages`."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"No {kind} {fields}; got {[m['type'] for m in self.messages[-15:]]}")
            message = await self.next(timeout=left)
            if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                return message
            if message["type"] == "websocket.close" and kind != "websocket.close":
                raise AssertionError(f"Closed ({message['code']}) before {kind}; got {self.messages[-10:]}")

    async def said(self, timeout=5.0):
        """Ava's next final transcript."""
        return (await self.expect("transcript", timeout, speaker="assistant", final=True))["text"]

    async def drain(self, quiet=0.3):
        """Read everything that arrives until `quiet` seconds pass with nothing.

        (A receive_output timeout would cancel the application, so quiet is checked with receive_nothing.)
        """
        while not await self.communicator.receive_nothing(timeout=quiet):
            await self.next()

    def errors(self):
        return [m["code"] for m in self.messages if m["type"] == "error"]

    async def send(self, **message):
        await self.communicator.send_to(text_data=json.dumps(message))

    async def send_raw(self, text):
        await self.communicator.send_to(text_data=text)

    async def speak(self, ms=600, frame_ms=40):
        frame = tone(frame_ms, frequency=220)
        for _ in range(ms // frame_ms):
            await self.communicator.send_to(bytes_data=frame)

    def audio_ms(self, item_id):
        return len(self.audio.get(item_id, b"")) // BYTES_PER_MS

    async def hang_up(self):
        await self.communicator.disconnect(timeout=5)


@pytest.fixture
async def open_call():
    """`page = await open_call()` connects a call page to the real ASGI application."""
    pages = []

    async def connect(*, ip="10.0.0.1", session_id="test-call-0001", start=True):
        from ava.asgi import application
        from receptionist.call_tokens import issue_call_token

        token = issue_call_token(ip=ip)  # as the call page would carry it
        communicator = WebsocketCommunicator(application, f"/ws/voice/{session_id}?token={token}",
                                             headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
                                                      (b"user-agent", b"pytest")])
        communicator.scope["client"] = (ip, 50000)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        page = Page(communicator)
        pages.append(page)
        page.session = await page.expect("session")
        if start:
            await page.send(type="start", consent=True)
        return page

    yield connect
    for page in pages:
        if page.closed is None:
            await page.communicator.disconnect(timeout=5)
    # The relay's writes ran in asgiref's one sync thread, whose connection outlives the test
    # (CONN_MAX_AGE); close it there so PostgreSQL can drop the test database at the end.
    await sync_to_async(connections.close_all)()
