"""Mounted at /api/admin/ by ava/urls.py."""

from django.urls import path

from analytics import api

app_name = "analytics_api"

urlpatterns = [
    path("metrics/overview", api.OverviewView.as_view(), name="overview"),
    path("analytics/daily", api.DailyView.as_view(), name="daily"),
    path("analytics/peak-hours", api.PeakHoursView.as_view(), name="peak-hours"),
    path("analytics/funnel", api.FunnelView.as_view(), name="funnel"),
    path("analytics/channels", api.ChannelsView.as_view(), name="channels"),
    path("analytics/outcomes", api.OutcomesView.as_view(), name="outcomes"),
    path("analytics/sentiment", api.SentimentView.as_view(), name="sentiment"),
]
