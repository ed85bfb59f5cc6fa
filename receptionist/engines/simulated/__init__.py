"""A simulated OpenAI Realtime session speaking the GA protocol.

It keeps what OpenAI keeps for one session (the conversation's items in order,
the input audio buffer, the one active response, the audio each assistant item
holds) and answers client events with the GA server events, including the
errors a bridge must survive: `input_audio_buffer_commit_empty`,
`conversation_already_has_active_response`, `response_cancel_not_active`, and
a truncate past the item's audio.

What a response says is decided by a *responder*: an async callable
`responder(response)` that calls `response.say(...)` and
`response.call_function(...)`. The built-in local engine plugs its simple brain
in here; the tests' fake Realtime server plugs in a script. Both therefore speak
exactly the same events, and the bridge cannot tell them from OpenAI.

Its parts: `audio` (PCM16 and pcmu), `session` (configuration), `events` (ids and errors),
`response` (what one response says and costs) and `simulator` (the session itself).
"""

from receptionist.engines.simulated.audio import (BYTES_PER_MS, SAMPLE_RATE, bytes_per_ms, linear_to_mulaw,
                                                  mulaw_tone, speech_ms, tone)
from receptionist.engines.simulated.events import RealtimeError, ResponseEnded, new_id
from receptionist.engines.simulated.response import Response
from receptionist.engines.simulated.session import BETA_SESSION_FIELDS, default_session, merge_session
from receptionist.engines.simulated.simulator import MIN_COMMIT_MS, RealtimeSimulator

__all__ = [
    "BETA_SESSION_FIELDS", "BYTES_PER_MS", "MIN_COMMIT_MS", "SAMPLE_RATE", "RealtimeError", "RealtimeSimulator",
    "Response", "ResponseEnded", "bytes_per_ms", "default_session", "linear_to_mulaw", "merge_session",
    "mulaw_tone", "new_id", "speech_ms", "tone",
]
