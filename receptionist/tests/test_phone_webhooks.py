"""The phone number's webhooks, through the real URLs with Twilio's own signatures: a call comes in,
its status, the front desk rung, a message left (docs/phone.md)."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from communications.models import CommunicationEvent, Conversation, Customer, UsageRecord, VoiceCallDetail
from communications.tests.messaging_fixtures import PUBLIC_URL, post_signed, spa, twilio, twilio_webhooks  # noqa: F401
from receptionist.call_tokens import read_stream_token

pytestmark = pytest.mark.django_db
VOICE_URL = "/webhooks/twilio/voice"
STATUS_URL = "/webhooks/twilio/voice/status"
DIALED_URL = "/webhooks/twilio/voice/dialed"
MESSAGE_URL = "/webhooks/twilio/voice/message"
CALL_SID = "CA" + "b" * 32
CALLER = "+12125550142"
CLINIC_NUMBER = "+12125550100"
FRONT_DESK = "+12125550199"


def call_params(*, sid=CALL_SID, caller=CALLER, status="ringing"):
    return {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": caller, "To": CLINIC_NUMBER,
            "CallStatus": status, "Direction": "inbound", "ApiVersion": "2010-04-01"}


def twiml(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(response.content)


@pytest.fixture
def with_openai(settings):
    settings.OPENAI_API_KEY = "sk-test"
    return settings


def phone_call(sid=CALL_SID):
    return VoiceCallDetail.objects.select_related("conversation").get(call_sid=sid)


# --- signatures ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [VOICE_URL, STATUS_URL, DIALED_URL, MESSAGE_URL])
def test_it_refuses_an_unsigned_or_wrongly_signed_request(client, spa, twilio_webhooks, path):
    assert client.post(path, call_params()).status_code == 403
    assert post_signed(client, path, call_params(), token="another-token").status_code == 403
    # Signed for another address (a replay of a request to another server).
    assert post_signed(client, path, call_params(), url="https://elsewhere.example.com" + path).status_code == 403
    assert not Conversation.objects.exists()


def test_it_refuses_every_call_while_no_auth_token_is_set(client, spa, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert post_signed(client, VOICE_URL, call_params()).status_code == 403
    assert not Conversation.objects.exists()


# --- a call comes in ----------------------------------------------------------------------------------

def test_it_connects_the_call_to_avas_media_stream_with_a_token_bound_to_the_call(client, spa, twilio_webhooks,
                                                                                  with_openai):
    root = twiml(post_signed(client, VOICE_URL, call_params()))

    stream = root.find("./Connect/Stream")
    assert stream is not None and len(root) == 1
    assert stream.get("url") == "wss://ava.example.com/ws/twilio/media"
    parameters = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert parameters["callSid"] == CALL_SID
    call = phone_call()
    assert read_stream_token(parameters["token"], call_sid=CALL_SID) == str(call.conversation_id)
    # Bound to this call: useless for another.
    assert read_stream_token(parameters["token"], call_sid="CA" + "c" * 32) is None
    assert call.source == "phone" and call.from_number == CALLER and call.to_number == CLINIC_NUMBER
    assert call.conversation.channel == "voice" and call.conversation.is_active


def test_the_stream_token_expires(client, spa, twilio_webhooks, with_openai, time_machine, settings):
    answered = datetime(2026, 12, 2, 20, 0, tzinfo=timezone.utc)
    time_machine.move_to(answered, tick=False)
    root = twiml(post_signed(client, VOICE_URL, call_params()))
    token = root.find("./Connect/Stream/Parameter[@name='token']").get("value")
    max_age = timedelta(seconds=settings.PHONE_STREAM_TOKEN_MAX_AGE_SECONDS)
    time_machine.move_to(answered + max_age - timedelta(seconds=1), tick=False)
    assert read_stream_token(token, call_sid=CALL_SID) is not None
    time_machine.move_to(answered + max_age + timedelta(seconds=1), tick=False)
    assert read_stream_token(token, call_sid=CALL_SID) is None


def test_a_retried_webhook_opens_the_call_once(client, spa, twilio_webhooks, with_openai):
    post_signed(client, VOICE_URL, call_params())
    post_signed(client, VOICE_URL, call_params())
    assert VoiceCallDetail.objects.filter(call_sid=CALL_SID).count() == 1
    assert Conversation.objects.count() == 1


def test_a_returning_customer_is_linked_by_caller_id_and_a_new_number_creates_no_customer(
        client, spa, twilio_webhooks, with_openai):
    maya = Customer.objects.create(name="Maya Lopez", phone="(212) 555-0142")
    post_signed(client, VOICE_URL, call_params())
    post_signed(client, VOICE_URL, call_params(sid="CA" + "d" * 32, caller="+13105550177"))
    post_signed(client, VOICE_URL, call_params(sid="CA" + "e" * 32, caller="Anonymous"))

    assert phone_call().conversation.customer == maya
    assert phone_call("CA" + "d" * 32).conversation.customer is None
    withheld = phone_call("CA" + "e" * 32)
    assert withheld.conversation.customer is None and withheld.from_number == ""
    assert Customer.objects.count() == 1


def test_a_call_without_a_call_sid_is_refused(client, spa, twilio_webhooks, with_openai):
    params = call_params()
    del params["CallSid"]
    assert post_signed(client, VOICE_URL, params).status_code == 400
    assert not Conversation.objects.exists()


# --- no key, too many calls: the front desk or a message ---------------------------------------------

def test_without_an_openai_key_the_caller_hears_why_and_is_put_through_to_the_front_desk(
        client, spa, twilio_webhooks, settings):
    settings.FRONT_DESK_PHONE = FRONT_DESK
    root = twiml(post_signed(client, VOICE_URL, call_params()))

    assert [child.tag for child in root] == ["Say", "Dial"]
    assert "not available" in root.find("Say").text and spa.clinic.name in root.find("Say").text
    dial = root.find("Dial")
    assert dial.find("Number").text == FRONT_DESK
    assert dial.get("action") == PUBLIC_URL + DIALED_URL and dial.get("timeout") == "20"
    call = phone_call()
    assert call.end_reason == "forwarded_to_front_desk"
    event = CommunicationEvent.objects.get(conversation=call.conversation, type="call_forwarded")
    assert event.data == {"reason": "no_assistant", "to": FRONT_DESK}


def test_without_a_key_or_a_front_desk_number_the_caller_may_leave_a_message(client, spa, twilio_webhooks,
                                                                               settings):
    settings.FRONT_DESK_PHONE = ""
    root = twiml(post_signed(client, VOICE_URL, call_params()))

    assert [child.tag for child in root] == ["Say", "Record", "Say", "Hangup"]
    assert "leave your name" in root.find("Say").text
    record = root.find("Record")
    assert record.get("action") == PUBLIC_URL + MESSAGE_URL and record.get("maxLength") == "120"

    response = post_signed(client, MESSAGE_URL, {**call_params(status="in-progress"),
                                                 "RecordingUrl": "https://api.twilio.com/recordings/RE1",
                                                 "RecordingDuration": "14", "Digits": "hangup"})
    root = twiml(response)
    assert [child.tag for child in root] == ["Say", "Hangup"] and "call you back" in root.find("Say").text
    call = phone_call()
    assert call.recording_url == "https://api.twilio.com/recordings/RE1"
    assert call.conversation.escalated
    assert CommunicationEvent.objects.get(conversation=call.conversation, type="voicemail").data == {
        "recording_url": "https://api.twilio.com/recordings/RE1", "duration_seconds": "14"}


def test_when_ava_has_too_many_calls_the_next_caller_goes_to_the_front_desk(client, spa, twilio_webhooks,
                                                                             with_openai, settings):
    settings.FRONT_DESK_PHONE = FRONT_DESK
    settings.PHONE_MAX_CONCURRENT_CALLS = 1
    assert twiml(post_signed(client, VOICE_URL, call_params())).find("./Connect/Stream") is not None
    root = twiml(post_signed(client, VOICE_URL, call_params(sid="CA" + "f" * 32)))
    assert root.find("Dial/Number").text == FRONT_DESK
    assert CommunicationEvent.objects.get(type="call_forwarded").data["reason"] == "too_many_calls"


def test_when_the_front_desk_does_not_answer_the_caller_may_leave_a_message(client, spa, twilio_webhooks, settings):
    settings.FRONT_DESK_PHONE = FRONT_DESK
    post_signed(client, VOICE_URL, call_params())
    root = twiml(post_signed(client, DIALED_URL, {**call_params(status="in-progress"), "DialCallStatus": "no-answer"}))
    assert root.find("Record").get("action") == PUBLIC_URL + MESSAGE_URL
    assert phone_call().transfer_outcome == "no-answer"

    answered = twiml(post_signed(client, DIALED_URL, {**call_params(status="in-progress"),
                                                      "DialCallStatus": "completed"}))
    assert [child.tag for child in answered] == ["Hangup"]
    assert phone_call().transfer_outcome == "completed"


# --- status -----------------------------------------------------------------------------------------

def test_the_final_status_ends_the_call_with_twilios_duration_and_price(client, spa, twilio_webhooks, with_openai,
                                                                         django_capture_on_commit_callbacks):
    post_signed(client, VOICE_URL, call_params())
    assert post_signed(client, STATUS_URL, call_params(status="in-progress")).status_code == 204
    assert phone_call().conversation.is_active

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, STATUS_URL, {**call_params(status="completed"), "CallDuration": "95"})
    assert response.status_code == 204
    call = phone_call()
    assert call.call_status == "completed" and call.duration_seconds == 95
    assert not call.conversation.is_active and call.end_reason == "call_completed"
    assert not UsageRecord.objects.exists()  # no price reported yet

    post_signed(client, STATUS_URL, {**call_params(status="completed"), "CallDuration": "95",
                                     "Price": "-0.0170", "PriceUnit": "USD"})
    post_signed(client, STATUS_URL, {**call_params(status="completed"), "CallDuration": "95",
                                     "Price": "-0.0170", "PriceUnit": "USD"})  # reported again: counted once
    record = UsageRecord.objects.get(conversation=call.conversation)
    assert record.kind == "telephony" and record.model == "twilio-voice" and record.source_id == CALL_SID
    assert record.cost == Decimal("0.0170") and record.currency == "USD"
    assert phone_call().duration_seconds == 95


def test_a_call_that_failed_or_was_not_answered_by_ava_ends_with_its_reason(client, spa, twilio_webhooks, settings):
    settings.FRONT_DESK_PHONE = FRONT_DESK
    post_signed(client, VOICE_URL, call_params())
    post_signed(client, STATUS_URL, {**call_params(status="completed"), "CallDuration": "40"})
    call = phone_call()
    assert call.end_reason == "forwarded_to_front_desk" and call.call_status == "completed"

    post_signed(client, VOICE_URL, call_params(sid="CA" + "9" * 32))
    post_signed(client, STATUS_URL, {**call_params(sid="CA" + "9" * 32, status="failed"), "CallDuration": "0"})
    assert phone_call("CA" + "9" * 32).conversation.status == Conversation.Status.FAILED


def test_a_status_for_a_call_ava_does_not_know_changes_nothing(client, spa, twilio_webhooks):
    assert post_signed(client, STATUS_URL, {**call_params(status="completed"), "Price": "-0.01"}).status_code == 204
    assert not UsageRecord.objects.exists() and not Conversation.objects.exists()


# --- the front desk told of a message ---------------------------------------------------------------

def test_a_recorded_message_is_texted_and_emailed_to_the_front_desk_once(client, spa, twilio, settings,
                                                                          django_capture_on_commit_callbacks):
    from communications.models import OutboundMessage

    settings.FRONT_DESK_PHONE = FRONT_DESK
    settings.FRONT_DESK_EMAIL = "desk@glowmedspa.example"
    Customer.objects.create(name="Maya Lopez", phone=CALLER)
    post_signed(client, VOICE_URL, call_params())  # no OpenAI key: put through to the desk
    root = twiml(post_signed(client, DIALED_URL, {**call_params(status="in-progress"), "DialCallStatus": "busy"}))
    assert root.find("Record") is not None  # Ava never spoke on this call: a recorded message
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, MESSAGE_URL, {**call_params(status="in-progress"), "RecordingDuration": "14",
                                          "RecordingUrl": "https://api.twilio.com/recordings/RE1"})

    call = phone_call()
    link = f"{PUBLIC_URL}/dashboard/conversations/{call.conversation_id}/"
    (text,) = twilio.sent
    assert text["To"] == FRONT_DESK and text["From"] == CLINIC_NUMBER
    assert text["Body"] == (f"{spa.clinic.name}: phone message from Maya Lopez, (212) 555-0142. Left a recorded "
                            f"message (14 s); listen to it on the conversation. {link}")
    email = OutboundMessage.objects.get(channel="email")
    assert email.kind == "front_desk" and email.to == "desk@glowmedspa.example" and email.status == "outbox"
    assert email.subject == "Phone message from Maya Lopez ((212) 555-0142)" and link in email.body

    # The call's end (its status callback) tells nobody again.
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, STATUS_URL, {**call_params(status="completed"), "CallDuration": "60"})
    assert not phone_call().conversation.is_active
    assert len(twilio.sent) == 1 and OutboundMessage.objects.filter(kind="front_desk").count() == 2


def test_a_call_the_front_desk_answered_is_no_message(client, spa, twilio, settings,
                                                      django_capture_on_commit_callbacks):
    from communications.models import OutboundMessage
    from communications.services import mark_escalated, record_event

    settings.FRONT_DESK_PHONE = FRONT_DESK
    post_signed(client, VOICE_URL, call_params())
    # As transfer_to_staff leaves a call it puts through: escalated, with a callback task.
    conversation_id = phone_call().conversation_id
    mark_escalated(conversation_id=conversation_id, reason="wants a person")
    record_event(conversation_id=conversation_id, type="staff_task", data={"kind": "callback", "reason": "wants a person"})
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, DIALED_URL, {**call_params(status="in-progress"), "DialCallStatus": "completed"})
    assert not phone_call().conversation.is_active and phone_call().end_reason == "forwarded_to_front_desk"
    assert not twilio.sent and not OutboundMessage.objects.exists()


def test_a_call_is_put_through_once_however_often_the_transfer_is_asked_for(client, spa, twilio, settings,
                                                                            with_openai):
    from receptionist.phone.transfer import put_through

    settings.FRONT_DESK_PHONE = FRONT_DESK
    post_signed(client, VOICE_URL, call_params())
    conversation_id = phone_call().conversation_id
    # Twilio refuses the first time: nothing rang, so the next try may still put the caller through.
    twilio.fail(500, code=20500, message="Internal error")
    with pytest.raises(Exception):
        put_through(conversation_id=conversation_id)
    assert phone_call().transfer_outcome == ""

    assert put_through(conversation_id=conversation_id) is not None
    # transfer_to_staff called again (or 0 pressed twice) while the desk rings: it is not rung a second time.
    assert put_through(conversation_id=conversation_id) is None
    assert len(twilio.call_updates) == 1 and twilio.call_updates[0]["sid"] == CALL_SID
    assert ElementTree.fromstring(twilio.call_updates[0]["Twiml"]).find("Dial/Number").text == FRONT_DESK
    assert phone_call().transfer_outcome == "ringing"


def test_forgetting_the_caller_erases_the_front_desks_note_of_their_message(client, spa, twilio, settings,
                                                                            django_capture_on_commit_callbacks):
    from communications.models import OutboundMessage
    from communications.services import forget_customer

    settings.FRONT_DESK_PHONE = FRONT_DESK
    settings.FRONT_DESK_EMAIL = "desk@glowmedspa.example"
    maya = Customer.objects.create(name="Maya Lopez", phone=CALLER)
    Customer.objects.create(name="Lee Park", phone="+12125550177")
    post_signed(client, VOICE_URL, call_params())
    post_signed(client, VOICE_URL, call_params(sid="CA" + "c" * 32, caller="+12125550177"))
    for sid in (CALL_SID, "CA" + "c" * 32):
        post_signed(client, DIALED_URL, {**call_params(sid=sid, status="in-progress"), "DialCallStatus": "busy"})
        with django_capture_on_commit_callbacks(execute=True):
            post_signed(client, MESSAGE_URL, {**call_params(sid=sid, status="in-progress"), "RecordingDuration": "9",
                                              "RecordingUrl": f"https://api.twilio.com/recordings/RE{sid[-1]}"})
    assert OutboundMessage.objects.filter(kind="front_desk").count() == 4

    forget_customer(customer=maya)

    mayas = OutboundMessage.objects.filter(kind="front_desk", metadata__conversation_id=str(phone_call().conversation_id))
    assert mayas.count() == 2
    for note in mayas:
        assert "Maya" not in note.body + note.subject and "555-0142" not in note.body + note.subject
    lees = OutboundMessage.objects.filter(kind="front_desk").exclude(pk__in=mayas)
    assert lees.count() == 2 and all("Lee Park" in note.body for note in lees)
