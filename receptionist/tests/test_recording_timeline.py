"""Where the recorder puts each piece of a call's audio (receptionist/bridge/recording/timeline.py), on exact
arrival times: the rules a recording's listener relies on, checked sample by sample."""

import numpy as np

from receptionist.bridge.recording.timeline import Timeline

RATE = 24000


def pcm(ms, value=8000):
    return np.full(ms * RATE // 1000, value, dtype="<i2").tobytes()


def track(timeline, end_ms):
    """Both sides as they will be written: (left, right) arrays up to `end_ms`."""
    frames = timeline.take(end_ms * RATE // 1000)
    return frames[:, 0], frames[:, 1]


def loud_ms(side):
    """Where a side is not silent, as (first ms, last ms + 1)."""
    where = np.flatnonzero(side)
    return (where[0] * 1000 // RATE, (where[-1] + 1) * 1000 // RATE) if len(where) else None


def test_the_callers_audio_ends_where_it_arrived_and_a_burst_stays_contiguous():
    timeline = Timeline(rate=RATE, mulaw=False)
    timeline.caller_audio(1.0, pcm(40))  # one frame, arrived at 1.0 s: spoken 0.96-1.0
    # The page's pre-roll: 300 ms sent at once at 3.0 s, then frames in real time.
    for n in range(8):
        timeline.caller_audio(3.0, pcm(40, 100 + n))
    timeline.caller_audio(3.04, pcm(40, 200))
    timeline.burst_settled(3.5)
    left, _ = track(timeline, 4000)
    assert loud_ms(left[:2000 * RATE // 1000]) == (960, 1000)
    burst = left[2680 * RATE // 1000:3040 * RATE // 1000]  # ends at its arrival: 3.0 - 320 ms .. 3.0, then 3.04
    assert [int(burst[n * 960]) for n in range(9)] == [100, 101, 102, 103, 104, 105, 106, 107, 200]
    assert not left[:2680 * RATE // 1000][1000 * RATE // 1000:].any()


def test_a_barge_in_cuts_avas_item_where_it_was_heard_and_drops_what_was_queued_after_it():
    timeline = Timeline(rate=RATE, mulaw=False)
    timeline.ava_audio(0.5, "answer", pcm(3000))  # three seconds arrive at once at 0.5 s
    timeline.ava_audio(0.6, "follow_up", pcm(1000))  # queued behind it: would play from 3.5 s
    timeline.cut("answer", 1200)
    timeline.ava_audio(2.5, "next", pcm(500))  # the next answer plays from its arrival
    _, right = track(timeline, 5000)
    assert loud_ms(right[:2000 * RATE // 1000]) == (500, 1700)
    assert loud_ms(right[2000 * RATE // 1000:]) == (500, 1000)  # 2.5 .. 3.0 s
    assert timeline.offsets() == {"answer": (500, 1700), "next": (2500, 3000)}


def test_avas_audio_that_is_already_written_is_not_cut_again_and_a_hang_up_silences_the_rest():
    timeline = Timeline(rate=RATE, mulaw=False)
    timeline.ava_audio(0.0, "greeting", pcm(4000))
    track(timeline, 1000)  # the first second is written
    timeline.cut("greeting", 500)  # reported late: the cut can only take effect from what is unwritten
    assert timeline.offsets() == {"greeting": (0, 1000)}
    timeline.ava_audio(1.5, "answer", pcm(4000))
    assert timeline.end(2.0, caller_gone=True) == 2000 * RATE // 1000
    assert timeline.offsets()["answer"] == (1500, 2000)


def test_a_callers_turn_runs_from_their_first_voiced_frame_to_the_commit():
    timeline = Timeline(rate=RATE, mulaw=False)
    timeline.caller_audio(1.0, pcm(300, value=0) + pcm(500))  # pre-roll of silence, then speech
    timeline.committed("turn_1")
    timeline.caller_audio(4.0, pcm(200, value=3))  # too quiet to be speech (about -80 dBFS)
    timeline.caller_audio(4.3, pcm(100))
    timeline.committed("turn_2")
    assert timeline.offsets() == {"turn_1": (500, 1000), "turn_2": (4200, 4300)}


def test_phone_audio_is_decoded_from_mu_law():
    timeline = Timeline(rate=8000, mulaw=True)
    timeline.caller_audio(0.1, b"\x00" * 800)  # mu-law 0x00: the loudest negative sample
    timeline.ava_audio(0.0, "hello", b"\xff" * 400)  # 0xff: silence
    timeline.burst_settled(0.2)
    frames = timeline.take(800)
    assert (frames[:, 0] == -32124).all() and not frames[:, 1].any()
