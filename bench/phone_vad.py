"""Benchmark: the phone's server-side turn detection (receptionist/phone/vad.py), microseconds per
20 ms mu-law frame, one thread, pure Python (no audioop, no numpy).

Run from the project root:
    .venv/bin/python bench/phone_vad.py --seconds 60 --runs 5

It feeds a minute of a phone line (espeak-ng speech converted to 8 kHz mu-law by sox, with silences
between the turns) frame by frame to one TurnDetector and reports the time per frame, and the share
of one core that 100 calls (5,000 frames a second) would take.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from receptionist.phone.vad import FRAME_BYTES, MULAW_SILENCE, TurnDetector, TurnSettings  # noqa: E402


def line_audio(seconds):
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "I would like to book a hydrafacial next Tuesday, please."],
                       check=True)
        speech = subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw", "-"],
                                check=True, capture_output=True).stdout
    turn = speech + MULAW_SILENCE * 50  # a second of silence after each turn
    audio = turn * (int(seconds * 8000 / len(turn)) + 1)
    return [audio[i:i + FRAME_BYTES] for i in range(0, seconds * 8000, FRAME_BYTES)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    frames = line_audio(args.seconds)
    per_frame = []
    for _ in range(args.runs):
        detector = TurnDetector(TurnSettings())
        decisions = 0
        started = time.perf_counter()
        for frame in frames:
            if detector.feed(frame):
                decisions += 1
        per_frame.append((time.perf_counter() - started) / len(frames) * 1e6)
    median = statistics.median(per_frame)
    print(f"{len(frames)} frames, {decisions} decisions per run; per frame: median {median:.1f} µs, "
          f"min {min(per_frame):.1f} µs, max {max(per_frame):.1f} µs; "
          f"100 calls (5,000 frames/s): {median * 5000 / 1e6 * 100:.1f} % of a core")


if __name__ == "__main__":
    main()
