"""The caller's turn on the phone, decided on the server: the call page's dual-speed smart commit on
Twilio's 20 ms G.711 mu-law frames (docs/voice-protocol.md, "Smart commit"; docs/phone.md).

Pure and cheap: a 256-entry table turns each mu-law byte into its squared linear level, so one frame
costs a table sum and a square root (bench/README.md has the microseconds; no audioop, which Python 3.13
dropped, and no numpy). The thresholds are the page's settings: a frame is voiced when its level beats
VOICE_VAD_MIN_LEVEL_DBFS and the adaptive noise floor by VOICE_VAD_SNR_DB; while Ava is playing it must
also beat the start threshold by VOICE_VAD_ECHO_MARGIN_DB, so the line's echo of her voice does not
interrupt her. Speech starts after VOICE_SPEECH_START_MS of voiced frames; the turn ends
VOICE_COMMIT_SILENCE_MS after the last voiced frame, or VOICE_SHORT_COMMIT_SILENCE_MS after it when the
utterance lasted VOICE_SHORT_UTTERANCE_MS or less.
"""

import math
from collections import deque
from dataclasses import dataclass

FRAME_MS = 20  # Twilio's media frames, always
FRAME_BYTES = 160  # 8 kHz, one byte a sample
START_GAP_MS = 20  # an unvoiced gap this long resets the speech-start debounce (as on the page)
HYSTERESIS = 0.5  # once speaking, frames stay voiced down to half the start threshold
FLOOR_RISE = 1.00346 ** 2  # the noise floor rises about 3 dB a second (the page's, per 20 ms)
FLOOR_MIN, FLOOR_MAX = 1e-5, 0.05


def mulaw_to_linear(byte):
    """One G.711 mu-law byte as a 16-bit linear sample (ITU-T G.711's decoder)."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte & 0x70) >> 4)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


# The square of each byte's level (full scale = 1.0): the only per-sample work is a lookup.
_SQUARED = tuple((mulaw_to_linear(b) / 32768.0) ** 2 for b in range(256))
MULAW_SILENCE = b"\xff" * FRAME_BYTES  # mu-law's zero


def ratio(db):
    return 10 ** (db / 20)


def frame_level(frame):
    """RMS level of a mu-law frame, full scale = 1.0."""
    if not frame:
        return 0.0
    return math.sqrt(sum(map(_SQUARED.__getitem__, frame)) / len(frame))


@dataclass(frozen=True)
class TurnSettings:
    commit_silence_ms: int = 300
    short_commit_silence_ms: int = 120
    short_utterance_ms: int = 1000
    speech_start_ms: int = 100
    preroll_ms: int = 300
    min_commit_ms: int = 100
    min_level_dbfs: float = -45.0
    snr_db: float = 10.0
    echo_margin_db: float = 10.0

    @classmethod
    def from_settings(cls):
        from django.conf import settings

        return cls(commit_silence_ms=settings.VOICE_COMMIT_SILENCE_MS,
                   short_commit_silence_ms=settings.VOICE_SHORT_COMMIT_SILENCE_MS,
                   short_utterance_ms=settings.VOICE_SHORT_UTTERANCE_MS, speech_start_ms=settings.VOICE_SPEECH_START_MS,
                   preroll_ms=settings.VOICE_PREROLL_MS, min_level_dbfs=settings.VOICE_VAD_MIN_LEVEL_DBFS,
                   snr_db=settings.VOICE_VAD_SNR_DB, echo_margin_db=settings.VOICE_VAD_ECHO_MARGIN_DB)


START = "start"  # the caller began speaking: send `preroll()` up, then every frame; barge-in if Ava plays
COMMIT = "commit"  # the turn ended with enough audio: commit it and ask for a response
DISCARD = "discard"  # the turn ended too short to commit (a cough, a click): nothing to answer


class TurnDetector:
    """Feed it each 20 ms frame of the caller's audio in order; it says when a turn starts and ends.

    `feed(frame, playing=…)` returns START, COMMIT, DISCARD or None. While `speaking` is true every frame
    belongs upstream; on START, `preroll()` gives the frames just before (the caller's first syllables).
    Times are counted in frames, never read from a clock, so a test can feed a WAV as fast as it likes.
    """

    def __init__(self, turn=None):
        self.turn = turn or TurnSettings()
        self.min_level = ratio(self.turn.min_level_dbfs)
        self.snr = ratio(self.turn.snr_db)
        self.echo_margin = ratio(self.turn.echo_margin_db)
        self.floor = ratio(-70)
        self.speaking = False
        self.frames = 0  # frames fed so far: the detector's clock
        self.candidate_ms = 0
        self.gap_ms = 0
        self.onset = 0  # frame index where the speech began
        self.last_voiced = 0  # frame index after the last voiced frame
        self.sent_ms = 0  # audio sent upstream since the last commit
        ring = (self.turn.preroll_ms + self.turn.speech_start_ms + START_GAP_MS) // FRAME_MS + 1
        self._ring = deque(maxlen=ring)

    def feed(self, frame, *, playing=False):
        self.frames += 1
        self._ring.append(frame)
        level = frame_level(frame)
        threshold = max(self.floor * self.snr, self.min_level)
        if playing:
            threshold *= self.echo_margin
        self.floor = self.floor * 0.8 + level * 0.2 if level < self.floor else self.floor * FLOOR_RISE
        self.floor = min(max(self.floor, FLOOR_MIN), FLOOR_MAX)
        # Hysteresis, but never below the minimum level: a line's hiss must not hold a turn open.
        voiced = level > (max(threshold * HYSTERESIS, self.min_level) if self.speaking else threshold)

        if not self.speaking:
            if voiced:
                if self.candidate_ms == 0:
                    self.onset = self.frames - 1
                self.candidate_ms += FRAME_MS
                self.gap_ms = 0
                if self.candidate_ms >= self.turn.speech_start_ms:
                    self.speaking = True
                    self.last_voiced = self.frames
                    return START
            elif self.candidate_ms:
                self.gap_ms += FRAME_MS
                if self.gap_ms > START_GAP_MS:
                    self.candidate_ms = 0
            return None

        self.sent_ms += FRAME_MS
        if voiced:
            self.last_voiced = self.frames
        silence_ms = (self.frames - self.last_voiced) * FRAME_MS
        utterance_ms = (self.last_voiced - self.onset) * FRAME_MS
        short = utterance_ms <= self.turn.short_utterance_ms
        if silence_ms < (self.turn.short_commit_silence_ms if short else self.turn.commit_silence_ms):
            return None
        self.speaking = False
        self.candidate_ms = 0
        self.last_utterance_ms = utterance_ms
        if self.sent_ms < self.turn.min_commit_ms:
            return DISCARD
        self.sent_ms = 0
        return COMMIT

    def preroll(self):
        """The frames from `preroll_ms` before the speech began up to now (sent on START)."""
        frames = list(self._ring)
        first = max(0, len(frames) - (self.frames - self.onset) - self.turn.preroll_ms // FRAME_MS)
        chosen = frames[first:]
        self.sent_ms += len(chosen) * FRAME_MS
        return chosen
