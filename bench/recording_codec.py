"""Which codec keeps call recordings: size per minute and CPU per call-minute, Ogg Opus vs FLAC vs MP3, mono vs stereo.

A few minutes of a call made of real speech on both sides (espeak-ng, two voices taking turns with pauses, as a
call goes: one side speaks, the other listens), at the page's 24 kHz and the phone's 8 kHz. Each codec writes
it the way the recorder does (receptionist/bridge/recording: libsndfile through soundfile, 0.5 s of frames at a
time into an open file), and the CPU time of that writing (process time, one thread) is divided by the minutes
of audio. The file is then read back to check its length, and whether each side stayed on its own channel
(crosstalk: the level of the silent side while the other speaks; mono has none to keep).

    .venv/bin/python bench/recording_codec.py                # 3 minutes, 3 runs, best CPU of the runs
    .venv/bin/python bench/recording_codec.py --minutes 5 --runs 5
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

LINES = [
    ("caller", "Hi, I was wondering if you have any openings for a HydraFacial next week."),
    ("ava", "Of course. Next week I have Tuesday at ten, Wednesday at two thirty, or Friday morning at nine."),
    ("caller", "Wednesday afternoon works best for me. How long does it take?"),
    ("ava", "A HydraFacial takes about an hour, and there is no downtime, so you can go straight back to work."),
    ("caller", "Great. And how much is it? I think I saw a price on your website but I can't remember."),
    ("ava", "The signature HydraFacial is one hundred and ninety nine dollars. Shall I book Wednesday at two thirty?"),
    ("caller", "Yes please. My name is Jane Doe, and my number is two one two, five five five, zero one nine nine."),
    ("ava", "Thank you Jane. You're booked for a HydraFacial on Wednesday at two thirty with Dana Reyes."),
    ("caller", "Perfect. Is there parking near you?"),
    ("ava", "Yes, free parking is right behind the building. We'll send you a text to confirm. Anything else?"),
    ("caller", "No, that's everything. Thank you so much, bye."),
    ("ava", "You're welcome, Jane. See you on Wednesday. Goodbye."),
]
VOICES = {"caller": "en-us+f3", "ava": "en-us+f2"}
CHUNK_SECONDS = 0.5  # what the recorder's thread writes at a time
CODECS = [  # (name, format, subtype, compression_level or None)
    ("Ogg Opus, default", "OGG", "OPUS", None),
    ("Ogg Opus, level 0.8", "OGG", "OPUS", 0.8),
    ("Ogg Opus, level 0.9", "OGG", "OPUS", 0.9),
    ("Ogg Opus, level 0.95", "OGG", "OPUS", 0.95),
    ("Ogg Opus, level 1.0", "OGG", "OPUS", 1.0),
    ("Ogg Vorbis, default", "OGG", "VORBIS", None),
    ("Ogg Vorbis, level 0.9", "OGG", "VORBIS", 0.9),
    ("Ogg Vorbis, level 1.0", "OGG", "VORBIS", 1.0),
    ("MP3, default", "MP3", "MPEG_LAYER_III", None),
    ("FLAC 16-bit", "FLAC", "PCM_16", None),
]


def say(text, voice, rate):
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", "165", "--stdout", text], check=True,
                         capture_output=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed",
                          "-L", "-", "norm", "-3"], input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def conversation(minutes, rate):
    """Stereo int16: the caller left, Ava right, turns with 0.4-0.9 s pauses, repeated to `minutes`."""
    rng = np.random.default_rng(17)
    turns = [(who, say(text, VOICES[who], rate)) for who, text in LINES]
    total = int(minutes * 60 * rate)
    audio = np.zeros((total, 2), dtype=np.int16)
    at, n, speech = int(0.5 * rate), 0, {"caller": 0, "ava": 0}
    while True:
        who, samples = turns[n % len(turns)]
        if at + len(samples) > total:
            break
        audio[at:at + len(samples), 0 if who == "caller" else 1] = samples
        speech[who] += len(samples)
        at += len(samples) + int(rng.uniform(0.4, 0.9) * rate)
        n += 1
    return audio, {who: count / rate for who, count in speech.items()}


def encode(audio, rate, channels, fmt, subtype, level, path):
    """Write like the recorder does; returns CPU seconds (this thread) spent writing."""
    data = audio if channels == 2 else ((audio[:, 0].astype(np.int32) + audio[:, 1]) // 2).astype(np.int16)
    step = int(CHUNK_SECONDS * rate)
    extra = {} if level is None else {"compression_level": level}
    started = time.thread_time()
    with soundfile.SoundFile(path, "w", samplerate=rate, channels=channels, format=fmt, subtype=subtype,
                             **extra) as out:
        for at in range(0, len(data), step):
            out.write(data[at:at + step])
    return time.thread_time() - started


def crosstalk_db(decoded, original):
    """How loud the silent channel is while only the other speaks, relative to the speaking one (dB)."""
    frame = len(original) // (len(original) // 240)
    n = min(len(decoded), len(original)) // frame * frame
    level = lambda x: np.sqrt((x[:n].astype(np.float64) ** 2).reshape(-1, frame).mean(axis=1))  # noqa: E731
    left_alone = (level(original[:, 0]) > 300) & (level(original[:, 1]) == 0)
    if not left_alone.any():
        return float("nan")
    spoken = level(decoded[:, 0] * 32768)[left_alone].mean()
    leaked = level(decoded[:, 1] * 32768)[left_alone].mean()
    return 20 * np.log10(max(leaked, 1e-3) / spoken)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"libsndfile {soundfile.__libsndfile_version__}, soundfile {soundfile.__version__}, load "
          f"{os.getloadavg()[0]:.1f}, {args.minutes:g} min of call, best CPU of {args.runs} runs")
    print("| rate | codec | channels | KB per minute | CPU s per call-minute | length read back | crosstalk |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for rate in (24000, 8000):
            audio, _ = conversation(args.minutes, rate)
            for name, fmt, subtype, level in CODECS:
                for channels in (2, 1):
                    path = Path(tmp) / f"call.{fmt.lower()}"
                    try:
                        cpu = min(encode(audio, rate, channels, fmt, subtype, level, str(path))
                                  for _ in range(args.runs))
                    except (RuntimeError, soundfile.LibsndfileError) as exc:
                        print(f"| {rate // 1000} kHz | {name} | {channels} | not supported: {exc} | | | |")
                        continue
                    size = path.stat().st_size
                    decoded, read_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
                    length = len(decoded) / read_rate
                    talk = f"{crosstalk_db(decoded, audio):.0f} dB" if channels == 2 else "-"
                    print(f"| {rate // 1000} kHz | {name} | {'stereo' if channels == 2 else 'mono'} | "
                          f"{size / 1024 / args.minutes:.0f} | {cpu / args.minutes:.3f} | "
                          f"{length:.2f} s of {args.minutes * 60:.2f} s | {talk} |")
                    sys.stdout.flush()


if __name__ == "__main__":
    main()
