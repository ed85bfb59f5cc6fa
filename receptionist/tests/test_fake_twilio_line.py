"""The tests' phone line (tests/fakes/twilio_media.py) behaves as Twilio's does: caller audio at real-time
pace, marks echoed only once the audio before them has played, `clear` returning pending marks at once.
Driven by a throwaway websockets server standing in for Ava."""

import asyncio
import contextlib
import base64
import json

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from tests.fakes.twilio_media import FakeTwilioLine, speech_mulaw

pytestmark = pytest.mark.asyncio


def media(stream_sid, milliseconds):
    return json.dumps({"event": "media", "streamSid": stream_sid,
                       "media": {"payload": base64.b64encode(b"\x55" * (8 * milliseconds)).decode()}})


def mark(stream_sid, name):
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


@contextlib.asynccontextmanager
async def on_a_line(script):
    """Run `script(server_socket, stream_sid)` as the server against a FakeTwilioLine; yields (line, heard)."""
    heard = []

    async def handler(socket):
        connected = json.loads(await socket.recv())
        start = json.loads(await socket.recv())
        heard.extend([connected, start])

        async def keep_reading():
            async for text in socket:
                heard.append(json.loads(text))

        reader = asyncio.create_task(keep_reading())
        await script(socket, start["streamSid"])
        await reader

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as client:
            line = FakeTwilioLine(send=client.send, receive=client.recv, call_sid="CA" + "7" * 32,
                                  custom_parameters={"token": "t"})
            await line.connect()
            try:
                yield line, heard
            finally:
                await line.close()


async def test_marks_come_back_once_the_audio_before_them_has_played():
    async def script(socket, sid):
        await socket.send(media(sid, 400))
        await socket.send(mark(sid, "first"))
        await socket.send(media(sid, 400))
        await socket.send(mark(sid, "second"))

    async with on_a_line(script) as (line, heard):
        first = await line.wait_for_mark()
        second = await line.wait_for_mark(count=2)
        await line.hang_up()

    assert [name for name, _ in line.marks_echoed] == ["first", "second"]
    assert 0.38 <= first[1] <= 0.6 and 0.78 <= second[1] <= 1.05
    assert line.played_ms == 800
    assert heard[0]["event"] == "connected" and heard[1]["start"]["customParameters"] == {"token": "t"}
    assert heard[1]["start"]["mediaFormat"] == {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}


async def test_clear_drops_the_queued_audio_and_returns_pending_marks_at_once():
    async def script(socket, sid):
        await socket.send(media(sid, 2000))
        await socket.send(mark(sid, "long"))
        await asyncio.sleep(0.3)
        await socket.send(json.dumps({"event": "clear", "streamSid": sid}))

    async with on_a_line(script) as (line, heard):
        name, at = await line.wait_for_mark()
        await line.hang_up()

    assert name == "long" and at - line.clears[0] < 0.02
    assert 240 <= line.played_ms <= 380  # what was played before the clear, not the 2 s sent


async def test_the_caller_speaks_at_real_time_pace_then_the_line_sends_silence():
    speech = speech_mulaw("Yes.")

    async def script(socket, sid):
        pass

    async with on_a_line(script) as (line, heard):
        await line.say(speech)
        await asyncio.sleep(0.3)
        await line.hang_up()
        await asyncio.sleep(0.05)

    frames = [m for m in heard if m["event"] == "media"]
    assert len(frames) == pytest.approx((len(speech) / 8000 + 0.3) * 50, rel=0.15)  # 50 a second, silence too
    assert b"".join(base64.b64decode(m["media"]["payload"]) for m in frames).startswith(speech)
    assert [int(m["media"]["timestamp"]) for m in frames[:3]] == [0, 20, 40]
    assert all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in frames)
    assert heard[-1]["event"] == "stop" and heard[-1]["stop"]["callSid"] == "CA" + "7" * 32
