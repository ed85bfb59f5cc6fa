"""What the caller gets when OpenAI refuses the session or a response fails, through the real consumer.

The fake Realtime server refuses `session.update`s and ends responses failed or cut off
the way OpenAI does (tests/fakes/realtime_server.py).
"""

import pytest

from communications.models import CommunicationEvent, Conversation, Message
from receptionist.bridge.config import CUT_OFF_LINE, FILTERED_LINE, RESPONSE_FAILED_LINE
from tests.fakes.realtime_server import Fail, FakeRealtimeServer, Filtered, Say

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


def conversation_of(page):
    return Conversation.objects.select_related("voice").get(pk=page.session["conversation_id"])


def transcript_of(page):
    return [(m.author, m.content, m.metadata) for m in
            Message.objects.filter(conversation_id=page.session["conversation_id"])]


def events_of(page, kind):
    return [e.data for e in CommunicationEvent.objects.filter(conversation_id=page.session["conversation_id"], type=kind)]


# --- the session ---------------------------------------------------------------------------------

async def test_a_refused_transcription_model_is_dropped_once_and_the_call_goes_on(spa, fake_realtime, open_call):
    fake_realtime.refuse_session("session.audio.input.transcription.model",
                                 message="Model 'gpt-transcribe' is not available.")
    fake_realtime.reply(Say("We open at nine."))
    page = await open_call()
    assert (await page.said()).startswith("Thank you for calling Glow Med Spa")
    await page.send(type="text", text="When do you open?")
    assert await page.said() == "We open at nine."

    first, second = fake_realtime.events("session.update")
    assert first["event_id"] != second["event_id"]
    assert first["session"]["audio"]["input"]["transcription"] == {"model": "gpt-transcribe"}
    assert "transcription" not in second["session"]["audio"]["input"]
    assert second["session"]["tools"] == first["session"]["tools"]  # only the refused part is dropped
    # Nothing went up before OpenAI confirmed the session: the greeting's response.create came after.
    sent = [e["type"] for e in fake_realtime.events()]
    assert sent.index("response.create") > sent.index("session.update") + 1
    await page.hang_up()
    (degraded,) = await db(events_of, page, "session_degraded")
    assert degraded["dropped"] == [{"part": "audio.input.transcription", "code": "invalid_value",
                                    "param": "session.audio.input.transcription.model",
                                    "message": "Model 'gpt-transcribe' is not available."}]
    assert (await db(conversation_of, page)).status == "completed"


async def test_a_refused_tool_schema_ends_the_call_as_unavailable_without_ava_speaking(spa, fake_realtime,
                                                                                        open_call):
    fake_realtime.refuse_session("session.tools", message="Invalid schema for function 'book_appointment'.")
    page = await open_call()

    error = await page.expect("error")
    assert error["code"] == "assistant_unavailable" and "+1 212 555 0100" in error["message"]
    assert (await page.expect("call.ended"))["reason"] == "upstream_unavailable"
    assert len(fake_realtime.events("session.update")) == 1  # tools are not optional: no retry without them
    assert not fake_realtime.events("response.create") and not fake_realtime.events("input_audio_buffer.append")
    conversation = await db(conversation_of, page)
    assert conversation.status == "failed" and conversation.voice.end_reason == "upstream_unavailable"
    (refused,) = await db(events_of, page, "error")
    assert refused["where"] == "session_refused" and refused["param"] == "session.tools"
    assert "Invalid schema" in refused["message"]


async def test_a_part_refused_again_after_the_retry_ends_the_call(spa, fake_realtime, open_call):
    fake_realtime.refuse_session("session.audio.output.voice", message="Unknown voice.")
    fake_realtime.refuse_session("session.instructions", message="Instructions too long.")
    page = await open_call()
    await page.expect("call.ended", reason="upstream_unavailable")
    first, second = fake_realtime.events("session.update")  # one retry, without the voice; no more
    assert "voice" not in second["session"]["audio"]["output"]
    assert not fake_realtime.events("response.create")
    (refused,) = await db(events_of, page, "error")
    assert refused["param"] == "session.instructions"
    assert [d["part"] for d in refused["dropped"]] == ["audio.output.voice"]


async def test_a_session_that_is_never_confirmed_is_an_unavailable_assistant(spa, fake_realtime, open_call,
                                                                           settings):
    settings.VOICE_UPSTREAM_CONNECT_TIMEOUT = 0.5
    fake_realtime.ignore_session_updates = True
    page = await open_call()
    await page.speak(200)  # the caller's audio waits for a confirmed session, and never goes up
    await page.expect("call.ended", reason="upstream_unavailable")
    assert not fake_realtime.events("response.create") and not fake_realtime.events("input_audio_buffer.append")
    (refused,) = await db(events_of, page, "error")
    assert refused["where"] == "session_refused" and "did not confirm the session within 0.5 s" in refused["reason"]


async def test_what_openai_confirms_differently_from_what_was_asked_is_recorded(spa, fake_realtime, open_call):
    fake_realtime.confirm_overrides = {"audio": {"output": {"voice": "alloy"}}, "max_output_tokens": "inf"}
    page = await open_call()
    await page.said()  # the call goes on: the differences are on record
    await page.hang_up()
    (mismatch,) = await db(events_of, page, "session_mismatch")
    assert mismatch["differences"] == [{"field": "audio.output.voice", "asked": "marin", "got": "alloy"},
                                       {"field": "max_output_tokens", "asked": 2048, "got": "inf"}]


# --- responses ------------------------------------------------------------------------------------

async def test_a_failed_response_is_asked_again_once_and_the_caller_hears_the_answer(spa, fake_realtime,
                                                                                   open_call):
    fake_realtime.reply(Fail())
    fake_realtime.reply(Say("Botox is twelve dollars a unit."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="How much is Botox?")
    assert await page.said() == "Botox is twelve dollars a unit."
    assert len(fake_realtime.events("response.create")) == 3  # greeting, the failed one, the retry
    await page.hang_up()
    (failed,) = await db(events_of, page, "response_failed")
    assert failed["action"] == "retried" and failed["status_details"]["error"]["code"] == "server_error"


async def test_a_response_that_fails_twice_gets_a_shown_apology_and_the_call_goes_on(spa, fake_realtime,
                                                                                   open_call):
    fake_realtime.reply(Fail())
    fake_realtime.reply(Fail())
    fake_realtime.reply(Say("We open at nine."))
    page = await open_call()
    greeting = await page.said()
    await page.send(type="text", text="When do you open?")
    apology = await page.expect("transcript", speaker="assistant", final=True)
    assert apology["text"] == RESPONSE_FAILED_LINE and apology["shown_only"] is True
    await page.expect("state", state="listening")
    await page.send(type="text", text="When do you open?")
    assert await page.said() == "We open at nine."
    await page.hang_up()

    assert [(a, c) for a, c, _ in await db(transcript_of, page)] == [
        ("assistant", greeting), ("customer", "When do you open?"), ("assistant", RESPONSE_FAILED_LINE),
        ("customer", "When do you open?"), ("assistant", "We open at nine.")]
    assert [e["action"] for e in await db(events_of, page, "response_failed")] == ["retried", "apology_shown"]


async def test_a_response_stopped_by_the_safety_filter_gets_a_spoken_apology(spa, fake_realtime, open_call):
    fake_realtime.reply(Say("Well,"), Filtered())
    page = await open_call()
    await page.said()
    await page.send(type="text", text="Say something awful.")
    assert await page.said() == "Well,"
    assert await page.said() == FILTERED_LINE
    assert page.audio_ms(page.audio_item) > 0  # spoken, not only shown
    await page.hang_up()
    (incomplete,) = await db(events_of, page, "response_incomplete")
    assert incomplete["status_details"] == {"type": "incomplete", "reason": "content_filter"}
    assert incomplete["action"] == "apology_spoken"


async def test_every_response_is_bounded_and_one_cut_off_gets_a_short_apology(spa, open_call, settings):
    settings.VOICE_MAX_OUTPUT_TOKENS = 100
    async with FakeRealtimeServer(greeting_audio_ms=200) as fake:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "test-key", fake.base_url
        settings.ANALYTICS_SCORING_MAX_RETRIES = 0
        fake.reply(Say("Let me tell you about every one of our forty services in turn, starting with",
                       audio_ms=8000))
        page = await open_call()
        await page.said()
        await page.send(type="text", text="What do you offer?")
        cut = await page.said()
        assert cut and cut != CUT_OFF_LINE
        assert await page.said() == CUT_OFF_LINE
        assert fake.events("session.update")[0]["session"]["max_output_tokens"] == 100
        await page.hang_up()
    (incomplete,) = await db(events_of, page, "response_incomplete")
    assert incomplete["status_details"]["reason"] == "max_output_tokens"


# --- what else OpenAI reports ---------------------------------------------------------------------

async def test_failed_transcriptions_low_rate_limits_and_the_cause_of_an_error_are_recorded(spa, fake_realtime,
                                                                                          open_call):
    fake_realtime.hear(None)  # the transcription model could not make out the words
    page = await open_call()
    await page.said()
    await page.speak(400)
    await page.send(type="commit")
    failed = await page.expect("transcript", speaker="caller", final=True)
    assert failed["failed"] is True
    await page.said()

    upstream = fake_realtime.session
    await upstream.emit({"type": "rate_limits.updated", "event_id": "event_rl", "rate_limits": [
        {"name": "requests", "limit": 1000, "remaining": 990, "reset_seconds": 1.0},
        {"name": "tokens", "limit": 100000, "remaining": 4000, "reset_seconds": 12.5}]})
    create_id = fake_realtime.events("response.create")[-1]["event_id"]
    await upstream.emit({"type": "error", "event_id": "event_err", "error": {
        "type": "invalid_request_error", "code": "invalid_value", "message": "Something about that response.",
        "param": "response.instructions", "event_id": create_id}})
    await page.drain()
    await page.hang_up()

    (transcription,) = await db(events_of, page, "transcription_failed")
    assert transcription["error"]["code"] == "no_speech"
    assert await db(events_of, page, "rate_limit_low") == [
        {"name": "tokens", "limit": 100000, "remaining": 4000, "reset_seconds": 12.5}]
    (error,) = await db(events_of, page, "error")
    assert error["caused_by"] == "response.create" and error["param"] == "response.instructions"
