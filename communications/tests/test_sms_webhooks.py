"""Texts from Twilio: signatures, storing each message once, the reply after the commit, delivery status, STOP."""

import pytest

from communications.messaging import delivery, send_reply, sms
from communications.models import (
    Channel,
    CommunicationEvent,
    Conversation,
    Customer,
    DeliveryStatus,
    Message,
    OutboundMessage,
    SmsDetail,
)
from communications.tests.messaging_fixtures import (  # noqa: F401  (fixtures)
    CLINIC_NUMBER,
    PUBLIC_URL,
    post_signed,
    spa,
    text_params,
    twilio,
    twilio_signature,
    twilio_webhooks,
)

pytestmark = pytest.mark.django_db
SMS_URL = "/webhooks/twilio/sms"
STATUS_URL = "/webhooks/twilio/status"
CALLER = "+12125550142"


def texts_from(phone=CALLER):
    return Message.objects.filter(conversation__customer__phone=phone, conversation__channel=Channel.SMS)


# --- signatures ---------------------------------------------------------------------------------

def test_a_signed_text_is_stored_answered_with_empty_twiml_and_replied_to(client, spa, twilio,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, SMS_URL, text_params("Where do I park?"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response></Response>")
    inbound = texts_from().get(author=Message.Author.CUSTOMER)
    assert inbound.content == "Where do I park?"
    assert inbound.sms.provider_message_id == "SM" + "a" * 32 and inbound.sms.delivery_status == "received"
    reply = texts_from().get(author=Message.Author.ASSISTANT)
    assert "Mercer Street" in reply.content
    # Texted through Twilio's REST API (the local fake), with the status callback on the public URL.
    assert [(m["To"], m["From"]) for m in twilio.sent] == [(CALLER, CLINIC_NUMBER)]
    assert "Mercer Street" in twilio.sent[0]["Body"]
    assert twilio.sent[0]["StatusCallback"] == PUBLIC_URL + STATUS_URL
    reply.sms.refresh_from_db()
    assert reply.sms.provider_message_id == twilio.sent[0]["sid"] and reply.sms.delivery_status == "queued"
    assert reply.outbound.status == "queued" and reply.outbound.provider_message_id == twilio.sent[0]["sid"]


def test_a_wrong_signature_is_refused_and_nothing_is_stored(client, spa, twilio_webhooks):
    params = text_params("Hello")
    response = client.post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(PUBLIC_URL + SMS_URL, params,
                                                                                      token="another-token"))
    assert response.status_code == 403
    assert not Message.objects.exists() and not Customer.objects.exists()


def test_a_changed_body_breaks_the_signature(client, spa, twilio_webhooks):
    signed = text_params("Hello")
    tampered = {**signed, "Body": "Cancel everything"}
    response = client.post(SMS_URL, tampered, HTTP_X_TWILIO_SIGNATURE=twilio_signature(PUBLIC_URL + SMS_URL, signed))
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_a_missing_signature_is_refused(client, spa, twilio_webhooks):
    response = client.post(SMS_URL, text_params("Hello"))
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_without_an_auth_token_every_text_is_refused(client, spa, twilio_webhooks, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    params = text_params("Hello")
    response = client.post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(PUBLIC_URL + SMS_URL, params,
                                                                                      token=""))
    assert response.status_code == 403
    assert not Message.objects.exists()


def test_the_signature_is_checked_against_the_public_url_not_the_proxy_address(client, spa, twilio_webhooks):
    params = text_params("Hello")
    # Signed for the address the app sees behind the proxy: not what Twilio signs.
    inner = client.post(SMS_URL, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature("http://testserver" + SMS_URL, params))
    assert inner.status_code == 403
    assert post_signed(client, SMS_URL, params).status_code == 200


def test_without_a_public_url_the_request_address_is_what_is_signed(client, spa, twilio_webhooks, settings):
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    params = text_params("Hello")
    assert post_signed(client, SMS_URL, params, url="http://testserver" + SMS_URL).status_code == 200
    assert post_signed(client, SMS_URL, text_params("Hi", sid="SM" + "b" * 32)).status_code == 403


def test_only_post_is_served(client, twilio_webhooks):
    assert client.get(SMS_URL).status_code == 405


# --- once, and after the commit --------------------------------------------------------------------

def test_a_duplicate_message_sid_answers_200_and_changes_nothing(client, spa, twilio,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = post_signed(client, SMS_URL, text_params("Where do I park?"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post_signed(client, SMS_URL, text_params("Where do I park?"))

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert texts_from().filter(author=Message.Author.CUSTOMER).count() == 1
    assert texts_from().filter(author=Message.Author.ASSISTANT).count() == 1
    assert len(twilio.sent) == 1 and callbacks == []


def test_the_reply_is_enqueued_only_after_the_commit(client, spa, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        response = post_signed(client, SMS_URL, text_params("Where do I park?"))
    assert response.status_code == 200
    assert not texts_from().filter(author=Message.Author.ASSISTANT).exists() and twilio.sent == []

    with django_capture_on_commit_callbacks(execute=True):
        for callback in pending:
            callback()
    assert texts_from().filter(author=Message.Author.ASSISTANT).count() == 1
    assert len(twilio.sent) == 1


def test_without_twilio_sending_the_reply_waits_in_the_outbox(client, spa, twilio_webhooks,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))

    outbound = OutboundMessage.objects.get()
    assert outbound.status == DeliveryStatus.OUTBOX and outbound.kind == "reply" and outbound.to == CALLER
    assert "Mercer Street" in outbound.body
    assert outbound.message.sms.delivery_status == DeliveryStatus.OUTBOX


# --- Twilio's answers when sending ----------------------------------------------------------------

def test_a_number_twilio_refuses_fails_at_once(client, spa, twilio, django_capture_on_commit_callbacks):
    twilio.fail(400, code=21211, message="The 'To' number is not a valid phone number.")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))

    outbound = OutboundMessage.objects.get()
    assert outbound.status == DeliveryStatus.FAILED and outbound.error_code == "21211"
    assert "not a valid phone number" in outbound.error_message
    assert outbound.message.sms.delivery_status == DeliveryStatus.FAILED
    assert len(twilio.requests) == 1  # not retried: it would not get better


def test_a_twilio_outage_is_retried(client, spa, twilio, django_capture_on_commit_callbacks):
    twilio.fail(503, code=20503, message="Service unavailable")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))

    outbound = OutboundMessage.objects.get()
    assert outbound.status == DeliveryStatus.QUEUED and outbound.provider_message_id == twilio.sent[0]["sid"]
    assert outbound.attempts == 2 and len(twilio.requests) == 2


def test_twilio_unreachable_ends_failed_after_the_retries(client, spa, twilio, settings,
                                                          django_capture_on_commit_callbacks):
    settings.DELIVERY_MAX_RETRIES = 2
    twilio.stop()  # nothing listens there now
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))

    outbound = OutboundMessage.objects.get()
    assert outbound.status == DeliveryStatus.FAILED and outbound.error_code == "network"
    assert outbound.attempts == 3


# --- the status callback ----------------------------------------------------------------------

def test_the_status_callback_updates_the_delivery_status_and_its_times(client, spa, twilio,
                                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))
    sid = twilio.sent[0]["sid"]

    def report(status, **extra):
        return post_signed(client, STATUS_URL, {"MessageSid": sid, "MessageStatus": status, "To": CALLER, **extra})

    assert report("sent").status_code == 204
    detail = SmsDetail.objects.get(provider_message_id=sid)
    assert detail.delivery_status == "sent" and detail.sent_at is not None
    assert report("delivered").status_code == 204
    assert report("sent").status_code == 204  # late and out of order: ignored

    detail.refresh_from_db()
    outbound = OutboundMessage.objects.get(provider_message_id=sid)
    assert detail.delivery_status == outbound.status == "delivered"
    assert detail.delivered_at is not None and outbound.delivered_at is not None
    assert detail.status_updated_at >= detail.sent_at


def test_a_failed_delivery_keeps_twilios_error(client, spa, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))
    sid = twilio.sent[0]["sid"]

    post_signed(client, STATUS_URL, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"})

    detail = SmsDetail.objects.get(provider_message_id=sid)
    assert detail.delivery_status == "undelivered" and detail.error_code == "30003"


def test_the_status_callback_needs_a_signature_and_ignores_strangers(client, spa, twilio_webhooks):
    assert client.post(STATUS_URL, {"MessageSid": "SMx", "MessageStatus": "delivered"}).status_code == 403
    assert post_signed(client, STATUS_URL, {"MessageSid": "SM-unknown", "MessageStatus": "delivered"}).status_code == 204


# --- STOP and START ---------------------------------------------------------------------------------

def test_stop_opts_the_number_out_and_its_texts_are_kept_but_not_answered(client, spa, twilio,
                                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("STOP", sid="SM" + "1" * 32))
        post_signed(client, SMS_URL, text_params("Where do I park?", sid="SM" + "2" * 32))

    customer = Customer.objects.get(phone=CALLER)
    assert customer.sms_opted_out and customer.sms_opted_out_at is not None
    assert list(texts_from().values_list("content", flat=True)) == ["STOP", "Where do I park?"]
    assert not texts_from().filter(author=Message.Author.ASSISTANT).exists()
    assert twilio.sent == [] and not OutboundMessage.objects.exists()
    assert CommunicationEvent.objects.filter(type="sms_opt_out").count() == 1


def test_start_opts_back_in_and_texts_are_answered_again(client, spa, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Stop", sid="SM" + "1" * 32))
        post_signed(client, SMS_URL, text_params("START", sid="SM" + "2" * 32))
        post_signed(client, SMS_URL, text_params("Where do I park?", sid="SM" + "3" * 32))

    assert not Customer.objects.get(phone=CALLER).sms_opted_out
    replies = texts_from().filter(author=Message.Author.ASSISTANT)
    assert replies.count() == 1 and "Mercer Street" in replies.get().content
    # The keywords were not questions for Ava.
    assert "STOP" not in twilio.sent[0]["Body"]


def test_yes_is_an_answer_unless_the_number_opted_out(client, spa, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("yes", sid="SM" + "1" * 32))
    assert not CommunicationEvent.objects.filter(type="sms_opt_in").exists()
    assert texts_from().filter(author=Message.Author.ASSISTANT).count() == 1


def test_a_stop_that_arrives_before_a_queued_reply_is_sent_stops_it(spa, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        sms.receive_sms(message_sid="SM" + "1" * 32, from_number=CALLER, body="Where do I park?")
    # The reply is written and queued, but its delivery has not run yet...
    conversation = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        message = send_reply(conversation_id=conversation.pk, content="Behind the building.")
    # ...when the customer texts STOP.
    sms.receive_sms(message_sid="SM" + "2" * 32, from_number=CALLER, body="STOP")

    result = delivery.deliver(outbound_id=message.outbound.pk)

    assert result.status == "opted_out" and twilio.sent == []
    message.outbound.refresh_from_db()
    assert message.outbound.status == DeliveryStatus.FAILED and message.outbound.error_code == "opted_out"
    assert pending  # the reply task was waiting for the first message's commit


def test_a_messaging_service_sid_sends_through_the_service(client, spa, twilio, settings,
                                                           django_capture_on_commit_callbacks):
    settings.TWILIO_FROM_NUMBER = "MG" + "2" * 32
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))
    assert twilio.sent[0]["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in twilio.sent[0]
