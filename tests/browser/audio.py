"""Microphone files for the call page's browser tests: speech (espeak-ng), tones and silence.

Chromium plays a WAV given with --use-file-for-fake-audio-capture as the microphone from the moment
getUserMedia opens it, then loops it; so a test places each sound at a known time and pads the end
with silence. Everything here works on 16-bit mono PCM at 24 kHz (the call's rate), as bytes; the
files are written at 16 kHz to keep them small (Chromium resamples).
"""

import math
import shutil
import struct
import subprocess
import wave
from dataclasses import dataclass, field
from pathlib import Path

RATE = 24000
BYTES_PER_MS = RATE * 2 // 1000
FILE_RATE = 16000
FRAME_MS = 10
ESPEAK = shutil.which("espeak-ng")
SOX = shutil.which("sox")


def silence(ms):
    return b"\0\0" * (ms * RATE // 1000)


def tone(ms, *, frequency=440.0, amplitude=12000):
    samples = ms * RATE // 1000
    step = 2 * math.pi * frequency / RATE
    return struct.pack(f"<{samples}h", *(int(amplitude * math.sin(step * i)) for i in range(samples)))


def speech(text, *, voice="en-us", speed=160):
    """`text` said by espeak-ng, as 24 kHz PCM16, with its leading and trailing silence cut.

    The cut is sharp (everything below -40 dBFS at either end goes), so the speech's end in the file is
    known to 10 ms and a test can time the page's commit against it.
    """
    if not ESPEAK or not SOX:
        raise RuntimeError("The call page's browser tests need espeak-ng and sox: apt-get install espeak-ng sox")
    wav = subprocess.run([ESPEAK, "-v", voice, "-s", str(speed), "--stdout", text], check=True,
                         capture_output=True).stdout
    pcm = subprocess.run([SOX, "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
                          "-L", "-", "norm", "-3"], input=wav, check=True, capture_output=True).stdout
    frames = voiced_frames(pcm)
    first, last = frames[0], frames[-1]
    return pcm[first * FRAME_MS * BYTES_PER_MS:(last + 1) * FRAME_MS * BYTES_PER_MS]


def level_dbfs(pcm):
    count = len(pcm) // 2
    if not count:
        return -120.0
    samples = struct.unpack(f"<{count}h", pcm[:count * 2])
    rms = math.sqrt(sum(s * s for s in samples) / count) / 32768
    return 20 * math.log10(rms) if rms > 0 else -120.0


def voiced_frames(pcm, *, threshold_dbfs=-40.0):
    """Indexes of the 10 ms frames of `pcm` louder than `threshold_dbfs`."""
    size = FRAME_MS * BYTES_PER_MS
    return [n for n in range(len(pcm) // size) if level_dbfs(pcm[n * size:(n + 1) * size]) > threshold_dbfs]


def duration_ms(pcm):
    return len(pcm) // BYTES_PER_MS


@dataclass
class Timeline:
    """A microphone recording built sound by sound, remembering when each one starts and ends."""

    pcm: bytearray = field(default_factory=bytearray)
    marks: dict = field(default_factory=dict)

    @property
    def now_ms(self):
        return duration_ms(self.pcm)

    def pause(self, ms):
        self.pcm += silence(ms)
        return self

    def until(self, at_ms):
        """Silence up to `at_ms` from the start."""
        if at_ms < self.now_ms:
            raise ValueError(f"already at {self.now_ms} ms, past {at_ms} ms")
        return self.pause(at_ms - self.now_ms)

    def add(self, name, pcm):
        start = self.now_ms
        self.pcm += pcm
        self.marks[name] = (start, self.now_ms)
        return self

    def write(self, path: Path, *, pad_ms=30000):
        """The WAV, with `pad_ms` of silence after the last sound so the loop comes late."""
        data = bytes(self.pcm + silence(pad_ms))
        data = resample(data, RATE, FILE_RATE)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(FILE_RATE)
            out.writeframes(data)
        return path


def resample(pcm, source_rate, target_rate):
    """Mono PCM16 from one rate to another, through sox (linear interpolation would alias speech)."""
    if source_rate == target_rate:
        return pcm
    return subprocess.run([SOX, "-t", "raw", "-r", str(source_rate), "-c", "1", "-b", "16", "-e", "signed", "-L", "-",
                           "-t", "raw", "-r", str(target_rate), "-c", "1", "-b", "16", "-e", "signed", "-L", "-"],
                          input=pcm, check=True, capture_output=True).stdout
