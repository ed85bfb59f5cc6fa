"""Call recordings made by the voice bridge: real speech through the real consumer (the call page, and the phone
through Twilio's media stream) with the fake OpenAI Realtime server; the file decoded back with soundfile.

Times are measured from the moment the test consents (t=0 of the recording) with the monotonic clock; audio
is sent at real-time pace, as a microphone would, so "where it was sent" is a time in the file.
"""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.storage import storages
from django.db import connections
from django.test import AsyncClient
from twilio.request_validator import RequestValidator

from analytics.services import close_stale_conversations
from communications.models import CallRecording, Channel, CommunicationEvent, Conversation, Message
from communications.recording_spool import ENCODING
from communications.services import start_conversation
from tests.browser.audio import speech
from tests.fakes.realtime_server import Say
from tests.fakes.twilio_media import FakeTwilioLine, speech_mulaw

from .conftest import db
from .test_phone_calls import lines, twilio_number, twilio_rest  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
FRAME_MS = 40
TOLERANCE = 0.1  # seconds: where a sound is in the file against where it was sent or heard
REPLY = ("HydraFacial cleanses, exfoliates and hydrates your skin in one hour, and there is no downtime at all, so "
         "you can go straight back to work afterwards.")


# --- reading a recording back -----------------------------------------------------------------------
def recording_of(conversation_id):
    return CallRecording.objects.get(conversation_id=conversation_id)


def decoded(recording):
    with storages["recordings"].open(recording.file.name, "rb") as handle:
        data, rate = soundfile.read(handle, dtype="float32")
    return data, rate


def loud(channel, rate, *, dbfs=-40.0):
    """Per 10 ms frame of one channel: louder than `dbfs` (RMS)?"""
    frame = rate // 100
    frames = channel[:len(channel) // frame * frame].reshape(-1, frame)
    return np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) > 10 ** (dbfs / 20)


def spans(mask):
    """The loud stretches of a 10 ms mask as (start s, end s); gaps under 300 ms (between words) are bridged."""
    found = []
    for n in np.flatnonzero(mask):
        if found and n / 100 - found[-1][1] < 0.3:
            found[-1][1] = (n + 1) / 100
        else:
            found.append([n / 100, (n + 1) / 100])
    return [tuple(span) for span in found]


def messages_of(conversation_id):
    return list(Message.objects.filter(conversation_id=conversation_id).values(
        "author", "content", "upstream_item_id", "recording_start_ms", "recording_end_ms"))


def events_of(conversation_id, kind):
    return [e.data for e in CommunicationEvent.objects.filter(conversation_id=conversation_id, type=kind)]


# --- driving a call page at real-time pace --------------------------------------------------------------
class Clock:
    def __init__(self):
        self.zero = time.monotonic()

    def now(self):
        return time.monotonic() - self.zero

    async def until(self, seconds):
        """Let the call run until `seconds` after consent (the caller listening, or silent)."""
        await asyncio.sleep(max(0.0, seconds - self.now()))


async def speak(page, clock, pcm):
    """Send `pcm` as the page's microphone would: 40 ms frames at real-time pace. Returns when it started."""
    size = FRAME_MS * 48
    started = clock.now()
    for n, at in enumerate(range(0, len(pcm), size)):
        await clock.until(started + (n + 1) * FRAME_MS / 1000)  # a frame goes once it has been captured
        await page.communicator.send_to(bytes_data=pcm[at:at + size])
    return started


def voiced_span(pcm, rate=24000, width=2):
    """Where speech is in a clip (start s, end s), by the same measure as loud()."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768 if width == 2 else pcm
    found = spans(loud(samples, rate))
    return found[0][0], found[-1][1]


async def test_a_web_call_is_recorded_as_the_caller_heard_it_from_consent_to_hang_up(spa, fake_realtime, open_call,
                                                                                     settings):
    fake_realtime.greeting_audio_ms = 1000
    fake_realtime.hear("Tell me about HydraFacial.")
    fake_realtime.reply(Say(REPLY, audio_ms=4000))  # all of it arrives at once; the caller hears one second
    words = speech("Tell me about HydraFacial.")
    page = await open_call(start=False)
    await asyncio.sleep(0.5)  # the caller reads the recording notice: nothing of this is recorded
    clock = Clock()
    await page.send(type="start", consent=True)
    await page.expect("audio.start")
    greeted_at = clock.now()
    greeting = await page.said()

    await clock.until(1.4)
    spoke_at = await speak(page, clock, words)
    await page.send(type="commit")
    committed_at = clock.now()
    reply = await page.expect("audio.start")
    reply_at = clock.now()
    await clock.until(reply_at + 1.0)  # a second of the answer plays, then the caller cuts in
    await page.send(type="interrupt", item_id=reply["item_id"], played_ms=1000)
    await fake_realtime.wait_for("conversation.item.truncate")
    await clock.until(reply_at + 1.8)
    hung_up_at = clock.now()
    await page.hang_up()

    conversation_id = page.session["conversation_id"]
    recording = await db(recording_of, conversation_id)
    assert recording.state == "complete" and recording.error == ""
    assert (recording.sample_rate, recording.channels, recording.content_type) == (24000, 2, "audio/flac")
    assert recording.file.name == f"calls/{recording.started_at:%Y/%m/%d}/{conversation_id}.flac"
    assert recording.size_bytes == storages["recordings"].size(recording.file.name) > 0
    assert not recording.spool_path and not any(settings.RECORDINGS_SPOOL_DIR.iterdir())  # moved, not copied
    # From consent to hang-up, not from the page's connection half a second earlier.
    assert recording.duration_ms / 1000 == pytest.approx(hung_up_at, abs=TOLERANCE)

    data, rate = await db(decoded, recording)
    assert rate == 24000 and data.shape[1] == 2
    assert len(data) / rate == pytest.approx(recording.duration_ms / 1000, abs=0.01)
    caller, ava = spans(loud(data[:, 0], rate)), spans(loud(data[:, 1], rate))

    # The caller, on the left, where their words were sent (and nothing else of theirs).
    first, last = voiced_span(words)
    assert len(caller) == 1
    assert caller[0][0] == pytest.approx(spoke_at + first, abs=TOLERANCE)
    assert caller[0][1] == pytest.approx(spoke_at + last, abs=TOLERANCE)
    # Ava, on the right: the greeting from the start, then the answer cut where the caller cut in.
    assert len(ava) == 2
    assert ava[0] == pytest.approx((greeted_at, greeted_at + 1.0), abs=TOLERANCE)
    assert ava[1][0] == pytest.approx(reply_at, abs=TOLERANCE)
    assert ava[1][1] - ava[1][0] == pytest.approx(1.0, abs=0.05)  # one second heard of four received
    assert not loud(data[int((ava[1][1] + 0.05) * rate):, 1], rate).any()  # nothing after the cut

    # Each message knows where it is in the file.
    lines = await db(messages_of, conversation_id)
    assert [m["author"] for m in lines] == ["assistant", "customer", "assistant"]
    hello, asked, answered = lines
    assert hello["content"] == greeting
    ms = lambda seconds: seconds * 1000  # noqa: E731
    assert hello["recording_start_ms"] == pytest.approx(ms(ava[0][0]), abs=60)
    assert hello["recording_end_ms"] == pytest.approx(ms(ava[0][1]), abs=60)
    assert asked["recording_start_ms"] == pytest.approx(ms(caller[0][0]), abs=60)
    assert asked["recording_end_ms"] == pytest.approx(ms(committed_at), abs=ms(TOLERANCE))
    assert answered["upstream_item_id"] == reply["item_id"]
    assert answered["recording_start_ms"] == pytest.approx(ms(ava[1][0]), abs=60)
    assert answered["recording_end_ms"] - answered["recording_start_ms"] == 1000


async def test_nothing_is_recorded_when_the_caller_declines(spa, fake_realtime, open_call, settings):
    page = await open_call(start=False)
    await page.send(type="start", consent=False)
    await page.expect("call.ended")
    await page.hang_up()
    assert not await db(lambda: CallRecording.objects.exists())
    assert not (settings.RECORDINGS_SPOOL_DIR.exists() and any(settings.RECORDINGS_SPOOL_DIR.iterdir()))


async def test_nothing_is_recorded_when_recordings_are_off(spa, fake_realtime, open_call, settings):
    settings.RECORDINGS_ENABLED = False
    page = await open_call()
    await page.said()
    await page.hang_up()
    conversation = await db(Conversation.objects.get, pk=page.session["conversation_id"])
    assert conversation.status == "completed"
    assert not await db(lambda: CallRecording.objects.exists())


async def test_a_spool_that_cannot_be_written_leaves_the_call_working_and_records_the_loss(
        spa, fake_realtime, open_call, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the spool directory should be")
    settings.RECORDINGS_SPOOL_DIR = blocker / "spool"
    fake_realtime.reply(Say("We are open nine to five."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="When are you open?")
    assert await page.said() == "We are open nine to five."
    await page.hang_up()

    conversation_id = page.session["conversation_id"]
    conversation = await db(Conversation.objects.get, pk=conversation_id)
    assert conversation.status == "completed"
    assert [m["content"] for m in await db(messages_of, conversation_id)][1:] == [
        "When are you open?", "We are open nine to five."]
    recording = await db(recording_of, conversation_id)
    assert recording.state == "failed" and "Error" in recording.error and not recording.file
    lost = await db(events_of, conversation_id, "recording_failed")
    assert len(lost) == 1 and lost[0]["error"] == recording.error


async def test_a_storage_that_refuses_the_file_keeps_the_spool_and_records_the_loss(
        spa, fake_realtime, open_call, settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the recordings should be")
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": blocker / "recordings"}}}
    page = await open_call()
    await page.said()
    await page.hang_up()

    recording = await db(recording_of, page.session["conversation_id"])
    assert recording.state == "failed" and recording.error
    assert len(await db(events_of, page.session["conversation_id"], "recording_failed")) == 1
    spooled = Path(recording.spool_path)
    assert spooled.is_file() and soundfile.info(str(spooled)).frames > 0  # nothing was thrown away


# --- a process that died mid-call -------------------------------------------------------------------
DYING_WRITER = textwrap.dedent("""
    import collections, json, sys, time
    from pathlib import Path
    import django
    django.setup()
    from communications.processes import this_process
    from receptionist.bridge.recording.recorder import SpoolWriter, WriterThread, _AVA, _CALLER
    from tests.browser.audio import speech

    notes = collections.deque()
    started = time.monotonic()
    writer = SpoolWriter(notes=notes, rate=24000, mulaw=False, path=Path(sys.argv[1]), conversation_id="dying",
                         started_at=None, started=started, done=print, failed=print)
    WriterThread.shared().add(writer)
    words, tone = speech("I would like to book a facial please."), bytes(range(256)) * 375
    for n in range(0, len(words), 1920):
        time.sleep(0.04)
        notes.append((_CALLER, time.monotonic(), words[n:n + 1920]))
        notes.append((_AVA, time.monotonic(), "item_1", tone[:1920]))
    print(json.dumps({"stamp": this_process(), "spoke_ms": round((time.monotonic() - started) * 1000)}), flush=True)
    while Path(sys.argv[1]).stat().st_size < 4096 or writer.frames < 24000 * 2:
        time.sleep(0.05)
    print(json.dumps({"written_ms": writer.frames * 1000 // 24000}), flush=True)
    time.sleep(60)  # killed before this ends
""")


def test_the_closer_keeps_a_dead_process_recording_as_partial_up_to_what_it_wrote(transactional_db, settings,
                                                                                  tmp_path):
    import json

    spool = tmp_path / "dying.flac"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ava.settings", "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.Popen([sys.executable, "-c", DYING_WRITER, str(spool)], stdout=subprocess.PIPE, text=True,
                               env=env, cwd=Path(__file__).parents[2])
    try:
        spoke = json.loads(process.stdout.readline())
        written = json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGKILL)  # mid-call: no close, no end of stream
        process.wait(timeout=10)
    assert spool.is_file()

    conversation = start_conversation(channel=Channel.VOICE, metadata={"held_by": spoke["stamp"]})
    CallRecording.objects.create(conversation=conversation, spool_path=str(spool))
    assert close_stale_conversations() == [conversation.pk]

    recording = recording_of(conversation.pk)
    assert recording.state == "partial" and recording.finished_at is not None
    assert not spool.exists() and not recording.spool_path
    data, rate = decoded(recording)
    assert rate == 24000 and data.shape[1] == 2
    # Up to the last frame written before the kill: at least what the writer had encoded, at most what it was given.
    assert written["written_ms"] - 1500 <= recording.duration_ms <= spoke["spoke_ms"] + 100
    assert len(data) * 1000 // rate == pytest.approx(recording.duration_ms, abs=10)
    assert loud(data[:, 0], rate).any() and loud(data[:, 1], rate).any()
    assert events_of(conversation.pk, "recording_partial") == [
        {"duration_ms": recording.duration_ms, "reason": "server_gone"}]


def test_the_closer_leaves_a_recording_still_being_written_alone(transactional_db, tmp_path):
    spool = tmp_path / "live.flac"
    with soundfile.SoundFile(str(spool), "w", samplerate=24000, channels=2, **ENCODING) as out:
        out.write(np.zeros((24000, 2), dtype=np.int16))
    conversation = start_conversation(channel=Channel.VOICE, metadata={})
    CallRecording.objects.create(conversation=conversation, spool_path=str(spool))
    from communications.recording_spool import finish_abandoned_recording

    assert finish_abandoned_recording(conversation_id=conversation.pk, writer_gone=False) is None
    assert recording_of(conversation.pk).state == "recording" and spool.exists()
    assert finish_abandoned_recording(conversation_id=conversation.pk, writer_gone=False,
                                      now=time.time() + 600) == "partial"


# --- the phone ------------------------------------------------------------------------------------------
PUBLIC_URL = "https://ava.example.com"
STREAM_URL = "wss://ava.example.com/ws/twilio/media"
TOKEN = "test-auth-token"
CALL_SID = "CA" + "7" * 32


async def dial_phone_call():
    """Twilio's incoming-call webhook, then its media stream on the real application: the line, connected."""
    from xml.etree import ElementTree

    from ava.asgi import application

    params = {"CallSid": CALL_SID, "AccountSid": "AC" + "1" * 32, "From": "+12125550142", "To": "+12125550100",
              "CallStatus": "ringing", "Direction": "inbound"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/voice", params)
    response = await AsyncClient().post("/webhooks/twilio/voice", params, headers={"X-Twilio-Signature": signature})
    stream = ElementTree.fromstring(response.content).find("./Connect/Stream")
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    communicator = WebsocketCommunicator(application, "/ws/twilio/media", headers=[
        (b"host", b"ava.example.com"),
        (b"x-twilio-signature", RequestValidator(TOKEN).compute_signature(STREAM_URL, {}).encode())])
    connected, _ = await communicator.connect(timeout=5)
    assert connected

    async def receive():
        output = await communicator.receive_output(timeout=60)
        if output["type"] == "websocket.close":
            raise ConnectionError(output.get("code"))
        return output["text"]

    line = FakeTwilioLine(send=lambda text: communicator.send_to(text_data=text), receive=receive, call_sid=CALL_SID,
                          custom_parameters=parameters)
    line.communicator = communicator
    return line


async def test_a_phone_call_is_recorded_at_8_khz_with_both_sides_in_place(spa, fake_realtime, settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = PUBLIC_URL
    fake_realtime.greeting_audio_ms = 800
    fake_realtime.hear("What are your hours on Saturday?")
    fake_realtime.reply(Say("We are open from nine to three on Saturdays.", audio_ms=1500))
    words = speech_mulaw("What are your hours on Saturday?")
    line = await dial_phone_call()
    try:
        clock = Clock()  # the stream's start is the caller's consent (they stayed on after the notice)
        await line.connect()
        await line.wait_for_mark()
        greeted_at = next(at for at, message in line.received if message.get("event") == "media")
        await line.wait_until_quiet()
        await clock.until(1.2)
        spoke_at = clock.now()
        await line.say(words)
        await fake_realtime.wait_for("input_audio_buffer.commit", timeout=3)
        await line.wait_for_mark(count=len(line.marks_echoed) + 1, timeout=5)
        await line.wait_until_quiet()
        await clock.until(clock.now() + 0.3)
        hung_up_at = clock.now()
        await line.hang_up()
        await line.communicator.wait(timeout=5)
    finally:
        await line.close()
        await sync_to_async(connections.close_all)()

    conversation_id = await db(lambda: Conversation.objects.get().pk)
    recording = await db(recording_of, conversation_id)
    assert recording.state == "complete"
    assert (recording.sample_rate, recording.channels) == (8000, 2)
    assert recording.duration_ms / 1000 == pytest.approx(hung_up_at, abs=TOLERANCE)
    data, rate = await db(decoded, recording)
    assert rate == 8000 and data.shape[1] == 2
    caller, ava = spans(loud(data[:, 0], rate)), spans(loud(data[:, 1], rate))
    mulaw = np.frombuffer(words, dtype=np.uint8)
    from receptionist.bridge.recording.timeline import MULAW

    first, last = voiced_span(MULAW[mulaw].astype(np.float32) / 32768, rate=8000, width=None)
    assert len(caller) == 1
    assert caller[0][0] == pytest.approx(spoke_at + first, abs=TOLERANCE)
    assert caller[0][1] == pytest.approx(spoke_at + last, abs=TOLERANCE)
    assert len(ava) == 2 and ava[0] == pytest.approx((greeted_at, greeted_at + 0.8), abs=TOLERANCE)
    assert ava[1][1] - ava[1][0] == pytest.approx(1.5, abs=0.05)
    lines = await db(messages_of, conversation_id)
    assert [(m["author"], m["recording_end_ms"] - m["recording_start_ms"] > 0) for m in lines] == [
        ("assistant", True), ("customer", True), ("assistant", True)]
    assert lines[2]["recording_start_ms"] == pytest.approx(ava[1][0] * 1000, abs=60)
    assert lines[1]["recording_start_ms"] == pytest.approx(caller[0][0] * 1000, abs=60)


async def test_a_phone_call_taken_back_after_an_unanswered_transfer_goes_on_in_the_same_recording(
        spa, twilio_number, twilio_rest, lines):
    from tests.fakes.realtime_server import Call

    from .test_phone_calls import PUBLIC_URL as PHONE_URL, answer, ask_for_a_person, handed_over, signed_post, \
        stream_parameters

    fake = twilio_number
    fake.greeting_audio_ms = 600
    clock = Clock()
    line, _ = await lines.dial(await answer())
    await ask_for_a_person(fake, line)
    await until(lambda: twilio_rest.call_updates, timeout=8)
    await line.hang_up()
    call = await handed_over()
    await until_async(lambda: recording_of(call.conversation_id).state == "complete")
    first = await db(recording_of, call.conversation_id)
    first_ms = first.duration_ms

    await clock.until(clock.now() + 1.0)  # the front desk rings; nobody answers
    dialed = await signed_post(PHONE_URL + "/webhooks/twilio/voice/dialed",
                               {"CallSid": call.call_sid, "DialCallStatus": "no-answer"})
    fake.hear("This is Maya Lopez please call me back")
    fake.reply(Call("transfer_to_staff", {"reason": "Maya Lopez: call back", "callback_phone": "+12125550142"}),
               Call("end_call", {"reason": "message taken"}))
    fake.reply(Say("Thank you Maya, the team will call you back. Goodbye!", audio_ms=1200))
    line, _ = await lines.dial(stream_parameters(dialed.content))
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("This is Maya Lopez please call me back"))  # no pause: one turn
    await until(lambda: line.closed, timeout=10)
    ended_at = clock.now()

    def all_placed():
        return all(m["recording_start_ms"] is not None for m in messages_of(call.conversation_id))
    await until_async(all_placed, timeout=10)
    recording = await db(recording_of, call.conversation_id)
    assert recording.pk == first.pk and recording.state == "complete" and recording.file.name != first.file.name
    assert not storages["recordings"].exists(first.file.name)  # one file for the call, not two
    data, rate = await db(decoded, recording)
    assert rate == 8000 and len(data) * 1000 // rate == pytest.approx(recording.duration_ms, abs=10)
    # The first part, the time it rang (silence, at least the second waited), then the second; never longer
    # than the whole call (the clock started before the first consent).
    assert first_ms + 1000 < recording.duration_ms <= ended_at * 1000 + 100
    lines_ = await db(messages_of, call.conversation_id)
    later = [m for m in lines_ if m["recording_start_ms"] >= first_ms]
    assert [m["author"] for m in later] == ["assistant", "customer", "assistant"]
    left, right = loud(data[:, 0], rate), loud(data[:, 1], rate)
    for message in later:
        side = left if message["author"] == "customer" else right
        start, end = message["recording_start_ms"] // 10, message["recording_end_ms"] // 10
        assert side[start:end].mean() > 0.5, message  # the words are where the message says
    assert not left[first_ms // 10 + 10:later[0]["recording_start_ms"] // 10 - 10].any()  # the ringing


async def until_async(condition, timeout=5.0):
    """Until `condition` (a database read) holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await db(condition):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
