"""Websocket routes of the staff dashboard (collected by ava/routing.py)."""

from django.urls import path

from analytics.consumers import ConsoleConsumer, ConversationConsumer, DashboardConsumer

websocket_urlpatterns = [
    path("ws/dashboard/", DashboardConsumer.as_asgi()),
    path("ws/dashboard/conversations/<uuid:pk>/", ConversationConsumer.as_asgi()),
    path("ws/dashboard/console/", ConsoleConsumer.as_asgi()),
]
