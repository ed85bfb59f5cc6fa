"""Every websocket route, gathered from the apps that serve them."""

from analytics.routing import websocket_urlpatterns as dashboard_routes
from receptionist.routing import signed_websocket_urlpatterns as signed_routes
from receptionist.routing import websocket_urlpatterns as receptionist_routes

websocket_urlpatterns = [*receptionist_routes, *dashboard_routes]

# Routes a provider signs (Twilio's media streams): they carry no browser Origin, so they are routed
# before the origin check, and each consumer verifies the provider's signature itself.
provider_websocket_urlpatterns = [*signed_routes]
