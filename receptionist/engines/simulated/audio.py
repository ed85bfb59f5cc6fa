"""Audio the simulator speaks and hears: PCM16 24 kHz, or G.711 mu-law 8 kHz on the phone."""

import math
import struct

SAMPLE_RATE = 24000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # PCM16 mono: 48 bytes a millisecond


def tone(ms, *, frequency=440.0, amplitude=6000):
    """PCM16 of a sine tone: stands in for speech (never silence, so a page can hear it)."""
    samples = ms * SAMPLE_RATE // 1000
    step = 2 * math.pi * frequency / SAMPLE_RATE
    return struct.pack(f"<{samples}h", *(int(amplitude * math.sin(step * i)) for i in range(samples)))


def linear_to_mulaw(sample):
    """One 16-bit linear sample as a G.711 mu-law byte (ITU-T G.711's encoder)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    return ~(sign | (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)) & 0xFF


def mulaw_tone(ms, *, frequency=440.0, amplitude=6000):
    """G.711 mu-law 8 kHz of a sine tone: the phone's audio/pcmu (8 bytes a millisecond)."""
    step = 2 * math.pi * frequency / 8000
    return bytes(linear_to_mulaw(int(amplitude * math.sin(step * i))) for i in range(ms * 8))


def bytes_per_ms(audio_format):
    """How many bytes a millisecond of `audio.input.format` / `audio.output.format` takes."""
    return 8 if (audio_format or {}).get("type") in ("audio/pcmu", "audio/pcma") else BYTES_PER_MS


def speech_ms(text):
    """Roughly how long a text takes to say: about 15 characters a second, at least 300 ms."""
    return max(300, len(text) * 65)
