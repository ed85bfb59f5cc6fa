"""Websocket routes of the assistant (the voice consumer joins here)."""

websocket_urlpatterns = []
