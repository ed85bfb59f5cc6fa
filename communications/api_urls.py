"""Staff API routes for customers and conversations, included by ava/urls.py under /api/."""

from django.urls import path

from communications import api

app_name = "communications_api"

urlpatterns = [
    path("customers", api.CustomerCreateView.as_view(), name="customers"),
    path("customers/<int:pk>", api.CustomerDetailView.as_view(), name="customer"),
    path("customers/<int:pk>/history", api.CustomerHistoryView.as_view(), name="customer-history"),
    path("admin/communications", api.CommunicationListView.as_view(), name="communications"),
    path("admin/communications/<uuid:pk>", api.CommunicationDetailView.as_view(), name="communication"),
    # The old system's paths for voice calls; existing scripts keep working.
    path("admin/calls", api.CallListView.as_view(), name="calls"),
    path("admin/calls/<uuid:pk>", api.CallDetailView.as_view(), name="call"),
    path("admin/calls/<uuid:pk>/transcript", api.CallTranscriptView.as_view(), name="call-transcript"),
]
