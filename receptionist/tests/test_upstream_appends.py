"""The caller's audio goes up to OpenAI in 100 ms appends (VOICE_UPSTREAM_APPEND_MS), not frame by frame.

Fewer messages is the point (bench/README.md, "Voice relay"); what must not change is what OpenAI hears:
a commit carries every frame sent before it, and a barge-in's cancel and truncate are not held behind
the audio being gathered.
"""

import base64

from receptionist.engines.simulated import BYTES_PER_MS
from tests.fakes.realtime_server import Say


def appended_ms(events):
    return sum(len(base64.b64decode(e["audio"])) for e in events) // BYTES_PER_MS


async def test_a_commit_carries_every_frame_the_caller_sent_in_fewer_appends(spa, fake_realtime, open_call):
    page = await open_call()
    await page.said()
    await page.speak(520, frame_ms=40)  # 13 frames; the last 40 ms is still being gathered
    await page.send(type="commit")
    await fake_realtime.wait_for("input_audio_buffer.commit")

    session = fake_realtime.session
    kinds = [e["type"] for e in session.events()]
    appends = session.events("input_audio_buffer.append")
    assert appended_ms(appends) == 520
    assert len(appends) == 5  # 120 ms each (three frames), and the last 40 ms sent just before the commit
    assert kinds.index("input_audio_buffer.commit") > max(i for i, k in enumerate(kinds) if k.endswith(".append"))
    committed = next(item for item in session.simulator.items if item.get("role") == "user")
    assert committed["audio_ms"] == 520  # OpenAI heard the whole turn
    await page.hang_up()


async def test_a_barge_in_goes_up_ahead_of_the_audio_being_gathered(spa, fake_realtime, open_call):
    fake_realtime.reply(Say("We are open nine to five every day of the week, weekends too.", audio_ms=3000,
                            pace=0.05))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="When are you open?")
    start = await page.expect("audio.start")
    while page.audio_ms(start["item_id"]) < 300:
        await page.next()

    await page.speak(80, frame_ms=40)  # the caller starts speaking: less than one append so far
    await page.send(type="interrupt", item_id=start["item_id"], played_ms=200)
    await fake_realtime.wait_for("conversation.item.truncate")
    assert not fake_realtime.session.events("input_audio_buffer.append")  # nothing held the barge-in back

    await page.speak(40, frame_ms=40)  # the third frame completes the append
    (append,) = await fake_realtime.wait_for("input_audio_buffer.append")
    assert appended_ms([append]) == 120  # the frames gathered before the barge-in were not lost
    kinds = [e["type"] for e in fake_realtime.session.events()]
    assert kinds.index("response.cancel") < kinds.index("conversation.item.truncate") < kinds.index(
        "input_audio_buffer.append")
    await page.hang_up()


async def test_with_appends_of_zero_every_frame_goes_up_at_once(spa, fake_realtime, open_call, settings):
    settings.VOICE_UPSTREAM_APPEND_MS = 0
    page = await open_call()
    await page.said()
    await page.speak(200, frame_ms=40)
    appends = await fake_realtime.wait_for("input_audio_buffer.append", count=5)
    assert appended_ms(appends) == 200
    await page.hang_up()


async def test_audio_still_being_gathered_when_the_session_drops_reaches_the_next_one(spa, fake_realtime, open_call):
    page = await open_call()
    await page.said()
    await page.speak(80, frame_ms=40)  # gathered, not yet an append
    await page.drain(quiet=0.1)
    await fake_realtime.session.drop()
    await fake_realtime.wait_for_sessions(2)
    await page.said()  # the "I'm back" line
    await page.speak(80, frame_ms=40)
    await page.send(type="commit")
    await fake_realtime.wait_for("input_audio_buffer.commit")
    assert not fake_realtime.sessions[0].events("input_audio_buffer.append")
    assert appended_ms(fake_realtime.sessions[1].events("input_audio_buffer.append")) == 160  # nothing lost
    await page.hang_up()
