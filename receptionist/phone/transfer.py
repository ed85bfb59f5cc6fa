"""Putting a phone caller through to the front desk (transfer_to_staff on the phone; docs/phone.md).

During opening hours, with FRONT_DESK_PHONE and Twilio's REST API configured, the live call gets new
TwiML through the official client: <Dial> the front desk, whose <Number url> plays staff a one-sentence
whisper (who is calling and why) before the caller is connected; the <Dial action> hears how it went
(no answer: Ava takes the call back and a message). Outside opening hours, or without those settings, Ava
takes the message herself: the tool has already escalated the conversation with a callback task. A call is
put through once: taken back after nobody answered, Ava takes a message.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from communications.models import CommunicationEvent, VoiceCallDetail
from communications.phones import display_phone
from scheduling.models import BusinessHours, ClinicSettings, Closure


def front_desk_is_open(*, now=None):
    """True while the clinic's opening hours (its own clock) say someone is at the desk."""
    clinic = ClinicSettings.load()
    local = (now or timezone.now()).astimezone(clinic.tz)
    if Closure.objects.filter(date=local.date()).exists():
        return False
    return BusinessHours.objects.filter(weekday=local.weekday(), opens_at__lte=local.time(),
                                        closes_at__gt=local.time()).exists()


def can_put_through(conversation_id):
    """A live transfer is possible for this conversation now: a phone call not put through before, in opening
    hours, configured."""
    if not (settings.FRONT_DESK_PHONE and settings.TWILIO_ACCOUNT_SID and settings.TWILIO_WEBHOOK_BASE_URL):
        return False
    is_phone = VoiceCallDetail.objects.filter(conversation_id=conversation_id, source=VoiceCallDetail.Source.PHONE,
                                              transfer_outcome="").exclude(call_sid=None).exists()
    return is_phone and front_desk_is_open()


def whisper_line(conversation_id):
    """What staff hear before the caller is connected: who, and why (the reason Ava gave the tool)."""
    detail = VoiceCallDetail.objects.select_related("conversation__customer").get(conversation_id=conversation_id)
    customer = detail.conversation.customer
    who = (customer.name if customer and customer.name else
           display_phone(detail.from_number) if detail.from_number else "a caller with a withheld number")
    task = (CommunicationEvent.objects.filter(conversation_id=conversation_id, type="staff_task")
            .order_by("-at", "-id").first())
    reason = (task.data.get("reason") if task else "") or "they asked to speak to someone"
    return f"Call from Ava: {who}. {reason.rstrip('.')}. Connecting you now."


def put_through(*, conversation_id):
    """Hand the live call to the front desk through Twilio's REST API (this ends its media stream).

    Once per call: the transfer is claimed before Twilio is asked (a second transfer_to_staff, or 0 pressed
    twice, would ring the desk again and cut the first ring short). Returns the TwiML, or None when this
    call was already put through."""
    from communications.messaging.sms import twilio_client

    detail = VoiceCallDetail.objects.get(conversation_id=conversation_id)
    if not VoiceCallDetail.objects.filter(pk=detail.pk, transfer_outcome="").update(transfer_outcome="ringing"):
        return None
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    response = VoiceResponse()
    dial = response.dial(action=base + reverse("phone:voice-dialed"), timeout=settings.PHONE_TRANSFER_RING_SECONDS)
    dial.number(settings.FRONT_DESK_PHONE, url=base + reverse("phone:voice-whisper") + f"?conversation={conversation_id}")
    try:
        twilio_client().calls(detail.call_sid).update(twiml=str(response))
    except Exception:
        # Twilio refused: the call was not put through, so a later transfer may try again.
        VoiceCallDetail.objects.filter(pk=detail.pk, transfer_outcome="ringing").update(transfer_outcome="")
        raise
    return str(response)
