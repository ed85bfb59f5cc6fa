"""/webhooks/twilio/voice…: the phone number's signed webhooks (included from ava/urls.py)."""

from django.urls import path

from receptionist.phone import webhooks

app_name = "phone"

urlpatterns = [
    path("voice", webhooks.voice, name="voice"),
    path("voice/status", webhooks.voice_status, name="voice-status"),
    path("voice/dialed", webhooks.voice_dialed, name="voice-dialed"),
    path("voice/message", webhooks.voice_message, name="voice-message"),
    path("voice/whisper", webhooks.voice_whisper, name="voice-whisper"),
]
