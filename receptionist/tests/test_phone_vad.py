"""The phone's server-side smart commit on Twilio's 20 ms mu-law frames (receptionist/phone/vad.py):
the same dual-speed turn ends as the call page, on sounds made with sox and speech made with espeak-ng."""

import subprocess

import pytest

from receptionist.phone.vad import (COMMIT, DISCARD, FRAME_BYTES, FRAME_MS, MULAW_SILENCE, START, TurnDetector,
                                    TurnSettings, frame_level, mulaw_to_linear)


def sox_mulaw(*effects):
    """Raw 8 kHz mu-law bytes from sox (`-n` input, e.g. "synth", "0.5", "sine", "440")."""
    return subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", "-", *effects],
                          check=True, capture_output=True).stdout


def tone(seconds, volume=0.3):
    return sox_mulaw("synth", str(seconds), "sine", "440", "vol", str(volume))


def silence(seconds):
    return MULAW_SILENCE * int(seconds * 1000 / FRAME_MS)


def frames(audio):
    return [audio[i:i + FRAME_BYTES] for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES)]


def decisions(detector, audio, *, playing=False):
    """[(ms at the end of the frame, decision)] for every frame that decided something."""
    found = []
    for frame in frames(audio):
        decision = detector.feed(frame, playing=playing)
        if decision:
            found.append((detector.frames * FRAME_MS, decision))
    return found


def test_mulaw_decodes_as_g711_says():
    assert mulaw_to_linear(0xFF) == 0 and mulaw_to_linear(0x7F) == 0
    assert mulaw_to_linear(0x80) == 32124 and mulaw_to_linear(0x00) == -32124
    assert frame_level(MULAW_SILENCE) == 0.0
    assert 0.2 < frame_level(tone(0.1, volume=0.5)) < 0.5


def test_a_short_reply_is_committed_120_ms_after_its_last_voiced_frame():
    detector = TurnDetector(TurnSettings())
    found = decisions(detector, silence(1) + tone(0.5) + silence(1))
    # Speech starts once 100 ms are voiced; the turn ends 120 ms after the tone (it lasted under 1 s).
    assert found == [(1100, START), (1500 + 120, COMMIT)]


def test_a_longer_turn_waits_300_ms_after_its_last_voiced_frame():
    detector = TurnDetector(TurnSettings())
    found = decisions(detector, silence(1) + tone(1.5) + silence(1))
    assert found == [(1100, START), (2500 + 300, COMMIT)]


def test_the_delays_are_the_settings():
    detector = TurnDetector(TurnSettings(commit_silence_ms=600, short_commit_silence_ms=200, speech_start_ms=60))
    found = decisions(detector, silence(1) + tone(0.5) + silence(1) + tone(1.5) + silence(1))
    assert found == [(1060, START), (1500 + 200, COMMIT), (2560, START), (4000 + 600, COMMIT)]


def test_the_preroll_keeps_the_first_syllables():
    detector = TurnDetector(TurnSettings(preroll_ms=300))
    audio = silence(1) + tone(0.5)
    for frame in frames(audio):
        if detector.feed(frame) == START:
            break
    preroll = detector.preroll()
    # 300 ms before the onset plus the 100 ms that started the speech: 20 frames, the silence first.
    assert len(preroll) == 20 and preroll[0] == MULAW_SILENCE[:FRAME_BYTES] and frame_level(preroll[-1]) > 0.1


def test_a_click_is_not_speech_and_a_too_short_turn_is_not_committed():
    detector = TurnDetector(TurnSettings())
    assert decisions(detector, silence(1) + tone(0.04) + silence(1)) == []
    detector = TurnDetector(TurnSettings(min_commit_ms=400))
    assert [d for _, d in decisions(detector, silence(1) + tone(0.2) + silence(1))] == [START, DISCARD]


def test_a_quiet_line_hiss_is_not_speech_and_does_not_hold_a_turn_open():
    hiss = sox_mulaw("synth", "3", "whitenoise", "vol", "0.02")
    detector = TurnDetector(TurnSettings())
    assert decisions(detector, hiss) == []
    # Speech over it is, and the turn ends in the hiss.
    assert [d for _, d in decisions(detector, tone(0.5) + sox_mulaw("synth", "1", "whitenoise", "vol", "0.02"))] == [
        START, COMMIT]


def test_while_ava_plays_her_echo_on_the_line_does_not_interrupt_her_but_the_caller_does():
    echo = tone(1, volume=0.01)  # about -43 dBFS: over the -45 dBFS start threshold, under it + the 10 dB margin
    assert [d for _, d in decisions(TurnDetector(TurnSettings()), silence(1) + echo)] == [START]
    detector = TurnDetector(TurnSettings())
    assert decisions(detector, silence(1) + echo, playing=True) == []
    assert [d for _, d in decisions(detector, tone(0.5, volume=0.5), playing=True)] == [START]


@pytest.mark.parametrize("words", ["Yes.", "I would like to book a hydrafacial next Tuesday afternoon, please."])
def test_spoken_words_make_one_turn(words, tmp_path):
    wav = tmp_path / "caller.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), words], check=True)
    speech = subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", "-"],
                            check=True, capture_output=True).stdout
    found = decisions(TurnDetector(TurnSettings()), silence(0.5) + speech + silence(1.5))
    assert [d for _, d in found] == [START, COMMIT]
    started, committed = found[0][0], found[1][0]
    assert 500 < started < 800
    speech_ms = len(speech) // 8
    assert 500 + speech_ms - 300 < committed <= 500 + speech_ms + 300 + FRAME_MS
