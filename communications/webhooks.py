"""Webhooks the providers call: Twilio (SMS and WhatsApp in, delivery status) and SendGrid Inbound Parse (emails in).

Each is public but signed, and refuses what it cannot verify:
- Twilio: X-Twilio-Signature checked with twilio's RequestValidator and TWILIO_AUTH_TOKEN against
  TWILIO_WEBHOOK_BASE_URL + the path (the address Twilio called, as seen behind any proxy; without
  the setting, the address the request arrived at). Missing or wrong: 403. With no token set, every
  request is refused (403): there is no unsigned mode, in development either; the messaging console
  is the way to try Ava without Twilio.
- SendGrid: django-anymail's inbound view with its HTTP basic-auth secret (ANYMAIL_WEBHOOK_SECRET).
  With no secret set every request is refused (403) instead of anymail's warn-and-accept.

The views answer at once: Twilio gets empty TwiML, and the reply is written by a Celery task
enqueued after the commit.
"""

import logging

from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from communications import usage
from communications.messaging import email as _email  # noqa: F401  (connects anymail's inbound signal)
from communications.messaging import sms

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twilio_signature_is_valid(request):
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    base = settings.TWILIO_WEBHOOK_BASE_URL
    url = base.rstrip("/") + request.get_full_path() if base else request.build_absolute_uri()
    return RequestValidator(token).validate(url, request.POST, signature)


def twilio_signed(view):
    """403 unless the request carries Twilio's valid signature."""

    def checked(request, *args, **kwargs):
        if not twilio_signature_is_valid(request):
            log.warning("Twilio webhook %s refused: missing or invalid signature", request.path)
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request, *args, **kwargs)

    checked.__name__ = view.__name__
    checked.__doc__ = view.__doc__
    return checked


@csrf_exempt
@require_POST
@twilio_signed
def twilio_sms(request):
    """An inbound text or WhatsApp message ("whatsapp:+…" sender): stored once, answered later (empty TwiML now)."""
    data = request.POST
    count = data.get("NumMedia") or "0"
    media = [data[f"MediaUrl{n}"] for n in range(min(int(count), 10) if count.isdigit() else 0)
             if data.get(f"MediaUrl{n}")]
    try:
        sms.receive_sms(message_sid=data.get("MessageSid") or data.get("SmsSid") or "",
                        from_number=data.get("From", ""), to_number=data.get("To", ""), body=data.get("Body", ""),
                        media_urls=media, num_segments=data.get("NumSegments") or 1)
    except ValidationError:
        # A sender that is not a phone number (a short code, an alphanumeric id): nothing to answer.
        log.info("Inbound SMS from a sender that is not a phone number ignored")
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
@twilio_signed
def twilio_status(request):
    """Twilio's delivery report on a text Ava sent."""
    data = request.POST
    sms.receive_status(message_sid=data.get("MessageSid") or data.get("SmsSid") or "",
                       status=data.get("MessageStatus") or data.get("SmsStatus") or "",
                       error_code=data.get("ErrorCode") or "", error_message=data.get("ErrorMessage") or "")
    # What Twilio charged, when its callback says (Price is negative, PriceUnit a currency): the conversation's cost.
    usage.record_message_price(message_sid=data.get("MessageSid") or data.get("SmsSid") or "",
                               price=data.get("Price"), currency=data.get("PriceUnit") or "USD")
    return HttpResponse(status=204)


class SendGridInbound(SendGridInboundWebhookView):
    """anymail's SendGrid inbound view, refusing everything while no webhook secret is configured."""

    warn_if_no_basic_auth = False  # refused below instead

    def dispatch(self, request, *args, **kwargs):
        if not self.basic_auth:
            return HttpResponseForbidden("The inbound email webhook has no secret configured.")
        return super().dispatch(request, *args, **kwargs)


# csrf_exempt again: anymail marks its own dispatch, and this class overrides it.
sendgrid_inbound = csrf_exempt(SendGridInbound.as_view())
