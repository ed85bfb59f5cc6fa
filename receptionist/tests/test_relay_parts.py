"""The relay's small parts on their own: item order, heard words, the bounded page buffer, the prompt."""

import asyncio

import pytest

from receptionist.bridge.outbound import PageOutbound
from receptionist.bridge.transcript import Transcript, heard_words
from receptionist.prompt import build_instructions, greeting_line, line_to_say, say_exactly
from scheduling.models import ClinicSettings


def test_items_keep_the_upstream_order_whatever_order_their_words_arrive_in():
    transcript = Transcript()
    greeting = transcript.place("greeting")
    caller = transcript.place("caller", "greeting")
    reply = transcript.place("reply", "caller")
    inserted = transcript.place("late", "greeting")  # inserted between two placed items
    filler = transcript.place("filler", in_conversation=False)
    after_filler = transcript.place("next", "reply")  # the filler is nobody's previous item
    assert greeting < inserted < caller < reply < filler < after_filler
    assert transcript.place("caller", "reply") == caller  # fixed once placed


def test_heard_words_cut_in_proportion_at_a_word_boundary():
    text = "We are open nine to five every day"
    assert heard_words(text, 3000, 3000) == text
    assert heard_words(text, 1000, 3000) == "We are open…"
    assert heard_words(text, 0, 3000) == ""


async def test_the_page_buffer_drops_audio_beyond_its_cap_but_never_control_messages():
    sent = []
    stalled = asyncio.Event()

    async def send_text(text):
        sent.append(text)

    async def send_bytes(data):
        await stalled.wait()  # a caller whose connection has stalled
        sent.append(data)

    outbound = PageOutbound(send_text=send_text, send_bytes=send_bytes, max_audio_bytes=4800)
    outbound.start()
    accepted = [outbound.audio(b"\x00" * 960) for _ in range(10)]
    outbound.json({"type": "state", "state": "listening"})
    assert accepted == [True] * 5 + [False] * 5
    assert outbound.dropped_audio_bytes == 4800
    stalled.set()
    await outbound.close(timeout=1)
    assert sum(len(item) for item in sent if isinstance(item, bytes)) == 5 * 960  # the 5 frames that fit the cap
    assert sent[-1] == '{"type":"state","state":"listening"}'


def test_say_exactly_round_trips_for_the_local_engine():
    assert line_to_say(say_exactly('Hello, "friend".', why="Greet.")) == 'Hello, "friend".'
    assert line_to_say("Be brief.") is None


@pytest.mark.django_db
def test_the_greeting_carries_the_recording_notice(spa):
    assert greeting_line(spa.clinic) == ("Thank you for calling Glow Med Spa. I'm Ava. This call is recorded and "
                                         "transcribed. How can I help you today?")
    clinic = ClinicSettings.load()
    clinic.greeting = "Welcome to {clinic}!"
    assert greeting_line(clinic) == "Welcome to Glow Med Spa! This call is recorded and transcribed."


@pytest.mark.django_db
def test_the_instructions_hold_the_rules_the_clinic_and_todays_date(spa):
    clinic = ClinicSettings.load()
    clinic.persona = "Warm, unhurried, never pushy."
    clinic.save()
    text = build_instructions(channel="voice")
    for fact in ("You are Ava, the receptionist at Glow Med Spa", "Never say you are ChatGPT", "call 911",
                 "transfer_to_staff at once with urgent=true", "Answer in the caller's language",
                 "Monday: 9:00 AM–5:00 PM", "- Botox (Injectables, 30 min): $12 a unit.",
                 "- Dana Reyes (Nurse Injector, RN): Botox, HydraFacial", "Please give 24 hours' notice.",
                 "12 Spring St, New York", "Warm, unhurried, never pushy.", "(America/New_York)"):
        assert fact in text, fact
