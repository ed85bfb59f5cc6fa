"""The session's configuration: the settings a call runs with, the lines it may say, the GA session."""

from dataclasses import dataclass

from django.conf import settings

MIN_COMMIT_MS = 100  # OpenAI refuses a commit of less (input_audio_buffer_commit_empty)
MAX_TEXT_CHARS = 2000
MAX_PENDING_AUDIO_MS = 5000  # held while the engine (re)connects, then sent
MAX_RECONNECTS = 3  # one attempt per loss, at most this many losses a call
SEED_LINES = 60
END_GRACE_SECONDS = 15  # after a goodbye is asked for, the call ends even if it never comes
APOLOGY = ("I'm sorry, we've lost the connection to our assistant. Please call the clinic{phone}, and we'll be "
           "glad to help. Goodbye.")
UNAVAILABLE = "Our assistant is not available right now. Please call the clinic{phone}. We're sorry for the trouble."
TIME_LIMIT_LINE = ("We've reached the time limit for this call. Thank you for calling, and please call again if "
                   "there's anything else. Goodbye!")
BENIGN_ERRORS = {"response_cancel_not_active", "conversation_already_has_active_response"}
# When a response ends unfinished: a failed one is retried once, then this is shown (the engine is failing,
# so it may not be able to say it); one cut off, or stopped by OpenAI's safety filter, gets a spoken line.
RESPONSE_FAILED_LINE = "I'm sorry, I'm having trouble answering right now. Could you say that again?"
CUT_OFF_LINE = "I'm sorry, I went on too long there. Which part would you like me to go over?"
FILTERED_LINE = "I'm sorry, I can't help with that one. Is there anything else I can do for you?"
LOW_RATE_LIMIT = 0.10  # a rate limit with less than this share remaining is logged and recorded
# Parts of the session a call can do without: when OpenAI refuses one (error.param names it), the update
# is sent once more without it and the call goes on, with what was dropped on record. Anything else
# refused (instructions, tools, formats, turn detection) ends the call: it would run on settings that
# OpenAI never confirmed.
OPTIONAL_SESSION_PARTS = (
    ("audio", "input", "transcription"),  # the caller's words are then not written down
    ("audio", "input", "noise_reduction"),
    ("audio", "output", "voice"),  # OpenAI's default voice
    ("audio", "output", "speed"),
    ("max_output_tokens",),
)


@dataclass(frozen=True)
class VoiceConfig:
    """The settings one call runs with, read when it starts (tests change them between calls)."""

    turn_detection: str
    voice: str
    transcription_model: str
    max_call_seconds: int
    max_frame_bytes: int
    outbound_buffer_ms: int
    filler_after_ms: int
    connect_timeout: float
    max_output_tokens: int

    @classmethod
    def from_settings(cls):
        return cls(
            turn_detection=settings.VOICE_TURN_DETECTION, voice=settings.VOICE_VOICE,
            transcription_model=settings.VOICE_TRANSCRIPTION_MODEL, max_call_seconds=settings.VOICE_MAX_CALL_SECONDS,
            max_frame_bytes=settings.VOICE_MAX_FRAME_BYTES, outbound_buffer_ms=settings.VOICE_OUTBOUND_BUFFER_MS,
            filler_after_ms=settings.VOICE_FILLER_AFTER_MS, connect_timeout=settings.VOICE_UPSTREAM_CONNECT_TIMEOUT,
            max_output_tokens=settings.VOICE_MAX_OUTPUT_TOKENS,
        )


class SessionLost(Exception):
    """The engine's session ended under us (it expired, or the connection went)."""


def realtime_session(config, *, instructions, tools, audio_format):
    """The GA `session.update` session: the transport's audio format both ways, transcription on, tools."""
    detection = {
        "none": None,
        "server_vad": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                       "silence_duration_ms": 500, "create_response": True, "interrupt_response": True},
        "semantic_vad": {"type": "semantic_vad", "eagerness": "auto", "create_response": True,
                         "interrupt_response": True},
    }[config.turn_detection]
    return {
        "type": "realtime", "instructions": instructions, "output_modalities": ["audio"],
        "audio": {
            "input": {"format": dict(audio_format.session_format),
                      "transcription": {"model": config.transcription_model},
                      "noise_reduction": {"type": "near_field"}, "turn_detection": detection},
            "output": {"format": dict(audio_format.session_format), "voice": config.voice},
        },
        "tools": tools, "tool_choice": "auto", "max_output_tokens": config.max_output_tokens,
    }
