"""Phone calls end to end: Twilio's webhook, then its Media Stream on the real ASGI application, with the
tests' phone line (tests/fakes/twilio_media.py) on one side and the fake OpenAI Realtime server in
audio/pcmu on the other. Nothing of ours is patched."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient
from twilio.request_validator import RequestValidator

from communications.models import Customer, Message, VoiceCallDetail
from receptionist.engines.simulated import speech_ms
from scheduling.models import Appointment
from tests.fakes.realtime_server import Say
from tests.fakes.twilio_media import FakeTwilioLine, speech_mulaw

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)
PUBLIC_URL = "https://ava.example.com"
STREAM_URL = "wss://ava.example.com/ws/twilio/media"
TOKEN = "test-auth-token"
CALLER = "+12125550142"
CALL_SID = "CA" + "5" * 32
FRONT_DESK = "+12125550199"


@pytest.fixture
def twilio_number(settings, fake_realtime):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = PUBLIC_URL
    return fake_realtime


async def answer(call_sid=CALL_SID, caller=CALLER):
    """Twilio's "a call comes in" webhook, signed: returns the <Stream>'s custom parameters."""
    params = {"CallSid": call_sid, "AccountSid": "AC" + "1" * 32, "From": caller, "To": "+12125550100",
              "CallStatus": "ringing", "Direction": "inbound"}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "/webhooks/twilio/voice", params)
    response = await AsyncClient().post("/webhooks/twilio/voice", params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    from xml.etree import ElementTree
    stream = ElementTree.fromstring(response.content).find("./Connect/Stream")
    assert stream.get("url") == STREAM_URL
    return {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


class Lines:
    def __init__(self):
        self.open = []

    async def dial(self, parameters, *, call_sid=CALL_SID, signature=True):
        from ava.asgi import application

        headers = [(b"host", b"ava.example.com")]
        if signature:
            signed = RequestValidator(TOKEN).compute_signature(STREAM_URL, {})
            headers.append((b"x-twilio-signature", signed.encode()))
        communicator = WebsocketCommunicator(application, "/ws/twilio/media", headers=headers)
        connected, code = await communicator.connect(timeout=5)
        if not connected:
            return None, code

        async def receive():
            output = await communicator.receive_output(timeout=60)
            if output["type"] == "websocket.close":
                raise ConnectionError(output.get("code"))
            return output["text"]

        async def send(text):
            await communicator.send_to(text_data=text)

        line = FakeTwilioLine(send=send, receive=receive, call_sid=call_sid, custom_parameters=parameters)
        line.communicator = communicator
        self.open.append(line)
        await line.connect()
        return line, None


@pytest.fixture
async def lines():
    from asgiref.sync import sync_to_async
    from django.db import connections

    opened = Lines()
    yield opened
    for line in opened.open:
        await line.close()
        await line.communicator.disconnect(timeout=5)
    await sync_to_async(connections.close_all)()


async def until(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def detail():
    return VoiceCallDetail.objects.select_related("conversation", "conversation__customer").get(call_sid=CALL_SID)


async def ended(timeout=5.0):
    """The call's details once its conversation has ended."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        call = await db(detail)
        if not call.conversation.is_active:
            return call
        assert asyncio.get_running_loop().time() < deadline, "the call never ended"
        await asyncio.sleep(0.05)


async def handed_over(timeout=5.0):
    """The call's details once Ava's stream has stopped for a transfer (the call itself goes on)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        call = await db(detail)
        if call.end_reason == "transferred":
            return call
        assert asyncio.get_running_loop().time() < deadline, "the call was never handed over"
        await asyncio.sleep(0.05)


async def test_a_caller_is_greeted_in_mulaw_and_answered_after_the_server_commits_their_turn(spa, twilio_number,
                                                                                             lines):
    fake = twilio_number
    fake.hear("What are your hours on Saturday?")
    fake.reply(Say("We are open from nine to three on Saturdays."))
    line, _ = await lines.dial(await answer())

    # The session speaks the phone's own format both ways: mu-law passed through, no transcoding.
    await fake.wait_for("session.update")
    audio = fake.events("session.update")[0]["session"]["audio"]
    assert audio["input"]["format"] == {"type": "audio/pcmu"} and audio["output"]["format"] == {"type": "audio/pcmu"}
    assert audio["input"]["turn_detection"] is None  # the server's own smart commit decides

    await line.wait_for("mark")
    await line.wait_until_quiet()
    greeting = await db(lambda: Message.objects.filter(author="assistant").first().content)
    assert "recorded" in greeting
    assert line.played_ms == pytest.approx(speech_ms(greeting), abs=20)
    assert set(line.played) != {0xFF}  # a tone, not silence

    await line.say(speech_mulaw("What are your hours on Saturday?"))
    await fake.wait_for("input_audio_buffer.commit", timeout=3)
    await until(lambda: len(line.marks_echoed) > 1 and not line.queued_ms, timeout=8)
    await line.wait_until_quiet()
    await line.hang_up()

    call = await ended()
    assert call.stream_sid == line.stream_sid and call.source == "phone"
    words = await db(lambda: list(Message.objects.filter(conversation=call.conversation).values_list("author",
                                                                                                     "content")))
    assert ("customer", "What are your hours on Saturday?") in words
    assert ("assistant", "We are open from nine to three on Saturdays.") in words
    assert call.end_reason == "caller_hung_up"
    # The caller's audio went up in 100 ms appends, the pre-roll first: one commit, one turn.
    assert len(fake.events("input_audio_buffer.commit")) == 1


async def test_an_unsigned_stream_is_refused_before_it_opens(spa, twilio_number, lines):
    parameters = await answer()
    line, code = await lines.dial(parameters, signature=False)
    assert line is None
    assert not fake_sessions(twilio_number)


def fake_sessions(fake):
    return fake.sessions


async def test_a_stream_whose_token_is_not_for_its_call_is_closed_before_any_audio(spa, twilio_number, lines):
    parameters = await answer()
    line, _ = await lines.dial(parameters, call_sid="CA" + "6" * 32)  # another call's token
    await until(lambda: line.closed, timeout=3)
    assert not line.messages("media") and not twilio_number.sessions
    call = await db(detail)
    assert call.stream_sid == "" and call.conversation.is_active  # untouched: the real stream may still come


async def test_a_returning_caller_is_greeted_by_first_name_and_ava_knows_their_appointments(spa, twilio_number,
                                                                                            lines):
    from datetime import timedelta

    from django.utils import timezone

    def book():
        maya = Customer.objects.create(name="Maya Lopez", phone=CALLER)
        Appointment.objects.create(customer=maya, service=spa.botox, provider=spa.dana,
                                   start=timezone.now() + timedelta(days=3),
                                   end=timezone.now() + timedelta(days=3, minutes=30))
    await db(book)
    line, _ = await lines.dial(await answer())
    await twilio_number.wait_for("response.create")
    instructions = twilio_number.events("session.update")[0]["session"]["instructions"]
    assert "Maya Lopez" in instructions and "Botox with Dana Reyes" in instructions
    assert "(212) 555-0142" in instructions
    greeting = twilio_number.events("response.create")[0]["response"]["instructions"]
    assert "Hi Maya!" in greeting
    await line.hang_up()


async def test_barge_in_clears_the_line_at_once_and_truncates_at_what_the_marks_prove_was_heard(
        spa, twilio_number, lines):
    fake = twilio_number
    fake.hear("Tell me about the facials.")
    fake.reply(Say("Our facials are many. " * 10, audio_ms=6000))
    fake.hear("Just tell me the prices please")
    line, _ = await lines.dial(await answer())
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("Tell me about the facials."))
    await fake.wait_for("input_audio_buffer.commit", timeout=3)
    marks_before = len(line.marks_echoed)
    await line.wait_for_mark(count=marks_before + 8, timeout=5)  # about 800 ms of the answer heard

    await line.say(speech_mulaw("Just tell me the prices please"))
    await until(lambda: line.clears, timeout=3)
    await fake.wait_for("conversation.item.truncate", timeout=3)
    truncate = fake.events("conversation.item.truncate")[0]
    heard_before_clear = [int(name.rsplit(":", 1)[1]) for name, at in line.marks_echoed
                          if at < line.clears[0] and name.startswith(truncate["item_id"] + ":")]
    # The truncate is at a mark the line echoed: the last one the server had when it decided (a mark echoed
    # while its clear was on the way may still reach the line first), never a wall-clock guess.
    assert truncate["audio_end_ms"] in heard_before_clear
    assert max(heard_before_clear) - 100 <= truncate["audio_end_ms"] <= max(heard_before_clear)
    assert 600 <= truncate["audio_end_ms"] < 6000
    # Nothing more of the interrupted answer was played: its pending marks came back with the clear, no later.
    await asyncio.sleep(0.3)
    assert not [name for name, at in line.marks_echoed
                if name.startswith(truncate["item_id"] + ":") and at > line.clears[0] + 0.05]
    await line.hang_up()
    call = await ended()
    assert call.interruption_count == 1


async def test_the_line_echo_of_avas_own_voice_does_not_interrupt_her(spa, twilio_number, lines):
    fake = twilio_number
    line, _ = await lines.dial(await answer())
    await line.wait_for("mark")
    # While the greeting plays, the line carries a faint echo of it (-43 dBFS): no clear, no truncate.
    import subprocess
    echo = subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", "-", "synth", "1",
                           "sine", "440", "vol", "0.01"], check=True, capture_output=True).stdout
    await line.say(echo)
    await line.wait_until_quiet()
    assert not line.clears and not fake.events("conversation.item.truncate")
    await line.hang_up()


async def test_when_openai_cannot_be_reached_the_caller_hears_why_and_is_put_through_to_the_front_desk(
        spa, twilio_number, lines, settings, closed_port):
    from tests.fakes.twilio_server import FakeTwilio

    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{closed_port}/v1"
    settings.FRONT_DESK_PHONE = "+12125550199"
    with FakeTwilio(account_sid="AC" + "1" * 32, auth_token=TOKEN) as rest:
        settings.TWILIO_ACCOUNT_SID = rest.account_sid
        settings.TWILIO_API_BASE_URL = rest.base_url
        settings.TWILIO_FROM_NUMBER = "+12125550100"
        line, _ = await lines.dial(await answer())
        await until(lambda: rest.call_updates, timeout=5)
        await until(lambda: line.closed, timeout=3)

    update = rest.call_updates[0]
    assert update["sid"] == CALL_SID
    from xml.etree import ElementTree
    twiml = ElementTree.fromstring(update["Twiml"])
    assert [child.tag for child in twiml] == ["Say", "Dial"]
    assert twiml.find("Say").text == ("I'm sorry, our assistant is not available right now. Let me put you through "
                                      "to the front desk.")
    dial = twiml.find("Dial")
    assert dial.find("Number").text == FRONT_DESK and dial.get("action") == PUBLIC_URL + "/webhooks/twilio/voice/dialed"
    call = await ended()
    assert call.end_reason == "upstream_unavailable"


async def hear_the_greeting_and_ask_the_hours(fake, line):
    fake.hear("What are your hours on Saturday?")
    fake.reply(Say("We are open from nine to three on Saturdays."))
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("What are your hours on Saturday?"))
    await fake.wait_for("input_audio_buffer.commit", timeout=3)
    await until(lambda: len(line.marks_echoed) > 1 and not line.queued_ms, timeout=8)
    await line.wait_until_quiet()


async def test_openai_lost_mid_call_is_reconnected_and_the_caller_hears_the_apology_and_goes_on(
        spa, twilio_number, twilio_rest, lines):
    from communications.models import CommunicationEvent

    fake = twilio_number
    line, _ = await lines.dial(await answer())
    await hear_the_greeting_and_ask_the_hours(fake, line)

    apology = "Sorry, the line dropped for a moment. Anything else about our hours?"
    fake.reply(Say(apology))
    heard_before = line.played_ms
    await fake.session.drop()
    await fake.wait_for_sessions(2)
    await until(lambda: line.played_ms - heard_before >= speech_ms(apology) - 20 and not line.queued_ms, timeout=8)
    assert line.played_ms - heard_before == pytest.approx(speech_ms(apology), abs=20)

    # The new session still speaks the phone's format, knows the caller, and has the call so far.
    second = fake.sessions[1]
    session = second.events("session.update")[0]["session"]
    assert session["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert "(212) 555-0142" in session["instructions"]
    seeded = [e["item"]["content"][0]["text"] for e in second.events("conversation.item.create")]
    assert seeded[1:] == ["What are your hours on Saturday?", "We are open from nine to three on Saturdays."]

    # ...and the call goes on.
    fake.hear("How much is Botox?")
    fake.reply(Say("Botox is twelve dollars a unit."))
    marks = len(line.marks_echoed)
    await line.say(speech_mulaw("How much is Botox?"))
    await until(lambda: len(line.marks_echoed) > marks and not line.queued_ms, timeout=8)
    await line.wait_until_quiet()
    await line.hang_up()
    call = await ended()
    assert call.end_reason == "caller_hung_up" and call.conversation.status == "completed"
    assert [w for _, w in await db(transcript)][-4:] == [
        "We are open from nine to three on Saturdays.", apology, "How much is Botox?", "Botox is twelve dollars a unit."]
    errors = await db(lambda: list(CommunicationEvent.objects.filter(conversation=call.conversation, type="error")
                                   .values_list("data__where", flat=True)))
    assert errors == ["upstream_lost"] and not twilio_rest.call_updates


async def test_when_openai_cannot_be_reached_again_the_caller_is_put_through_to_the_open_front_desk(
        spa, twilio_number, twilio_rest, lines):
    from xml.etree import ElementTree

    fake = twilio_number
    line, _ = await lines.dial(await answer())
    await hear_the_greeting_and_ask_the_hours(fake, line)
    fake.refuse_connections = 5
    await fake.session.drop()
    await until(lambda: twilio_rest.call_updates, timeout=8)

    twiml = ElementTree.fromstring(twilio_rest.call_updates[0]["Twiml"])
    assert [child.tag for child in twiml] == ["Say", "Dial"]
    assert twiml.find("Say").text == ("I'm sorry, our assistant is not available right now. Let me put you through "
                                      "to the front desk.")
    dial = twiml.find("Dial")
    assert dial.find("Number").text == FRONT_DESK and dial.get("action") == PUBLIC_URL + "/webhooks/twilio/voice/dialed"
    await until(lambda: line.closed, timeout=3)
    call = await ended()
    assert call.end_reason == "upstream_lost" and call.conversation.status == "failed"

    # Nobody answers: Ava cannot take this call back (OpenAI is gone), so the caller records a message.
    dialed = await signed_post(dial.get("action"), {"CallSid": CALL_SID, "DialCallStatus": "no-answer"})
    assert ElementTree.fromstring(dialed.content).find("Record") is not None


async def test_when_openai_cannot_be_reached_again_out_of_hours_the_caller_may_leave_a_message(
        spa, twilio_number, twilio_rest, lines, time_machine):
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from xml.etree import ElementTree

    time_machine.move_to(datetime(2026, 12, 2, 22, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(
        ZoneInfo("UTC")), tick=True)
    fake = twilio_number
    line, _ = await lines.dial(await answer())
    await hear_the_greeting_and_ask_the_hours(fake, line)
    fake.refuse_connections = 5
    await fake.session.drop()
    await until(lambda: twilio_rest.call_updates, timeout=8)

    twiml = ElementTree.fromstring(twilio_rest.call_updates[0]["Twiml"])
    assert [child.tag for child in twiml] == ["Say", "Record", "Say", "Hangup"]
    assert twiml.find("Say").text.startswith("I'm sorry, our assistant is not available right now. Please leave "
                                             "your name, your number and a short message")
    assert twiml.find("Record").get("action") == PUBLIC_URL + "/webhooks/twilio/voice/message"
    call = await ended()
    assert call.end_reason == "upstream_lost"


@pytest.fixture
def twilio_rest(settings, twilio_number):
    """Twilio's REST API (the local fake) and a front desk number: transfers, and texts really sent."""
    from tests.fakes.twilio_server import FakeTwilio

    settings.FRONT_DESK_PHONE = FRONT_DESK
    with FakeTwilio(account_sid="AC" + "1" * 32, auth_token=TOKEN) as rest:
        settings.TWILIO_ACCOUNT_SID = rest.account_sid
        settings.TWILIO_API_BASE_URL = rest.base_url
        settings.TWILIO_FROM_NUMBER = "+12125550100"
        settings.SMS_DELIVERY = "twilio"
        yield rest


async def signed_post(url, params=None):
    params = params or {}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return await AsyncClient().post(url.removeprefix(PUBLIC_URL), params, headers={"X-Twilio-Signature": signature})


async def ask_for_a_person(fake, line):
    from tests.fakes.realtime_server import Call

    fake.hear("Can I talk to someone at the front desk?")
    fake.reply(Call("transfer_to_staff", {"reason": "Wants to ask about redness after her peel"}))
    fake.reply(Say("Of course, I'm putting you through to the front desk now."))
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("Can I talk to someone at the front desk?"))


def tool_outputs(fake):
    return [json.loads(e["item"]["output"]) for e in fake.events("conversation.item.create")
            if e["item"]["type"] == "function_call_output"]


async def test_in_opening_hours_a_caller_who_asks_for_a_person_is_put_through_with_a_whisper(
        spa, twilio_number, twilio_rest, lines):
    from xml.etree import ElementTree

    line, _ = await lines.dial(await answer())
    await ask_for_a_person(twilio_number, line)
    await until(lambda: twilio_rest.call_updates, timeout=8)

    assert tool_outputs(twilio_number)[0]["live"] is True
    # Ava's "putting you through" was heard in full before the line was handed over.
    assert not line.queued_ms
    update = twilio_rest.call_updates[0]
    assert update["sid"] == CALL_SID
    dial = ElementTree.fromstring(update["Twiml"]).find("Dial")
    assert dial.get("action") == PUBLIC_URL + "/webhooks/twilio/voice/dialed" and dial.get("timeout") == "20"
    number = dial.find("Number")
    assert number.text == "+12125550199"

    # Twilio ends the stream (the new TwiML replaces it); the call goes on, ringing the desk.
    await line.hang_up()
    call = await handed_over()
    assert call.conversation.is_active and call.conversation.escalated and call.transfer_outcome == "ringing"

    # Staff pick up and hear the whisper; then the dial ends answered.
    whisper = await signed_post(number.get("url"))
    assert whisper.status_code == 200
    said = ElementTree.fromstring(whisper.content).find("Say").text
    assert "(212) 555-0142" in said and "redness after her peel" in said
    dialed = await signed_post(dial.get("action"), {"CallSid": CALL_SID, "DialCallStatus": "completed"})
    assert [child.tag for child in ElementTree.fromstring(dialed.content)] == ["Hangup"]
    call = await ended()
    assert call.transfer_outcome == "completed" and call.end_reason == "transferred"


def stream_parameters(twiml):
    from xml.etree import ElementTree

    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")
    assert stream is not None and stream.get("url") == STREAM_URL, twiml
    return {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


def transcript():
    return list(Message.objects.filter(conversation__voice__call_sid=CALL_SID).order_by("position")
                .values_list("author", "content"))


async def test_when_nobody_at_the_front_desk_answers_ava_takes_the_call_back_and_a_message(
        spa, twilio_number, twilio_rest, lines):
    from communications.models import CommunicationEvent, Conversation
    from receptionist.phone.caller import TAKE_A_MESSAGE
    from tests.fakes.realtime_server import Call

    fake = twilio_number
    line, _ = await lines.dial(await answer())
    await ask_for_a_person(fake, line)
    await until(lambda: twilio_rest.call_updates, timeout=8)
    await line.hang_up()
    await handed_over()

    # Nobody picks up: Twilio asks what next, and the call goes back to Ava's media stream, resuming.
    dialed = await signed_post(PUBLIC_URL + "/webhooks/twilio/voice/dialed",
                               {"CallSid": CALL_SID, "DialCallStatus": "no-answer"})
    parameters = stream_parameters(dialed.content)
    assert parameters["callSid"] == CALL_SID and parameters["resume"] == "transfer_unanswered"
    fake.hear("It's Maya Lopez. My skin is still red after the peel, please call me back on this number.")
    fake.reply(Call("transfer_to_staff", {"reason": "Maya Lopez: still red after her peel", "callback_phone": CALLER}),
               Call("end_call", {"reason": "message taken"}))
    fake.reply(Say("Thank you Maya, the team will call you back. Goodbye!"))
    first_words = await db(transcript)
    line, _ = await lines.dial(parameters)

    # No second greeting or recording notice: Ava says nobody answered and offers to take a message, on a
    # session seeded with the call so far and told to take the message.
    await line.wait_for("mark")
    await line.wait_until_quiet()
    second = fake.sessions[1]
    assert TAKE_A_MESSAGE.strip() in second.events("session.update")[0]["session"]["instructions"]
    seeded = [e["item"]["content"][0]["text"] for e in second.events("conversation.item.create")]
    assert seeded == [words for _, words in first_words]
    assert seeded[-1] == "Of course, I'm putting you through to the front desk now."
    opening = second.events("response.create")[0]["response"]["instructions"]
    assert "nobody at the front desk could pick up just now" in opening and "recorded" not in opening

    await line.say(speech_mulaw("It's Maya Lopez. My skin is still red after the peel."))
    await until(lambda: line.closed, timeout=10)
    call = await ended()
    assert call.end_reason == "assistant_ended" and call.transfer_outcome == "no-answer"
    assert len(twilio_rest.call_updates) == 1  # the message is taken, not a second transfer
    message = tool_outputs(fake)[-2]  # transfer_to_staff's answer, then end_call's
    assert message["transferred"] is True and "live" not in message and "call you back" in message["what_happens_next"]

    # One conversation, in order, the greeting once; one consent.
    assert await db(Conversation.objects.count) == 1
    words = await db(transcript)
    assert words[:len(first_words)] == first_words
    assert words[len(first_words):] == [
        ("assistant", "Sorry, nobody at the front desk could pick up just now. I can take a message and have "
                      "someone call you back. May I have your name?"),
        ("customer", "It's Maya Lopez. My skin is still red after the peel, please call me back on this number."),
        ("assistant", "Thank you Maya, the team will call you back. Goodbye!")]
    assert [author for author, words in words if "recorded" in words] == ["assistant"]
    consents = await db(lambda: CommunicationEvent.objects.filter(conversation=call.conversation,
                                                                  type="consent").count())
    assert consents == 1
    task = await db(lambda: list(call.conversation.events.filter(type="staff_task").values_list("data", flat=True)))
    assert task[-1]["reason"] == "Maya Lopez: still red after her peel" and task[-1]["phone"] == CALLER

    # The front desk is texted the message once: who, their number, the gist, and where to read the call.
    (note,) = [sms for sms in twilio_rest.sent if sms["To"] == FRONT_DESK]
    assert note["Body"] == (f"Glow Med Spa: phone message from a caller, (212) 555-0142. Maya Lopez: still red after "
                            f"her peel {PUBLIC_URL}/dashboard/conversations/{call.conversation_id}/")
    await signed_post(PUBLIC_URL + "/webhooks/twilio/voice/status", {"CallSid": CALL_SID, "CallStatus": "completed"})
    assert len([sms for sms in twilio_rest.sent if sms["To"] == FRONT_DESK]) == 1


async def test_a_call_ava_cannot_take_back_leaves_a_recorded_message(spa, twilio_number, twilio_rest, lines,
                                                                    settings):
    from xml.etree import ElementTree

    line, _ = await lines.dial(await answer())
    await ask_for_a_person(twilio_number, line)
    await until(lambda: twilio_rest.call_updates, timeout=8)
    await line.hang_up()
    await handed_over()
    settings.OPENAI_API_KEY = ""  # Ava is off now: the caller records a message instead
    dialed = await signed_post(PUBLIC_URL + "/webhooks/twilio/voice/dialed",
                               {"CallSid": CALL_SID, "DialCallStatus": "no-answer"})
    record = ElementTree.fromstring(dialed.content).find("Record")
    assert record.get("action") == PUBLIC_URL + "/webhooks/twilio/voice/message"
    await signed_post(record.get("action"), {"CallSid": CALL_SID, "RecordingUrl": "https://api.twilio.com/RE9",
                                             "RecordingDuration": "21"})
    call = await db(detail)
    assert call.transfer_outcome == "no-answer" and call.recording_url == "https://api.twilio.com/RE9"
    assert call.conversation.escalated


async def test_out_of_hours_ava_takes_the_message_herself_and_nobody_is_rung(spa, twilio_number, twilio_rest, lines,
                                                                             time_machine):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    time_machine.move_to(datetime(2026, 12, 2, 22, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(
        ZoneInfo("UTC")), tick=True)
    line, _ = await lines.dial(await answer())
    await ask_for_a_person(twilio_number, line)
    await until(lambda: tool_outputs(twilio_number), timeout=8)
    await asyncio.sleep(1.5)
    assert not twilio_rest.call_updates
    output = tool_outputs(twilio_number)[0]
    assert "live" not in output and "call you back" in output["what_happens_next"]
    await line.hang_up()
    call = await ended()
    assert call.conversation.escalated and call.end_reason == "caller_hung_up"
    task = await db(lambda: call.conversation.events.get(type="staff_task").data)
    assert task["kind"] == "callback" and task["reason"] == "Wants to ask about redness after her peel"
    (note,) = twilio_rest.sent
    assert note["To"] == FRONT_DESK and "(212) 555-0142. Wants to ask about redness after her peel" in note["Body"]


async def test_end_call_hangs_up_once_avas_goodbye_has_been_heard(spa, twilio_number, lines):
    from tests.fakes.realtime_server import Call

    fake = twilio_number
    fake.hear("That is all thank you.")
    fake.reply(Call("end_call", {"reason": "caller is done"}))
    fake.reply(Say("You're welcome, have a lovely day. Goodbye!"))
    line, _ = await lines.dial(await answer())
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("That is all thank you."))
    await until(lambda: line.closed, timeout=10)

    goodbye = [at for name, at in line.marks_echoed if name.endswith(":" + str(speech_ms(
        "You're welcome, have a lovely day. Goodbye!")))]
    assert goodbye, "the goodbye's last mark was echoed"
    closed_at = line.now()
    assert closed_at >= goodbye[0]  # the line closed after the goodbye had been played, not before
    call = await ended()
    assert call.end_reason == "assistant_ended"


def events_of(kind):
    from communications.models import CommunicationEvent

    return list(CommunicationEvent.objects.filter(conversation__voice__call_sid=CALL_SID, type=kind)
                .order_by("at", "id").values_list("data", flat=True))


async def test_pressing_0_while_ava_speaks_stops_her_and_puts_the_caller_through_in_opening_hours(
        spa, twilio_number, twilio_rest, lines):
    from xml.etree import ElementTree

    from tests.fakes.realtime_server import Call

    fake = twilio_number
    fake.reply(Call("transfer_to_staff", {"reason": "The caller pressed 0 for the front desk."}))
    fake.reply(Say("Of course, I'm putting you through to the front desk now."))
    line, _ = await lines.dial(await answer())
    await line.wait_for_mark(count=3)  # the greeting is playing
    await line.press(0)

    await until(lambda: line.clears, timeout=3)  # she stops at once
    forced = await fake.wait_for("response.create", count=2)
    assert forced[1]["response"]["tool_choice"] == {"type": "function", "name": "transfer_to_staff"}
    said = [e["item"] for e in fake.events("conversation.item.create") if e["item"]["type"] == "message"]
    assert said[-1]["role"] == "system" and "pressed 0" in said[-1]["content"][0]["text"]
    await until(lambda: twilio_rest.call_updates, timeout=8)
    dial = ElementTree.fromstring(twilio_rest.call_updates[0]["Twiml"]).find("Dial")
    assert dial.find("Number").text == FRONT_DESK
    assert tool_outputs(fake)[0]["live"] is True
    await line.hang_up()
    call = await handed_over()
    assert call.conversation.escalated
    assert await db(events_of, "dtmf") == [{"digit": "0"}]


async def test_pressing_0_out_of_hours_gets_a_message_taken_and_other_keys_are_only_kept(
        spa, twilio_number, twilio_rest, lines, time_machine):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.fakes.realtime_server import Call

    time_machine.move_to(datetime(2026, 12, 2, 22, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(
        ZoneInfo("UTC")), tick=True)
    fake = twilio_number
    fake.reply(Call("transfer_to_staff", {"reason": "The caller pressed 0 for the front desk."}))
    fake.reply(Say("The front desk is closed now, but I can take a message. May I have your name?"))
    line, _ = await lines.dial(await answer())
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.press(5)
    await line.press(0)
    await until(lambda: tool_outputs(fake), timeout=5)
    await fake.wait_for("response.create", count=3)  # the greeting, the forced tool call, Ava's answer
    await until(lambda: len(line.marks_echoed) > 1 and not line.queued_ms, timeout=8)
    await line.wait_until_quiet()
    output = tool_outputs(fake)[0]
    assert "live" not in output and "call you back" in output["what_happens_next"]
    await line.hang_up()
    call = await ended()
    assert not twilio_rest.call_updates and call.conversation.escalated
    assert await db(events_of, "dtmf") == [{"digit": "5"}, {"digit": "0"}]
    # The 5 did nothing: the only responses were the greeting and what the 0 asked for.
    creates = [e["response"].get("tool_choice") for e in fake.events("response.create")]
    assert creates[1] == {"type": "function", "name": "transfer_to_staff"} and len(creates) == 3


async def test_a_booking_by_phone_is_confirmed_by_text_to_the_number_that_called(spa, twilio_number, twilio_rest,
                                                                                 lines):
    from tests.fakes.realtime_server import Call

    fake = twilio_number
    day = spa.tomorrow.isoformat()
    fake.hear("Book me a HydraFacial tomorrow at ten, it's Maya Patel.")
    # The number as the instructions give it to the model (caller ID), not asked of the caller.
    fake.reply(Call("book_appointment", {"service": "HydraFacial", "start": f"{day}T10:00", "name": "Maya Patel",
                                         "phone": "(212) 555-0142"}))
    fake.reply(Say("You're booked for a HydraFacial tomorrow at ten. I've texted you the details."))
    line, _ = await lines.dial(await answer())
    await line.wait_for("mark")
    await line.wait_until_quiet()
    await line.say(speech_mulaw("Book me a HydraFacial tomorrow at ten, it's Maya Patel."))
    await until(lambda: twilio_rest.sent, timeout=8)
    await line.hang_up()
    call = await ended()

    appointment = await db(lambda: Appointment.objects.select_related("customer", "service").get())
    assert appointment.conversation_id == call.conversation_id and appointment.service == spa.hydrafacial
    assert call.conversation.customer_id == appointment.customer_id and appointment.customer.name == "Maya Patel"
    (text,) = twilio_rest.sent
    assert text["To"] == CALLER == call.from_number and text["From"] == "+12125550100"
    assert text["Body"].startswith("Glow Med Spa: you're booked for HydraFacial with ")


async def put_through_unanswered(fake, rest, line):
    """Ava puts the caller through, nobody answers: the <Stream> parameters of the call coming back to her."""
    await ask_for_a_person(fake, line)
    await until(lambda: rest.call_updates, timeout=8)
    await line.hang_up()
    await handed_over()
    dialed = await signed_post(PUBLIC_URL + "/webhooks/twilio/voice/dialed",
                               {"CallSid": CALL_SID, "DialCallStatus": "no-answer"})
    return stream_parameters(dialed.content)


async def test_a_stream_back_from_an_unanswered_transfer_after_the_call_ended_is_closed_without_an_error(
        spa, twilio_number, twilio_rest, lines, caplog):
    line, _ = await lines.dial(await answer())
    parameters = await put_through_unanswered(twilio_number, twilio_rest, line)
    # The caller hangs up before the stream is back: Twilio reports the call's end first.
    await signed_post(PUBLIC_URL + "/webhooks/twilio/voice/status", {"CallSid": CALL_SID, "CallStatus": "completed"})
    call = await ended()

    line, _ = await lines.dial(parameters)
    await until(lambda: line.closed, timeout=5)
    assert isinstance(line.closed_by, ConnectionError), line.closed_by  # a close, not the server's exception
    assert not line.messages("media") and len(twilio_number.sessions) == 1  # no second session, nothing said
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")
                and r.name.split(".")[0] in ("receptionist", "communications", "django", "daphne", "channels")]
    after = await db(detail)
    assert after.end_reason == call.end_reason and after.stream_sid == call.stream_sid  # the record is untouched
    assert not after.conversation.is_active


async def test_a_resume_parameter_changed_in_flight_is_refused_like_a_bad_token(spa, twilio_number, twilio_rest,
                                                                                lines):
    # A first stream claiming to resume a call (which would skip the greeting and the recording notice).
    parameters = await answer()
    forged, _ = await lines.dial({**parameters, "resume": "transfer_unanswered"})
    await until(lambda: forged.closed, timeout=3)
    assert not forged.messages("media") and not twilio_number.sessions
    call = await db(detail)
    assert call.stream_sid == "" and call.conversation.is_active and "taken_back" not in call.conversation.metadata

    # The real first stream, then a take-back whose `resume` is dropped (a fresh start on the same call).
    line, _ = await lines.dial(parameters)
    back = await put_through_unanswered(twilio_number, twilio_rest, line)
    stripped, _ = await lines.dial({name: value for name, value in back.items() if name != "resume"})
    await until(lambda: stripped.closed, timeout=3)
    assert not stripped.messages("media") and len(twilio_number.sessions) == 1
    call = await db(detail)
    assert call.end_reason == "transferred" and call.conversation.is_active  # still waiting for the real stream


def small_mp3(seconds=1):
    """A real MP3 (a tone), as Twilio serves a recording."""
    import io

    import numpy
    import soundfile

    buffer = io.BytesIO()
    tone = (numpy.sin(numpy.arange(8000 * seconds) * 0.2) * 0.3).astype("float32")
    soundfile.write(buffer, tone, 8000, format="MP3")
    return buffer.getvalue()


def leave_a_message(client, rest, settings, *, recording_sid="RE" + "7" * 32):
    """A call Ava cannot take (no OpenAI key): put through, nobody answers, the caller records a message."""
    from xml.etree import ElementTree

    def post(url, params):
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        response = client.post(url.removeprefix(PUBLIC_URL), params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        return ElementTree.fromstring(response.content)

    settings.OPENAI_API_KEY = ""
    post(PUBLIC_URL + "/webhooks/twilio/voice", {"CallSid": CALL_SID, "From": CALLER, "To": "+12125550100",
                                                 "CallStatus": "ringing"})
    record = post(PUBLIC_URL + "/webhooks/twilio/voice/dialed", {"CallSid": CALL_SID, "DialCallStatus": "no-answer"})
    url = f"https://api.twilio.com/2010-04-01/Accounts/{rest.account_sid}/Recordings/{recording_sid}"
    post(record.find("Record").get("action"), {"CallSid": CALL_SID, "RecordingUrl": url, "RecordingDuration": "1"})
    return url


def test_a_recorded_message_is_fetched_from_twilio_and_staff_play_it_on_the_conversation(
        spa, twilio_number, twilio_rest, settings, client, staff_user):
    audio = small_mp3()
    twilio_rest.recordings["RE" + "7" * 32] = audio
    twilio_rest.recording_not_ready(2)  # Twilio is still finishing the file: the fetch tries again
    url = leave_a_message(client, twilio_rest, settings)

    call = detail()
    assert call.recording_url == url and call.conversation.escalated
    fetches = [path for method, path, _ in twilio_rest.requests if method == "GET"]
    assert fetches == [f"/2010-04-01/Accounts/{twilio_rest.account_sid}/Recordings/{'RE' + '7' * 32}.mp3"] * 3

    client.force_login(staff_user)
    page = client.get(f"/dashboard/conversations/{call.conversation_id}/")
    assert b"data-recording-player" in page.content and b"recorded message" in page.content
    played = client.get(f"/dashboard/conversations/{call.conversation_id}/recording/")
    assert played.status_code == 200 and played["Content-Type"] == "audio/mpeg", played.content
    assert b"".join(played.streaming_content) == audio


def test_a_recorded_message_twilio_never_hands_over_keeps_its_url(spa, twilio_number, twilio_rest, settings,
                                                                   client, staff_user):
    from communications.tasks import MESSAGE_FETCH_MAX_RETRIES

    twilio_rest.recording_not_ready(100)
    url = leave_a_message(client, twilio_rest, settings)

    call = detail()
    assert call.recording_url == url and call.conversation.escalated
    assert len([1 for method, *_ in twilio_rest.requests if method == "GET"]) == MESSAGE_FETCH_MAX_RETRIES + 1
    client.force_login(staff_user)
    played = client.get(f"/dashboard/conversations/{call.conversation_id}/recording/")
    assert played.status_code == 404
