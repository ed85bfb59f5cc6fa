"""The voice bridge: one call between a transport (the call page; next, the phone) and the Realtime engine.

relay.py is the bridge and names its parts; transport.py is the seam to the caller's line.
"""

from receptionist.bridge.page import PageTransport, page_settings
from receptionist.bridge.relay import VoiceBridge

__all__ = ["PageTransport", "VoiceBridge", "page_settings"]
