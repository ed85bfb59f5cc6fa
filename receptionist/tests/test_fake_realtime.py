"""The fake Realtime server answers the official SDK the way OpenAI does, errors included (the tests rely on it)."""

import base64
import json

import pytest
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosed

from tests.fakes.realtime_server import FakeRealtimeServer, Say


async def next_of(connection, kind):
    while True:
        event = json.loads(await connection.recv_bytes())
        if event["type"] == kind:
            return event


async def test_the_fake_refuses_what_openai_refuses():
    async with FakeRealtimeServer() as fake:
        fake.reply(Say("Hello there, how are you today?", audio_ms=1000))
        client = AsyncOpenAI(api_key="test-key", base_url=fake.base_url)
        async with client.realtime.connect(model="gpt-realtime") as connection:
            assert (await next_of(connection, "session.created"))["session"]["type"] == "realtime"

            await connection.send({"type": "session.update", "session": {"type": "realtime", "voice": "alloy"}})
            assert (await next_of(connection, "error"))["error"]["code"] == "unknown_parameter"  # the beta shape
            # The wire check read it with the SDK's models too, and found the key GA does not declare.
            assert fake.wire_mismatches == ["session.update: undeclared key .session.voice"]
            fake.wire_mismatches.clear()

            await connection.send({"type": "input_audio_buffer.append",
                                   "audio": base64.b64encode(b"\x00" * 48 * 50).decode()})
            await connection.send({"type": "input_audio_buffer.commit"})
            assert (await next_of(connection, "error"))["error"]["code"] == "input_audio_buffer_commit_empty"

            await connection.send({"type": "response.cancel"})
            assert (await next_of(connection, "error"))["error"]["code"] == "response_cancel_not_active"

            await connection.send({"type": "response.create", "response": {}})
            await connection.send({"type": "response.create", "response": {}})
            assert (await next_of(connection, "error"))["error"]["code"] == "conversation_already_has_active_response"
            done = await next_of(connection, "response.done")
            item_id = done["response"]["output"][0]["id"]

            await connection.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                                   "audio_end_ms": 1085})
            error = (await next_of(connection, "error"))["error"]
            assert error["code"] == "invalid_value" and "already shorter than 1085ms" in error["message"]
            await connection.send({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0,
                                   "audio_end_ms": 400})
            assert (await next_of(connection, "conversation.item.truncated"))["audio_end_ms"] == 400


async def test_the_fake_closes_a_beta_client_with_4000():
    async with FakeRealtimeServer() as fake:
        client = AsyncOpenAI(api_key="test-key", base_url=fake.base_url)
        manager = client.realtime.connect(model="gpt-realtime", extra_headers={"OpenAI-Beta": "realtime=v1"})
        async with manager as connection:
            assert (await next_of(connection, "error"))["error"]["code"] == "beta_api_shape_disabled"
            with pytest.raises(ConnectionClosed) as closed:
                await connection.recv_bytes()
        assert closed.value.rcvd.code == 4000
