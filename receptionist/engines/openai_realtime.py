"""OpenAI Realtime through the official SDK, GA protocol only.

`AsyncOpenAI(...).realtime.connect(model=...)` opens the websocket (Authorization
only; no beta header). Events are read as raw JSON (`recv_bytes`) rather than
parsed into SDK models, and sent as JSON through the SDK's `send_raw`: the relay
forwards dozens of audio frames a second per call, and the SDK's typed `send`
walks every event through its transform (about a millisecond for a cancel or a
truncate in bench/voice_relay.py), which delayed barge-ins behind the audio.

One client and one TLS context serve every call of a process: building either loads the CA
bundle, about 40 ms of blocked event loop (measured in bench/voice_relay.py), which per call
stalled every other call's audio while callers connected.
"""

import asyncio
import base64
import json
import logging
import ssl

import openai
from django.conf import settings
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, WebSocketException

from receptionist.engines import UpstreamClosed, UpstreamUnavailable

log = logging.getLogger(__name__)
CLOSE_TIMEOUT = 1.0


class OpenAIRealtimeConnection:
    offline = False
    name = "openai"

    def __init__(self, connection):
        self._connection = connection
        self._closed = False

    async def send(self, event):
        try:
            await self._connection.send_raw(json.dumps(event))
        except ConnectionClosed as exc:
            raise UpstreamClosed(str(exc), code=exc.rcvd.code if exc.rcvd else None) from exc

    async def send_audio(self, pcm):
        payload = '{"type":"input_audio_buffer.append","audio":"' + base64.b64encode(pcm).decode("ascii") + '"}'
        try:
            await self._connection.send_raw(payload)
        except ConnectionClosed as exc:
            raise UpstreamClosed(str(exc), code=exc.rcvd.code if exc.rcvd else None) from exc

    async def recv(self):
        try:
            return json.loads(await self._connection.recv_bytes())
        except ConnectionClosed as exc:
            raise UpstreamClosed(exc.rcvd.reason if exc.rcvd else "connection lost",
                                 code=exc.rcvd.code if exc.rcvd else None) from exc

    async def close(self):
        """Close within CLOSE_TIMEOUT: a far end that does not answer the close handshake is cut off."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._connection.close(), CLOSE_TIMEOUT)
        except (asyncio.TimeoutError, OSError, WebSocketException):
            transport = getattr(getattr(self._connection, "_connection", None), "transport", None)
            if transport is not None:
                transport.abort()


def describe(exc):
    if isinstance(exc, InvalidStatus):
        return f"OpenAI refused the connection (HTTP {exc.response.status_code})"
    if isinstance(exc, asyncio.TimeoutError):
        return "OpenAI did not answer in time"
    return f"{type(exc).__name__}: {exc}"


_shared = {}


def _client():
    key = (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, id(asyncio.get_running_loop()))
    if _shared.get("key") != key:
        _shared.update(key=key, client=AsyncOpenAI(api_key=settings.OPENAI_API_KEY,
                                                   base_url=settings.OPENAI_BASE_URL or None))
    return _shared["client"]


def _tls():
    if "tls" not in _shared:
        _shared["tls"] = ssl.create_default_context()
    return _shared["tls"]


async def connect(*, timeout):
    client = _client()
    options = {}
    if str(client.base_url).startswith("https"):
        options["ssl"] = _tls()
    manager = client.realtime.connect(model=settings.OPENAI_REALTIME_MODEL, websocket_connection_options=options)
    try:
        connection = await asyncio.wait_for(manager.enter(), timeout)
    except (OSError, asyncio.TimeoutError, InvalidHandshake, WebSocketException, openai.OpenAIError) as exc:
        log.warning("Realtime connection failed: %s", describe(exc))
        raise UpstreamUnavailable(describe(exc)) from exc
    return OpenAIRealtimeConnection(connection)
