"""Every event the voice tests put on the wire is read with the OpenAI SDK's own models.

The fake Realtime server checks each event both ways (tests/fakes/realtime_wire.py) and a test
that leaves it with a mismatch fails. These tests show the check catches the misreadings a fake
built on Ava's own simulator would otherwise share with the product.
"""

import pytest

from tests.fakes.realtime_server import FakeRealtimeServer, Say
from tests.fakes.realtime_wire import mismatches


@pytest.mark.parametrize("event, side, problem", [
    ({"type": "response.audio.delta", "item_id": "i", "delta": "AAA="}, "server", "not one the SDK knows"),
    ({"type": "session.update", "session": {"type": "realtime", "voice": "marin"}}, "client",
     "undeclared key .session.voice"),
    ({"type": "response.done", "event_id": "e", "response": {"status": "failed", "status_details": {
        "type": "failed", "error": {"type": "server_error", "detail": "x"}}}}, "server",
     "undeclared key .response.status_details.error.detail"),
    ({"type": "response.done", "event_id": "e", "response": {"status": "incomplete", "status_details": {
        "type": "incomplete", "reason": "length"}}}, "server", "status_details', 'reason'"),
    ({"type": "conversation.item.truncate", "item_id": "i", "content_index": 0, "audio_end_ms": "400"}, "client",
     "audio_end_ms"),
    ({"type": "error", "error": {"type": "invalid_request_error", "message": "x"}}, "server", "event_id"),
])
def test_it_names_what_the_sdk_would_not_read(event, side, problem):
    (found,) = mismatches(event, side=side)
    assert problem in found


def test_it_reads_the_ga_events_ava_sends_and_receives():
    assert mismatches({"type": "session.update", "event_id": "ava_1", "session": {
        "type": "realtime", "instructions": "Be kind.", "output_modalities": ["audio"], "max_output_tokens": 1024,
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                            "transcription": {"model": "gpt-transcribe"}, "noise_reduction": {"type": "near_field"},
                            "turn_detection": None},
                  "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "tools": [{"type": "function", "name": "end_call", "description": "End.", "parameters": {"type": "object"}}],
        "tool_choice": "auto"}}, side="client") == []
    assert mismatches({"type": "response.done", "event_id": "e", "response": {
        "id": "r", "status": "incomplete", "status_details": {"type": "incomplete", "reason": "max_output_tokens"},
        "output": []}}, side="server") == []


async def test_a_mismatch_on_the_wire_fails_the_test_that_sent_it():
    from openai import AsyncOpenAI

    fake = FakeRealtimeServer()
    await fake.start()
    fake.reply(Say("Hello."))
    client = AsyncOpenAI(api_key="test-key", base_url=fake.base_url)
    async with client.realtime.connect(model="gpt-realtime-2.1") as connection:
        await connection.send({"type": "response.create", "response": {"instructions": "Hi", "modalities": ["audio"]}})
        while (await connection.recv()).type != "response.done":
            pass
    with pytest.raises(AssertionError, match="response.create: undeclared key .response.modalities"):
        await fake.stop()
