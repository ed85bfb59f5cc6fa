"""The session's configuration: GA defaults, and how session.update merges into them."""

from receptionist.engines.simulated.audio import SAMPLE_RATE

# The beta shape's flat session fields; GA refuses them (they live under session.audio now).
BETA_SESSION_FIELDS = {"modalities", "voice", "input_audio_format", "output_audio_format",
                       "input_audio_transcription", "turn_detection"}


def default_session(model):
    return {
        "type": "realtime", "model": model,
        "output_modalities": ["audio"], "instructions": "", "tools": [], "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "transcription": None,
                      "noise_reduction": None,
                      "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                         "silence_duration_ms": 200, "create_response": True,
                                         "interrupt_response": True, "idle_timeout_ms": None}},
            "output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": "alloy", "speed": 1.0},
        },
    }


def merge_session(base, update):
    for key, value in update.items():
        # An object of another type (server_vad → semantic_vad) replaces the old one whole.
        if (isinstance(value, dict) and isinstance(base.get(key), dict)
                and value.get("type", base[key].get("type")) == base[key].get("type")):
            merge_session(base[key], value)
        else:
            base[key] = value
    return base
