"""Websocket routes of the assistant."""

from django.urls import re_path

from receptionist.consumers import VoiceConsumer
from receptionist.phone.consumer import TwilioMediaConsumer

websocket_urlpatterns = [
    # The session id is chosen by the page (a UUID or similar); it names the call in logs and metadata.
    re_path(r"^ws/voice/(?P<session_id>[A-Za-z0-9_-]{8,64})/?$", VoiceConsumer.as_asgi()),
]

# Twilio's media streams: no browser, so no Origin header to check; signed by Twilio instead (the
# handshake's X-Twilio-Signature and the stream token), which the consumer verifies before any audio.
signed_websocket_urlpatterns = [
    re_path(r"^ws/twilio/media/?$", TwilioMediaConsumer.as_asgi()),
]
