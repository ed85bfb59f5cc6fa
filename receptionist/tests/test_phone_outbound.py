"""Ava's audio toward Twilio costs few messages (the relay's cost is per message; bench/README.md, "Phone
calls"): a mark every 100 ms of audio and at the end of an item rather than after every chunk, chunks waiting
in the queue go as one media message with the last of their marks, and a mark's echo proves everything
before it was played."""

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


def marks(sent):
    return [m["mark"]["name"] for m in sent if m["event"] == "mark"]


async def test_a_mark_follows_the_first_chunk_then_every_100_ms_and_the_end_of_the_item():
    transport, sent, slow = line()
    transport.start_item("item_a")
    for n in range(13):  # 20 ms chunks, each sent as it comes
        transport.audio(bytes([n]) * 160)
        await asyncio.sleep(0)
    assert transport.playing  # from the first chunk on
    transport.item_done("item_a", 260)
    await transport.outbound.close(timeout=1)
    assert sum(1 for m in sent if m["event"] == "media") == 13
    assert marks(sent) == ["item_a:20", "item_a:120", "item_a:220", "item_a:260"]
    assert all(m["streamSid"] == "MZ1" for m in sent)


async def test_chunks_queued_behind_a_slow_send_go_as_one_media_message_with_the_last_mark():
    transport, sent, slow = line()
    transport.start_item("item_a")
    slow.clear()  # Twilio's socket is busy with the first chunk
    transport.audio(b"\x01" * 800)
    await asyncio.sleep(0)
    for n in (2, 3, 4):
        transport.audio(bytes([n]) * 800)
    slow.set()
    await transport.outbound.close(timeout=1)
    assert [m["event"] for m in sent] == ["media", "mark", "media", "mark"]
    assert audio_of(sent[0]) == b"\x01" * 800 and audio_of(sent[2]) == b"\x02" * 800 + b"\x03" * 800 + b"\x04" * 800
    assert marks(sent) == ["item_a:100", "item_a:400"]


async def test_an_echo_proves_the_marks_before_it_were_played():
    transport, sent, slow = line()
    transport.start_item("item_a")
    slow.clear()
    transport.audio(b"\x00" * 800)  # 100 ms
    await asyncio.sleep(0)  # on its way, alone
    for n in range(1, 5):
        transport.audio(bytes([n]) * 800)
    slow.set()
    await transport.outbound.close(timeout=1)
    transport.mark("item_a:100")
    assert transport.played_ms["item_a"] == 100 and transport.playing
    transport.mark("item_a:500")  # the other four were joined: one mark for all of them
    assert transport.played_ms["item_a"] == 500 and not transport.playing
    assert marks(sent) == ["item_a:100", "item_a:500"]


async def test_a_long_backlog_goes_in_media_messages_of_at_most_half_a_second():
    transport, sent, slow = line()
    transport.start_item("item_a")
    chunks = [bytes([n]) * 160 for n in range(60)]  # 1.2 s queued before the sender runs
    for chunk in chunks:
        transport.audio(chunk)
    transport.item_done("item_a", 1200)
    await transport.outbound.close(timeout=1)
    media = [audio_of(m) for m in sent if m["event"] == "media"]
    assert b"".join(media) == b"".join(chunks) and [len(m) for m in media] == [4000, 4000, 1600]
    assert marks(sent) == ["item_a:420", "item_a:920", "item_a:1200"]


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
    transport.start_item("item_b")  # nothing of item_a is left to mark
    await transport.outbound.close(timeout=1)
    assert [m["event"] for m in sent] == ["media", "mark", "clear"]
    assert not transport.playing
