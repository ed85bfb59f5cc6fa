"""Every websocket route, gathered from the apps that serve them."""

from analytics.routing import websocket_urlpatterns as dashboard_routes
from receptionist.routing import websocket_urlpatterns as receptionist_routes

websocket_urlpatterns = [*receptionist_routes, *dashboard_routes]
