"""Ava's audio toward Twilio: chunks waiting in the queue go as one media message with the last one's mark,
and a mark's echo proves everything before it was played (the relay's cost is per message;
bench/README.md, "Phone calls")."""

import asyncio
import base64
import json

from receptionist.phone.transport import PhoneTransport
from receptionist.phone.vad import TurnSettings


def line():
    sent = []
    slow = asyncio.Event()
    slow.set()

    async def send_text(text):
        sent.append(json.loads(text))
        await slow.wait()

    async def close_line(**kwargs):
        pass

    transport = PhoneTransport(stream_sid="MZ1", send_text=send_text, close_line=close_line, turn=TurnSettings())
    transport.start()
    return transport, sent, slow


def audio_of(message):
    return base64.b64decode(message["media"]["payload"])


async def test_chunks_queued_behind_a_slow_send_go_as_one_media_message_with_the_last_mark():
    transport, sent, slow = line()
    transport.start_item("item_a")
    slow.clear()  # Twilio's socket is busy with the first chunk
    transport.audio(b"\x01" * 160)
    await asyncio.sleep(0)
    for n in (2, 3, 4):
        transport.audio(bytes([n]) * 160)
    slow.set()
    await transport.outbound.close(timeout=1)
    assert [m["event"] for m in sent] == ["media", "mark", "media", "mark"]
    assert audio_of(sent[0]) == b"\x01" * 160 and sent[1]["mark"]["name"] == "item_a:20"
    assert audio_of(sent[2]) == b"\x02" * 160 + b"\x03" * 160 + b"\x04" * 160
    assert sent[3]["mark"]["name"] == "item_a:80" and all(m["streamSid"] == "MZ1" for m in sent)


async def test_an_echo_proves_the_marks_before_it_were_played():
    transport, sent, slow = line()
    transport.start_item("item_a")
    slow.clear()
    transport.audio(b"\x00" * 800)  # 100 ms
    await asyncio.sleep(0)  # on its way, alone
    for n in range(1, 5):
        transport.audio(bytes([n]) * 800)
    assert transport.playing
    slow.set()
    await transport.outbound.close(timeout=1)
    transport.mark("item_a:100")  # the first chunk went alone
    assert transport.played_ms["item_a"] == 100 and transport.playing
    transport.mark("item_a:500")  # the other four were joined: one mark for all of them
    assert transport.played_ms["item_a"] == 500 and not transport.playing
    assert [m["mark"]["name"] for m in sent if m["event"] == "mark"] == ["item_a:100", "item_a:500"]


async def test_a_long_backlog_goes_in_media_messages_of_at_most_half_a_second():
    transport, sent, slow = line()
    transport.start_item("item_a")
    chunks = [bytes([n]) * 160 for n in range(60)]  # 1.2 s queued before the sender runs
    for chunk in chunks:
        transport.audio(chunk)
    await transport.outbound.close(timeout=1)
    media = [audio_of(m) for m in sent if m["event"] == "media"]
    assert b"".join(media) == b"".join(chunks) and [len(m) for m in media] == [4000, 4000, 1600]
    assert [m["mark"]["name"] for m in sent if m["event"] == "mark"] == ["item_a:500", "item_a:1000", "item_a:1200"]


async def test_a_clear_drops_what_is_queued_and_goes_first():
    transport, sent, slow = line()
    transport.start_item("item_a")
    slow.clear()
    transport.audio(b"\x00" * 160)
    await asyncio.sleep(0)  # Twilio's socket is busy with it
    for n in range(10):
        transport.audio(bytes([n]) * 160)
    transport.clear_line()  # the caller barged in
    slow.set()
    await transport.outbound.close(timeout=1)
    assert [m["event"] for m in sent] == ["media", "mark", "clear"]
    assert not transport.playing
