"""Voice calls through the real application to a fake OpenAI Realtime (GA) upstream."""

import asyncio

import pytest

from communications.models import CommunicationEvent, Conversation, Customer, Message, UsageRecord
from receptionist.prompt import FILLER_LINE
from receptionist.tools import TOOL_NAMES
from scheduling.models import Appointment
from tests.fakes.realtime_server import Call, Say

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


def conversation_of(page):
    return Conversation.objects.select_related("voice", "customer").get(pk=page.session["conversation_id"])


def transcript_of(page):
    return [(m.author, m.content) for m in Message.objects.filter(conversation_id=page.session["conversation_id"])]


def events_of(page, kind):
    return [e.data for e in CommunicationEvent.objects.filter(conversation_id=page.session["conversation_id"], type=kind)]


async def test_it_greets_the_caller_and_configures_a_ga_session(spa, fake_realtime, open_call):
    page = await open_call()

    greeting = await page.said()
    assert greeting == ("Thank you for calling Glow Med Spa. I'm Ava. This call is recorded and transcribed. "
                        "How can I help you today?")
    assert "This call is recorded and transcribed." in greeting
    assert page.audio_ms(page.audio_item) > 0  # the greeting was spoken, not only written
    assert page.session["offline_demo"] is False
    assert page.session["vad"] == {"commit_silence_ms": 300, "short_commit_silence_ms": 120,
                                   "short_utterance_ms": 1000, "speech_start_ms": 100, "preroll_ms": 300}
    assert page.session["audio"]["sample_rate"] == 24000

    upstream = fake_realtime.session
    assert upstream.headers["Authorization"] == "Bearer test-key"
    assert "OpenAI-Beta" not in upstream.headers
    assert upstream.query["model"] == ["gpt-realtime-2.1"]  # the default: a current model
    session = upstream.events("session.update")[0]["session"]
    assert session["type"] == "realtime"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["turn_detection"] is None
    assert session["audio"]["input"]["transcription"]["model"] == "gpt-transcribe"
    assert session["max_output_tokens"] == 2048  # every response is bounded
    assert session["audio"]["output"]["voice"] == "marin"
    assert sorted(t["name"] for t in session["tools"]) == sorted(TOOL_NAMES)
    assert all(t["type"] == "function" and t["parameters"]["type"] == "object" for t in session["tools"])
    instructions = session["instructions"]
    for fact in ("You are Ava, the receptionist at Glow Med Spa", "Botox", "$12 a unit", "Dana Reyes", "911",
                 "ChatGPT", "no medical advice", "caller's language", "Free parking is behind the building"):
        assert fact in instructions
    assert f"{spa.clinic.local_now():%A, %B} {spa.clinic.local_now().day}" in instructions
    assert fake_realtime.session.simulator.session["type"] == "realtime"  # GA session accepted, no error
    assert not upstream.events("error") and not [e for e in upstream.sent if e["type"] == "error"]

    assert (await db(conversation_of, page)).status == "active"  # made on connect
    await page.hang_up()  # the writes are queued off the relay loop; hanging up drains them
    conversation = await db(conversation_of, page)
    assert conversation.channel == "voice" and conversation.status == "completed"
    assert await db(events_of, page, "consent") == [
        {"accepted": True, "notice": "This call is recorded and transcribed.", "channel": "voice"}]
    assert await db(transcript_of, page) == [("assistant", greeting)]


async def test_a_caller_books_by_voice_end_to_end(spa, fake_realtime, open_call):
    day = spa.tomorrow.isoformat()
    fake_realtime.transcript_delay_responses = 2  # the caller's words land after Ava's spoken answer
    fake_realtime.hear("Do you have Botox tomorrow morning?", "Ten please. I'm Jane Doe, 212 555 0199.")
    fake_realtime.reply(Call("check_availability", {"service": "Botox", "date": day, "part_of_day": "morning"}))
    fake_realtime.reply(Say("Tomorrow morning I have ten or ten thirty with Dana. Which would you like?"))
    fake_realtime.reply(Call("book_appointment", {"service": "Botox", "start": f"{day}T10:00", "name": "Jane Doe",
                                                  "phone": "212 555 0199"}))
    fake_realtime.reply(Say("You're booked for Botox tomorrow at ten with Dana Reyes."))
    page = await open_call()
    greeting = await page.said()

    await page.speak(800)
    await page.send(type="commit")
    await page.expect("tool", name="check_availability", status="done")
    assert await page.said() == "Tomorrow morning I have ten or ten thirty with Dana. Which would you like?"
    first = await page.expect("transcript", speaker="caller", final=True)
    assert first["text"] == "Do you have Botox tomorrow morning?"

    await page.speak(1200)
    await page.send(type="commit")
    await page.expect("tool", name="book_appointment", status="done")
    assert await page.said() == "You're booked for Botox tomorrow at ten with Dana Reyes."
    await page.expect("transcript", speaker="caller", final=True)
    await page.hang_up()

    appointment = await db(lambda: Appointment.objects.select_related("customer", "provider", "service").get())
    local_start = appointment.start.astimezone(spa.clinic.tz)
    assert (local_start.date(), local_start.hour, local_start.minute) == (spa.tomorrow, 10, 0)
    assert appointment.service == spa.botox and appointment.provider == spa.dana
    assert appointment.customer.phone == "+12125550199" and appointment.customer.name == "Jane Doe"
    assert appointment.booked_by == "ai"
    assert str(appointment.conversation_id) == page.session["conversation_id"]

    # Ordered by the upstream's items, not by when the caller's transcripts arrived.
    assert await db(transcript_of, page) == [
        ("assistant", greeting),
        ("customer", "Do you have Botox tomorrow morning?"),
        ("assistant", "Tomorrow morning I have ten or ten thirty with Dana. Which would you like?"),
        ("customer", "Ten please. I'm Jane Doe, 212 555 0199."),
        ("assistant", "You're booked for Botox tomorrow at ten with Dana Reyes."),
    ]
    conversation = await db(conversation_of, page)
    assert conversation.customer.phone == "+12125550199"
    assert conversation.status == "completed" and conversation.voice.end_reason == "caller_hung_up"
    calls = await db(events_of, page, "tool_call")
    assert [c["name"] for c in calls] == ["check_availability", "book_appointment"]
    assert set(calls[0]) == {"name", "arguments", "result", "call_id", "duration_ms"}
    assert calls[0]["result"]["ok"] and calls[0]["result"]["openings"]
    assert calls[1]["result"]["appointment"]["appointment_id"] == appointment.pk

    # Each function_call_output went up, then exactly one response.create.
    sent = [e["type"] if e["type"] != "conversation.item.create" else e["item"]["type"]
            for e in fake_realtime.events() if e["type"] in {"conversation.item.create", "response.create"}]
    assert sent == ["response.create",  # greeting
                    "response.create", "function_call_output", "response.create",
                    "response.create", "function_call_output", "response.create"]


async def test_parallel_tool_calls_send_every_output_then_one_response_and_a_filler_when_slow(
        spa, fake_realtime, open_call, settings):
    settings.VOICE_FILLER_AFTER_MS = 0  # every tool counts as slow
    fake_realtime.reply(Call("get_current_datetime", {}), Call("get_business_info", {"topic": "parking"}))
    fake_realtime.reply(Say("Parking is free behind the building."))
    page = await open_call()
    await page.said()

    await page.send(type="text", text="Where can I park?")
    assert await page.said() == FILLER_LINE
    assert await page.said() == "Parking is free behind the building."

    events = [e for e in fake_realtime.events() if e["type"] in {"conversation.item.create", "response.create"}]
    kinds = [e["item"].get("type") if e["type"] == "conversation.item.create" else
             ("filler" if e["response"].get("conversation") == "none" else "response.create") for e in events]
    assert kinds == ["response.create", "message", "response.create", "filler",
                     "function_call_output", "function_call_output", "response.create"]
    filler = events[3]["response"]
    assert filler["input"] == [] and FILLER_LINE in filler["instructions"]
    await page.hang_up()
    messages = await db(lambda: list(Message.objects.filter(conversation_id=page.session["conversation_id"])))
    assert [(m.author, m.content, m.metadata.get("filler", False)) for m in messages][1:] == [
        ("customer", "Where can I park?", False), ("assistant", FILLER_LINE, True),
        ("assistant", "Parking is free behind the building.", False)]


async def test_barge_in_cancels_and_truncates_to_the_audio_received_and_forwards_no_late_audio(
        spa, fake_realtime, open_call):
    fake_realtime.hear("Tell me about HydraFacial")
    long_reply = ("HydraFacial cleanses, exfoliates and hydrates your skin in one hour, and there is no downtime "
                  "at all, so you can go straight back to work afterwards.")
    fake_realtime.reply(Say(long_reply, audio_ms=4000, pace=0.05))
    page = await open_call()
    await page.said()
    await page.speak(600)
    await page.send(type="commit")
    start = await page.expect("audio.start")
    while page.audio_ms(start["item_id"]) < 600:
        await page.next()

    # The page claims more than it can have played: the server clamps to what it received.
    await page.send(type="interrupt", item_id=start["item_id"], played_ms=60_000)
    truncate = (await fake_realtime.wait_for("conversation.item.truncate"))[0]
    heard = await page.said()
    await asyncio.sleep(0.5)  # the fake would still be streaming the rest
    await page.drain()

    types = [e["type"] for e in fake_realtime.events()]
    assert types.index("response.cancel") < types.index("conversation.item.truncate")
    assert truncate["item_id"] == start["item_id"] and truncate["content_index"] == 0
    assert 600 <= truncate["audio_end_ms"] < 4000
    assert page.audio_ms(start["item_id"]) == truncate["audio_end_ms"]  # nothing after the interrupt
    assert not [e for e in fake_realtime.session.sent if e["type"] == "error"]  # OpenAI accepted the truncate
    assert heard and long_reply.startswith(heard.rstrip("…")) and len(heard) < len(long_reply)

    await page.hang_up()
    conversation = await db(conversation_of, page)
    assert conversation.voice.interruption_count == 1
    assert await db(events_of, page, "interruption") == [
        {"item_id": start["item_id"], "played_ms": 60_000, "audio_end_ms": truncate["audio_end_ms"]}]
    saved = await db(lambda: Message.objects.get(upstream_item_id=start["item_id"]))
    assert saved.content == heard and saved.metadata["interrupted"]
    assert long_reply.startswith(saved.metadata["generated"])  # generation stopped at the cancel


async def test_barge_in_truncates_at_the_played_time_and_keeps_only_what_was_heard(spa, fake_realtime, open_call):
    reply = "Our opening hours are nine to five every day of the week, including weekends and most holidays too."
    fake_realtime.reply(Say(reply, audio_ms=3000))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="When are you open?")
    start = await page.expect("audio.start")
    await page.expect("audio.done")  # all audio is here; the caller has heard only 900 ms of it
    assert await page.said() == reply

    await page.send(type="interrupt", item_id=start["item_id"], played_ms=900)
    truncate = (await fake_realtime.wait_for("conversation.item.truncate"))[0]
    assert truncate["audio_end_ms"] == 900
    assert not fake_realtime.events("response.cancel")  # nothing was active to cancel
    await page.expect("state", state="listening")
    await page.hang_up()
    saved = await db(lambda: Message.objects.get(upstream_item_id=start["item_id"]))
    assert reply.startswith(saved.content.rstrip("…")) and 10 < len(saved.content) < len(reply) / 2
    assert saved.metadata["heard_ms"] == 900 and saved.metadata["audio_ms"] == 3000


async def test_an_interrupt_after_the_reply_finished_playing_truncates_nothing(spa, fake_realtime, open_call):
    fake_realtime.reply(Say("We are open every day.", audio_ms=500))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="Are you open on Sunday?")
    start = await page.expect("audio.start")
    await page.expect("audio.done", item_id=start["item_id"])
    await page.said()

    await page.send(type="interrupt", item_id=start["item_id"], played_ms=500)
    await page.expect("state", state="listening")
    await page.hang_up()
    assert not fake_realtime.events("conversation.item.truncate")
    assert not fake_realtime.events("response.cancel")
    saved = await db(lambda: Message.objects.get(upstream_item_id=start["item_id"]))
    assert saved.content == "We are open every day."


async def test_it_never_commits_an_empty_or_too_short_buffer(spa, fake_realtime, open_call):
    page = await open_call()
    await page.said()

    await page.send(type="commit")
    assert (await page.expect("error"))["code"] == "commit_empty"
    await page.speak(80)
    await page.send(type="commit")
    assert (await page.expect("error"))["code"] == "commit_empty"
    assert not fake_realtime.events("input_audio_buffer.commit")

    await page.speak(120)  # 200 ms in all now
    await page.send(type="commit")
    await fake_realtime.wait_for("input_audio_buffer.commit")
    await page.said()
    assert len(fake_realtime.events("input_audio_buffer.commit")) == 1
    assert not [e for e in fake_realtime.session.sent if e["type"] == "error"]


async def test_a_commit_while_ava_is_still_answering_cancels_first_and_creates_one_response(
        spa, fake_realtime, open_call):
    fake_realtime.reply(Say("Let me think about the best treatment for that, there are several options.",
                            audio_ms=3000, pace=0.1))
    fake_realtime.reply(Say("Sure, HydraFacial then."))
    page = await open_call()
    await page.said()
    await page.speak(400)
    await page.send(type="commit")
    await fake_realtime.wait_for("response.create", count=2)
    await page.speak(400)
    await page.send(type="commit")
    await page.expect("transcript", timeout=8, speaker="assistant", final=True, text="Sure, HydraFacial then.")
    assert not [e for e in fake_realtime.session.sent if e["type"] == "error"]
    types = [e["type"] for e in fake_realtime.events() if e["type"] in
             {"response.create", "response.cancel", "input_audio_buffer.commit"}]
    assert types == ["response.create", "input_audio_buffer.commit", "response.create", "response.cancel",
                     "input_audio_buffer.commit", "response.create"]


async def test_a_tool_that_raises_becomes_an_error_result_and_the_call_goes_on(spa, fake_realtime, open_call):
    # A model can send a malformed id; the lookup raises inside the tool.
    fake_realtime.reply(Call("reschedule_appointment", {"appointment_id": "the-tuesday-one", "phone": "2125550199",
                                                        "start": f"{spa.tomorrow}T11:00"}))
    fake_realtime.reply(Say("I'm sorry, something went wrong on our side. Shall I have staff call you back?"))
    fake_realtime.reply(Say("Of course."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="Move my Tuesday appointment to 11 tomorrow")
    assert (await page.expect("tool", name="reschedule_appointment"))["status"] == "running"
    assert (await page.expect("tool", name="reschedule_appointment"))["status"] == "failed"
    assert (await page.said()).startswith("I'm sorry, something went wrong")
    await page.send(type="text", text="Yes please")
    assert await page.said() == "Of course."
    await page.hang_up()

    output = [e for e in fake_realtime.events("conversation.item.create")
              if e["item"]["type"] == "function_call_output"][0]["item"]["output"]
    assert '"ok": false' in output and '"code": "tool_error"' in output
    (call,) = await db(events_of, page, "tool_call")
    assert call["name"] == "reschedule_appointment" and call["result"]["code"] == "tool_error"
    errors = await db(events_of, page, "error")
    assert errors[0]["where"] == "tool" and errors[0]["name"] == "reschedule_appointment"
    assert (await db(conversation_of, page)).status == "completed"


async def test_an_anonymous_caller_stays_anonymous(spa, fake_realtime, open_call):
    fake_realtime.reply(Call("get_service_info", {"service": "HydraFacial"}))
    fake_realtime.reply(Say("HydraFacial is 199 dollars."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="How much is a HydraFacial?")
    assert await page.said() == "HydraFacial is 199 dollars."
    await page.hang_up()
    assert (await db(conversation_of, page)).customer is None
    assert await db(Customer.objects.count) == 0


async def test_a_caller_who_gives_their_phone_is_identified_as_the_existing_customer(spa, fake_realtime, open_call):
    known = await db(Customer.objects.create, name="Jane Doe", phone="+12125550199")
    fake_realtime.reply(Call("find_appointments", {"phone": "(212) 555-0199"}))
    fake_realtime.reply(Say("I don't see any upcoming appointments under that number."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="Do I have an appointment? My number is 212 555 0199")
    await page.said()
    await page.hang_up()
    conversation = await db(conversation_of, page)
    assert conversation.customer_id == known.pk
    assert await db(Customer.objects.count) == 1


async def test_transfer_to_staff_flags_the_conversation_and_tells_the_caller_what_happens_next(
        spa, fake_realtime, open_call):
    fake_realtime.reply(Say("If this is urgent, please call 911 now."),
                        Call("transfer_to_staff", {"reason": "Lip turning white after filler yesterday",
                                                   "urgent": True}))
    fake_realtime.reply(Say("A member of our team will call you back as soon as possible."))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="I had filler yesterday and my lip is turning white")
    assert await page.said() == "If this is urgent, please call 911 now."
    await page.said()
    await page.hang_up()
    conversation = await db(conversation_of, page)
    assert conversation.escalated
    (task,) = await db(events_of, page, "staff_task")
    assert task["kind"] == "callback" and task["urgent"] is True
    (call,) = await db(events_of, page, "tool_call")
    assert "911" in call["result"]["what_happens_next"]


async def test_end_call_says_goodbye_then_ends_the_call(spa, fake_realtime, open_call):
    fake_realtime.reply(Call("end_call", {"reason": "caller is done"}))
    fake_realtime.reply(Say("Thank you for calling Glow Med Spa. Goodbye!"))
    page = await open_call()
    await page.said()
    await page.send(type="text", text="That's all, thanks")
    assert await page.said() == "Thank you for calling Glow Med Spa. Goodbye!"
    ended = await page.expect("call.ended")
    assert ended["reason"] == "assistant_ended"
    await page.expect("websocket.close")
    conversation = await db(conversation_of, page)
    assert conversation.status == "completed" and conversation.voice.end_reason == "assistant_ended"
    assert conversation.voice.duration_seconds is not None


async def test_hanging_up_closes_the_upstream_within_a_second_and_finalises_the_call(
        spa, fake_realtime, open_call):
    page = await open_call()
    await page.said()
    started = asyncio.get_running_loop().time()
    await page.hang_up()
    while fake_realtime.session.connection.state.name != "CLOSED":
        assert asyncio.get_running_loop().time() - started < 1.0
        await asyncio.sleep(0.01)
    conversation = await db(conversation_of, page)
    assert conversation.status == "completed" and conversation.ended_at is not None
    assert conversation.voice.end_reason == "caller_hung_up"
    (greeting,) = await db(lambda: list(UsageRecord.objects.filter(conversation_id=page.session["conversation_id"])))
    assert greeting.kind == "voice" and greeting.audio_out > 0  # the greeting's usage, saved as it ended


async def test_with_server_turn_detection_openai_decides_the_turn_and_the_page_commit_is_ignored(
        spa, fake_realtime, open_call, settings):
    settings.VOICE_TURN_DETECTION = "semantic_vad"
    page = await open_call()
    await page.said()
    assert page.session["turn_detection"] == "semantic_vad"
    detection = fake_realtime.session.events("session.update")[0]["session"]["audio"]["input"]["turn_detection"]
    assert detection["type"] == "semantic_vad" and detection["interrupt_response"] is True
    await page.speak(400)
    await page.send(type="commit")
    await page.drain()
    assert not fake_realtime.events("input_audio_buffer.commit")
    assert len(fake_realtime.events("input_audio_buffer.append")) == 10  # the audio itself still flows
