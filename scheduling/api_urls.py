"""Staff API routes for scheduling, included by ava/urls.py under /api/."""

from django.urls import path

from scheduling import api

app_name = "scheduling_api"

urlpatterns = [
    path("appointments", api.AppointmentListCreateView.as_view(), name="appointments"),
    path("appointments/<int:pk>/cancel", api.AppointmentCancelView.as_view(), name="appointment-cancel"),
    path("appointments/<int:pk>/reschedule", api.AppointmentRescheduleView.as_view(), name="appointment-reschedule"),
    path("availability", api.AvailabilityView.as_view(), name="availability"),
]
