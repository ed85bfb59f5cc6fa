"""What a caller hears and what is kept when things go wrong: the upstream, the page, the limits."""

import json

import pytest

from communications.models import CommunicationEvent, Conversation, Message
from receptionist.bridge.relay import TIME_LIMIT_LINE
from tests.fakes.realtime_server import FakeRealtimeServer, Say

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


def conversation_of(page):
    return Conversation.objects.select_related("voice").get(pk=page.session["conversation_id"])


def transcript_of(page):
    return [(m.author, m.content) for m in Message.objects.filter(conversation_id=page.session["conversation_id"])]


def events_of(page, kind):
    return [e.data for e in CommunicationEvent.objects.filter(conversation_id=page.session["conversation_id"], type=kind)]


async def test_an_unreachable_openai_is_told_plainly_and_the_call_saved_as_failed(spa, settings, closed_port,
                                                                                 open_call):
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{closed_port}/v1"
    page = await open_call()

    error = await page.expect("error")
    assert error["code"] == "assistant_unavailable"
    assert "not available right now" in error["message"] and "+1 212 555 0100" in error["message"]
    ended = await page.expect("call.ended")
    assert ended["reason"] == "upstream_unavailable" and ended["say"] == error["message"]
    await page.expect("websocket.close")

    conversation = await db(conversation_of, page)
    # (The outcome is the scorer's to set once the call has ended.)
    assert conversation.status == "failed" and conversation.voice.end_reason == "upstream_unavailable"
    (failure,) = await db(events_of, page, "error")
    assert failure["where"] == "upstream_start" and "Connect" in failure["reason"]


async def test_a_refused_api_key_is_an_unavailable_assistant(spa, settings, open_call):
    async with FakeRealtimeServer(api_key="the-real-key") as fake:
        settings.OPENAI_API_KEY = "a-wrong-key"
        settings.OPENAI_BASE_URL = fake.base_url
        page = await open_call()
        assert (await page.expect("error"))["code"] == "assistant_unavailable"
        await page.expect("call.ended", reason="upstream_unavailable")
        assert fake.rejected and fake.rejected[0][0] == 401
    (failure,) = await db(events_of, page, "error")
    assert "401" in failure["reason"]


async def test_an_upstream_lost_mid_call_is_reconnected_with_the_conversation_reseeded(spa, fake_realtime,
                                                                                      open_call):
    fake_realtime.reply(Say("We are open nine to five."))
    fake_realtime.reply(Say("Sorry about that, I'm back. Anything else about our hours?"))
    fake_realtime.reply(Say("Botox is twelve dollars a unit."))
    page = await open_call()
    greeting = await page.said()
    await page.send(type="text", text="When are you open?")
    assert await page.said() == "We are open nine to five."

    await fake_realtime.session.drop()
    await page.expect("state", state="reconnecting")
    await fake_realtime.wait_for_sessions(2)
    assert await page.said() == "Sorry about that, I'm back. Anything else about our hours?"

    second = fake_realtime.sessions[1]
    assert second.events("session.update")[0]["session"]["type"] == "realtime"
    seeded = [(e["item"]["role"], e["item"]["content"][0]["type"], e["item"]["content"][0]["text"])
              for e in second.events("conversation.item.create")]
    assert seeded == [("assistant", "output_text", greeting), ("user", "input_text", "When are you open?"),
                      ("assistant", "output_text", "We are open nine to five.")]
    assert not [e for e in second.sent if e["type"] == "error"]

    await page.send(type="text", text="How much is Botox?")
    assert await page.said() == "Botox is twelve dollars a unit."
    await page.hang_up()
    assert await db(transcript_of, page) == [
        ("assistant", greeting), ("customer", "When are you open?"), ("assistant", "We are open nine to five."),
        ("assistant", "Sorry about that, I'm back. Anything else about our hours?"),
        ("customer", "How much is Botox?"), ("assistant", "Botox is twelve dollars a unit.")]
    conversation = await db(conversation_of, page)
    assert conversation.status == "completed"
    assert [e["where"] for e in await db(events_of, page, "error")] == ["upstream_lost"]
    assert len(await db(events_of, page, "reconnected")) == 1


async def test_audio_spoken_while_reconnecting_reaches_the_new_session(spa, fake_realtime, open_call):
    page = await open_call()
    await page.said()
    await fake_realtime.session.drop()
    await page.speak(400)  # the caller keeps talking through the blip
    await fake_realtime.wait_for_sessions(2)
    await page.said()  # the "I'm back" line
    await page.send(type="commit")
    await fake_realtime.wait_for("input_audio_buffer.commit")
    appended = sum(len(e["audio"]) for e in fake_realtime.sessions[1].events("input_audio_buffer.append"))
    assert appended * 3 // 4 >= 400 * 48 * 0.9  # base64: most of the 400 ms got through


async def test_an_upstream_that_cannot_be_reached_again_ends_the_call_with_an_apology(spa, fake_realtime,
                                                                                     open_call):
    page = await open_call()
    greeting = await page.said()
    fake_realtime.refuse_connections = 5
    await fake_realtime.session.drop()

    ended = await page.expect("call.ended")
    assert ended["reason"] == "upstream_lost"
    assert ended["say"].startswith("I'm sorry, we've lost the connection") and "+1 212 555 0100" in ended["say"]
    await page.expect("websocket.close")
    conversation = await db(conversation_of, page)
    assert conversation.status == "failed" and conversation.voice.end_reason == "upstream_lost"
    assert await db(transcript_of, page) == [("assistant", greeting), ("assistant", ended["say"])]
    assert [e["where"] for e in await db(events_of, page, "error")] == ["upstream_lost", "upstream_reconnect"]


async def test_an_expired_session_is_replaced_by_a_new_one_with_the_context(spa, fake_realtime, open_call):
    fake_realtime.reply(Say("We're back."))
    page = await open_call()
    greeting = await page.said()
    await fake_realtime.session.expire()
    await fake_realtime.wait_for_sessions(2)
    assert await page.said() == "We're back."
    seeded = [e["item"]["content"][0]["text"] for e in fake_realtime.sessions[1].events("conversation.item.create")]
    assert seeded == [greeting]
    await page.hang_up()
    errors = await db(events_of, page, "error")
    assert errors == [{"where": "upstream_lost", "reason": "session_expired"}]
    assert (await db(conversation_of, page)).status == "completed"


async def test_bad_frames_get_an_error_and_the_call_goes_on(spa, fake_realtime, open_call, settings):
    fake_realtime.reply(Say("Still here."))
    page = await open_call(start=False)
    await page.communicator.send_to(bytes_data=b"\x00\x01" * 100)
    assert (await page.expect("error"))["code"] == "not_started"
    await page.send(type="start", consent=True)
    await page.said()

    await page.communicator.send_to(bytes_data=b"\x00" * (settings.VOICE_MAX_FRAME_BYTES + 2))
    assert (await page.expect("error"))["code"] == "frame_too_large"
    await page.communicator.send_to(bytes_data=b"\x00" * 3)
    assert (await page.expect("error"))["code"] == "bad_audio_frame"
    await page.send_raw("{not json")
    assert (await page.expect("error"))["code"] == "bad_json"
    await page.send_raw(json.dumps(["start"]))
    assert (await page.expect("error"))["code"] == "bad_message"
    await page.send(type="dance")
    assert (await page.expect("error"))["code"] == "unknown_type"
    await page.send(type="interrupt", item_id=42, played_ms="a lot")
    assert (await page.expect("error"))["code"] == "bad_message"
    await page.send_raw('{"type": "interrupt", "item_id": "item_1", "played_ms": Infinity}')
    assert (await page.expect("error"))["code"] == "bad_message"
    await page.send(type="text", text="y" * 20000)
    assert (await page.expect("error"))["code"] == "message_too_large"
    await page.send(type="interrupt", item_id="item_nobody_knows", played_ms=100)
    assert (await page.expect("error"))["code"] == "unknown_item"
    await page.send(type="text", text="x" * 5000)
    assert (await page.expect("error"))["code"] == "text_too_long"
    await page.send(type="start", consent=True)
    assert (await page.expect("error"))["code"] == "already_started"

    await page.send(type="text", text="Are you still there?")
    assert await page.said() == "Still here."
    assert page.closed is None
    # None of it reached OpenAI: only the oversized frame's neighbours were real audio.
    assert not fake_realtime.events("input_audio_buffer.append")


async def test_a_caller_who_declines_the_recording_is_not_connected(spa, fake_realtime, open_call):
    page = await open_call(start=False)
    await page.send(type="start", consent=False)
    assert (await page.expect("call.ended"))["reason"] == "consent_declined"
    await page.expect("websocket.close")
    assert await db(events_of, page, "consent") == [
        {"accepted": False, "notice": "This call is recorded and transcribed.", "channel": "voice"}]
    assert not fake_realtime.events("response.create")


async def test_one_address_may_hold_only_so_many_calls_at_once(spa, fake_realtime, open_call, settings):
    settings.VOICE_MAX_CONCURRENT_CALLS_PER_IP = 1
    first = await open_call(ip="203.0.113.7", session_id="first-call-01")
    await first.said()

    from ava.asgi import application
    from channels.testing import WebsocketCommunicator

    from receptionist.call_tokens import issue_call_token

    token = issue_call_token(ip="203.0.113.7")
    refused = WebsocketCommunicator(application, f"/ws/voice/second-call-01?token={token}",
                                    headers=[(b"origin", b"http://127.0.0.1")])
    refused.scope["client"] = ("203.0.113.7", 50001)
    assert (await refused.connect())[0]
    assert json.loads((await refused.receive_output())["text"])["code"] == "too_many_calls"
    assert json.loads((await refused.receive_output())["text"])["reason"] == "too_many_calls"
    assert (await refused.receive_output())["code"] == 4429
    await refused.disconnect()

    elsewhere = await open_call(ip="198.51.100.2", session_id="other-call-01")
    await elsewhere.said()
    await first.hang_up()
    again = await open_call(ip="203.0.113.7", session_id="third-call-01")
    await again.said()
    assert await db(Conversation.objects.count) == 3  # the refused call made no conversation


async def test_a_call_that_reaches_the_time_limit_says_goodbye_and_ends(spa, fake_realtime, open_call, settings):
    settings.VOICE_MAX_CALL_SECONDS = 1
    page = await open_call()
    await page.said()
    assert await page.said(timeout=4) == TIME_LIMIT_LINE
    assert (await page.expect("call.ended"))["reason"] == "time_limit"
    conversation = await db(conversation_of, page)
    assert conversation.voice.end_reason == "time_limit" and conversation.status == "completed"
    assert await db(events_of, page, "time_limit") == [{"max_call_seconds": 1}]
