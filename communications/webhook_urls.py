"""/webhooks/…: the signed endpoints Twilio and SendGrid call (communications.webhooks)."""

from django.urls import path

from communications import webhooks

app_name = "webhooks"

urlpatterns = [
    path("twilio/sms", webhooks.twilio_sms, name="twilio-sms"),
    path("twilio/status", webhooks.twilio_status, name="twilio-status"),
    path("sendgrid/inbound/", webhooks.sendgrid_inbound, name="sendgrid-inbound"),
]
