"""The public call page (included from ava/urls.py at /call/)."""

from django.urls import path

from receptionist import views

app_name = "call"

urlpatterns = [
    path("", views.call_page, name="page"),
    path("token/", views.call_token, name="token"),
]
