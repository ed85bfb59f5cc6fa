"""The staff dashboard: one namespace, pages served by the app that owns their data."""

from django.urls import path

from analytics import views as analytics_views
from communications import console as communications_console
from communications import views as communications_views
from scheduling import views as scheduling_views

app_name = "dashboard"

urlpatterns = [
    path("", analytics_views.overview, name="home"),
    path("inbox/", communications_views.inbox, name="inbox"),
    path("conversations/<uuid:pk>/", communications_views.conversation_detail, name="conversation"),
    path("conversations/<uuid:pk>/recording/", communications_views.conversation_recording,
         name="conversation-recording"),
    path("conversations/<uuid:pk>/rescore/", analytics_views.rescore, name="conversation-rescore"),
    path("customers/", communications_views.customers, name="customers"),
    path("customers/<int:pk>/", communications_views.customer_detail, name="customer"),
    path("customers/<int:pk>/merge/", communications_views.customer_merge, name="customer-merge"),
    path("customers/<int:pk>/forget/", communications_views.customer_forget, name="customer-forget"),
    path("console/", communications_console.console, name="console"),
    path("console/send/", communications_console.console_send, name="console-send"),
    path("appointments/", scheduling_views.calendar, name="appointments"),
    path("appointments/list/", scheduling_views.appointment_list, name="appointment-list"),
    path("appointments/new/", scheduling_views.book, name="appointment-book"),
    path("appointments/openings/", scheduling_views.openings, name="appointment-openings"),
    path("appointments/customers/", scheduling_views.customer_matches, name="appointment-customers"),
    path("appointments/<int:pk>/", scheduling_views.appointment_detail, name="appointment"),
    path("appointments/<int:pk>/cancel/", scheduling_views.cancel, name="appointment-cancel"),
    path("appointments/<int:pk>/reschedule/", scheduling_views.reschedule, name="appointment-reschedule"),
    path("appointments/<int:pk>/record/", scheduling_views.record, name="appointment-record"),
]
