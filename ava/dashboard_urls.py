"""The staff dashboard: one namespace, pages served by the app that owns their data."""

from django.urls import path

from communications import views as communications_views

app_name = "dashboard"

urlpatterns = [
    path("", communications_views.inbox, name="home"),
    path("inbox/", communications_views.inbox, name="inbox"),
    path("conversations/<uuid:pk>/", communications_views.conversation_detail, name="conversation"),
    path("customers/<int:pk>/", communications_views.customer_detail, name="customer"),
    path("customers/<int:pk>/merge/", communications_views.customer_merge, name="customer-merge"),
]
