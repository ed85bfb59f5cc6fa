"""Ava's audio toward the page: frames that wait in the queue go as one message, in order, never across
a control message (the relay's cost is per message; bench/README.md, "Voice relay")."""

import asyncio

from receptionist.bridge.outbound import MAX_JOINED_BYTES, PageOutbound


def frame(n, size=1920):
    return bytes([n]) * size


async def test_frames_queued_behind_a_slow_send_go_as_one_message_and_never_cross_a_control_message():
    sent = []
    slow = asyncio.Event()

    async def send_text(text):
        sent.append(text)

    async def send_bytes(data):
        sent.append(data)
        await slow.wait()  # the page's connection is busy with this one

    outbound = PageOutbound(send_text=send_text, send_bytes=send_bytes, max_audio_bytes=10**6)
    outbound.start()
    outbound.audio(frame(1))
    await asyncio.sleep(0)  # alone in the queue: it goes at once
    for n in (2, 3, 4):
        outbound.audio(frame(n))
    outbound.json({"type": "audio.done", "item_id": "a", "audio_ms": 160})
    outbound.audio(frame(5))
    slow.set()
    await outbound.close(timeout=1)
    assert sent == [frame(1), frame(2) + frame(3) + frame(4), '{"type":"audio.done","item_id":"a","audio_ms":160}',
                    frame(5)]
    assert outbound.audio_bytes == 0


async def test_a_long_backlog_goes_in_messages_of_at_most_half_a_second():
    sent = []

    async def send_bytes(data):
        sent.append(data)

    outbound = PageOutbound(send_text=None, send_bytes=send_bytes, max_audio_bytes=10**6)
    frames = [frame(n % 256) for n in range(40)]  # 40 ms each: 1.6 s queued before the sender runs
    for data in frames:
        outbound.audio(data)
    outbound.start()
    await outbound.close(timeout=1)
    assert b"".join(sent) == b"".join(frames)
    assert all(len(message) <= MAX_JOINED_BYTES for message in sent) and len(sent) == 4
