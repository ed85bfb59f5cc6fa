"""The voice engines behind one interface: OpenAI Realtime (GA), or the built-in local engine.

An engine connection speaks Realtime GA events as plain dicts:

    connection = await connect_engine(timeout=10)   # UpstreamUnavailable when it cannot start
    await connection.send({"type": "session.update", "session": {...}})
    await connection.send_audio(pcm16_bytes)          # input_audio_buffer.append, the hot path
    event = await connection.recv()                   # a server event dict; UpstreamClosed when it is gone
    await connection.close()                          # within about a second, whatever the far end does

`connection.offline` is True for the local engine (the call page says it is an offline demo).
"""

from django.conf import settings


class UpstreamUnavailable(Exception):
    """The engine could not be reached or refused the connection."""


class UpstreamClosed(Exception):
    """The engine's connection ended (dropped, or closed by the far end)."""

    def __init__(self, reason="", *, code=None):
        super().__init__(reason or "connection closed")
        self.code = code
        self.reason = reason


def engine_name():
    return "openai" if settings.OPENAI_API_KEY else "local"


async def connect_engine(*, timeout):
    """Open a session with OpenAI when a key is set, else with the built-in local engine."""
    if settings.OPENAI_API_KEY:
        from receptionist.engines.openai_realtime import connect
    else:
        from receptionist.engines.local import connect
    return await connect(timeout=timeout)
