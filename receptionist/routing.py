"""Websocket routes of the assistant."""

from django.urls import re_path

from receptionist.consumers import VoiceConsumer

websocket_urlpatterns = [
    # The session id is chosen by the page (a UUID or similar); it names the call in logs and metadata.
    re_path(r"^ws/voice/(?P<session_id>[A-Za-z0-9_-]{8,64})/?$", VoiceConsumer.as_asgi()),
]
