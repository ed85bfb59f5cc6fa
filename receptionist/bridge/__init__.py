"""The voice relay between the call page and the Realtime engine (relay.py, engine_events.py)."""

from receptionist.bridge.config import page_settings
from receptionist.bridge.relay import VoiceBridge

__all__ = ["VoiceBridge", "page_settings"]
