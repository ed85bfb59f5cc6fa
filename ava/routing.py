"""Every websocket route, gathered from the apps that serve them."""

from receptionist.routing import websocket_urlpatterns as receptionist_routes

websocket_urlpatterns = [*receptionist_routes]
