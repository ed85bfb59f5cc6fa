"""The built-in local engine: the embedded default when OPENAI_API_KEY is empty.

An in-process Realtime GA session (receptionist.engines.simulated) with the
local brain as its responder, behind the same interface as the OpenAI
connection. It needs no network and no model; it understands typed turns only.
"""

import asyncio

from receptionist.engines import UpstreamClosed
from receptionist.engines.local_brain import LocalBrain
from receptionist.engines.simulated import RealtimeSimulator

_CLOSED = object()


class LocalRealtimeConnection:
    offline = True
    name = "local"

    def __init__(self):
        self._events = asyncio.Queue()
        self._closed = False

        async def no_speech_recognition(item_id, pcm):
            return None  # offline: audio is never understood (the brain says so)

        self.simulator = RealtimeSimulator(emit=self._events.put, responder=LocalBrain().respond,
                                           transcriber=no_speech_recognition, model="local")

    async def send(self, event):
        if self._closed:
            raise UpstreamClosed("closed")
        await self.simulator.handle(event)

    async def send_audio(self, pcm):
        if self._closed:
            raise UpstreamClosed("closed")
        # In process there is no wire, so the base64 round trip of an append is skipped.
        self.simulator.input_audio += pcm

    async def recv(self):
        event = await self._events.get()
        if event is _CLOSED:
            raise UpstreamClosed("closed")
        return event

    async def close(self):
        if not self._closed:
            self._closed = True
            await self.simulator.close()
            self._events.put_nowait(_CLOSED)


async def connect(*, timeout):
    connection = LocalRealtimeConnection()
    await connection.simulator.open()
    return connection
