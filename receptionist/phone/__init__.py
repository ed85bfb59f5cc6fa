"""The phone transport: Twilio's voice webhooks, the media stream, and the server-side turn detection."""
