"""The voice relay between the call page and the Realtime engine (see relay.py)."""

from receptionist.bridge.relay import VoiceBridge, page_settings

__all__ = ["VoiceBridge", "page_settings"]
