"""The messaging console: staff write as a customer, see Ava's answer arrive, and read the outbox."""

import pytest
from django.urls import reverse

from communications.models import Channel, Conversation, Customer, Message, OutboundMessage
from communications.tests.factories import CustomerFactory
from communications.tests.messaging_fixtures import spa, twilio, twilio_webhooks  # noqa: F401

pytestmark = pytest.mark.django_db
CONSOLE = "/dashboard/console/"
SEND = "/dashboard/console/send/"


def test_the_console_is_for_staff_only(client, django_user_model):
    assert client.get(CONSOLE).status_code == 302
    assert client.post(SEND, {"channel": "sms", "phone": "+12125550142", "body": "Hi"}).status_code == 302
    client.force_login(django_user_model.objects.create_user("patient", password="a-long-test-password"))
    assert client.get(CONSOLE)["Location"].startswith("/accounts/login/")
    assert not Message.objects.exists()


def test_the_console_is_in_the_navigation(staff_client):
    page = staff_client.get("/dashboard/").content.decode()
    assert f'href="{CONSOLE}"' in page


def test_staff_text_as_a_new_customer_and_see_avas_answer(staff_client, spa, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(SEND, {"channel": "sms", "phone": "(212) 555-0142", "name": "Maya Patel",
                                            "body": "Where do I park?"})

    conversation = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{CONSOLE}?conversation={conversation.pk}"
    assert conversation.channel == Channel.SMS and conversation.metadata["console"] is True
    assert conversation.customer == Customer.objects.get(phone="+12125550142", name="Maya Patel")

    thread = staff_client.get(response["Location"] + "&part=thread", HTTP_HX_REQUEST="true")
    html = thread.content.decode()
    assert thread.status_code == 200 and 'id="thread"' in html and "<h1>" not in html  # just the partial
    assert "Where do I park?" in html and "Mercer Street" in html
    assert "Kept in the outbox" in html


def test_while_ava_is_writing_the_page_says_so_and_listens_instead_of_polling(staff_client, spa,
                                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the reply has not been written yet
        response = staff_client.post(SEND, {"channel": "sms", "phone": "+12125550142", "body": "Hello"})
    conversation = Conversation.objects.get()
    html = staff_client.get(response["Location"]).content.decode()
    assert "Ava is writing" in html and "every 2s" not in html and "every 5s" not in html
    newest = OutboundMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assert f'data-live-socket="/ws/dashboard/console/?after={newest}&amp;conversation={conversation.pk}"' in html


def test_staff_email_as_an_existing_customer(staff_client, spa, django_capture_on_commit_callbacks):
    maya = CustomerFactory(name="Maya Patel", email="maya@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(SEND, {"channel": "email", "customer": maya.pk, "subject": "Parking",
                                 "body": "Where do I park?"})

    reply = Message.objects.get(author=Message.Author.ASSISTANT, conversation__customer=maya)
    assert reply.conversation.channel == Channel.EMAIL
    assert reply.content.startswith("Hi Maya,") and "Mercer Street" in reply.content
    assert reply.outbound.to == "maya@example.com" and reply.outbound.subject == "Re: Parking"


def test_replies_in_the_console_stay_in_the_outbox_even_with_twilio_connected(staff_client, spa, twilio,
                                                                              django_capture_on_commit_callbacks):
    real = CustomerFactory(phone="+12125550142")
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(SEND, {"channel": "sms", "customer": real.pk, "body": "Where do I park?"})
    assert twilio.sent == []
    assert OutboundMessage.objects.get().status == "outbox"


def test_a_console_message_never_joins_the_customers_real_thread(staff_client, spa, twilio_webhooks,
                                                                 django_capture_on_commit_callbacks):
    from communications.messaging import sms

    real = sms.receive_sms(message_sid="SM" + "1" * 32, from_number="+12125550142", body="Hi").message.conversation
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(SEND, {"channel": "sms", "phone": "+12125550142", "body": "Where do I park?"})
    console = Conversation.objects.exclude(pk=real.pk).get()
    assert console.metadata.get("console") and real.messages.count() == 1


def test_the_outbox_lists_what_ava_sent_and_filters_by_channel(staff_client, spa, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(SEND, {"channel": "sms", "phone": "+12125550142", "body": "Where do I park?"})
        staff_client.post(SEND, {"channel": "email", "email": "maya@example.com", "subject": "Hours",
                                 "body": "What are your hours?"})

    everything = staff_client.get(CONSOLE).content.decode()
    # Staff read the number as they dial it (the outbox row keeps E.164).
    assert "(212) 555-0142" in everything and "maya@example.com" in everything
    sms_only = staff_client.get(CONSOLE + "?outbox=sms&part=outbox", HTTP_HX_REQUEST="true").content.decode()
    assert "(212) 555-0142" in sms_only and "maya@example.com" not in sms_only
    email_only = staff_client.get(CONSOLE + "?outbox=email").content.decode()
    assert "Re: Hours" in email_only
    assert 'aria-current="page">Email</a>' in email_only


def test_a_message_without_an_address_is_refused_with_the_reason(staff_client, spa):
    response = staff_client.post(SEND, {"channel": "sms", "body": "Hello"})
    assert response.status_code == 400
    assert "A phone number is needed" in response.content.decode()
    response = staff_client.post(SEND, {"channel": "sms", "phone": "not a number", "body": "Hello"})
    assert response.status_code == 400
    assert not Message.objects.exists()


def test_the_console_url_is_named(staff_client):
    assert reverse("dashboard:console") == CONSOLE
