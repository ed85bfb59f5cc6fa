"""The bridge runs a call over any transport, not only the call page: the seam the phone will use.

`Line` is a second transport as the phone will be one: its own audio format (mu-law 8 kHz, given to
the engine as audio/pcmu), the server side commits the caller's turns, and on a barge-in it works
out itself how much of Ava's item was played. The bridge is the real one, against the fake Realtime
server, with the real database. (The fake still measures audio as PCM16; the phone issue teaches it
audio/pcmu, so lengths here are only compared with what the line reported.)
"""

import asyncio

import pytest

from communications.models import CommunicationEvent, Conversation, Message
from receptionist.bridge import VoiceBridge
from receptionist.bridge.transport import PCMU_8K
from tests.fakes.realtime_server import Say

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


class Line:
    audio_format = PCMU_8K

    def __init__(self):
        self.bridge = None
        self.states, self.items, self.done_items, self.controls = [], [], [], []
        self.audio_bytes = 0
        self.ended = None
        self.played_ms = 0  # what the line says it played of the current item (a phone learns it from marks)

    def attach(self, bridge):
        self.bridge = bridge

    def start(self):
        pass

    def opened(self, info, *, engine):
        self.info = info

    def state(self, state):
        self.states.append(state)

    def start_item(self, item_id):
        self.items.append(item_id)

    def audio(self, chunk):
        self.audio_bytes += len(chunk)

    def item_done(self, item_id, audio_ms):
        self.done_items.append(item_id)

    def stop_playback(self):
        asyncio.ensure_future(self.bridge.interrupted(self.items[-1], self.played_ms))

    def control(self, message):
        self.controls.append(message)

    async def end(self, reason, say, *, caller_gone):
        self.ended = (reason, say, caller_gone)

    def stats(self):
        return {"marks_late": 0}


async def until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_call_over_another_transport_speaks_its_audio_format_and_barges_in_at_what_it_played(
        spa, fake_realtime):
    line = Line()
    bridge = VoiceBridge(transport=line, call_details={"session_id": "line-call-0001"})
    await bridge.open()
    await bridge.start(consent=True)
    await until(lambda: line.done_items)  # the greeting, spoken
    session = fake_realtime.events("session.update")[0]["session"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["output"]["format"] == {"type": "audio/pcmu"}

    fake_realtime.hear("When are you open?")
    fake_realtime.reply(Say("Our opening hours are nine to five every day of the week, including weekends.",
                            audio_ms=3000))
    await bridge.caller_audio(bytes(8000))  # a second of the caller at 8 kHz mu-law
    await bridge.commit()  # this line's own turn detection decided, not a page
    await fake_realtime.wait_for("input_audio_buffer.commit")
    await until(lambda: len(line.done_items) == 2)
    line.played_ms = 900
    line.stop_playback()  # as when OpenAI hears the caller over Ava
    truncate = (await fake_realtime.wait_for("conversation.item.truncate"))[0]
    assert truncate["item_id"] == line.items[-1] and truncate["audio_end_ms"] == 900

    await bridge.line_closed()
    assert line.ended == ("caller_hung_up", "", True)
    conversation = await db(lambda: Conversation.objects.select_related("voice").get(pk=line.info["conversation_id"]))
    assert conversation.voice.end_reason == "caller_hung_up"
    said = await db(lambda: list(Message.objects.filter(conversation=conversation)))
    assert (said[1].author, said[1].content) == ("customer", "When are you open?")
    assert said[2].content.endswith("…") and said[2].metadata["heard_ms"] == 900  # only what was heard
    stats = await db(lambda: CommunicationEvent.objects.get(conversation=conversation, type="call_stats").data)
    assert stats["marks_late"] == 0  # the transport's own figures join the call's
