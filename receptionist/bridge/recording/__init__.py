"""Call recordings in the voice bridge: the relay's notes (recorder.py) and the timeline they build (timeline.py)."""

from receptionist.bridge.recording.recorder import CallRecorder

__all__ = ["CallRecorder"]
