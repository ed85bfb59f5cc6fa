"""A customer's page tells their phone calls from their web calls, as the inbox does.

The phone call comes in through the signed Twilio webhook (as a real call does), the web call through the
service the call page uses.
"""

import re
from html import unescape

import pytest

from communications.models import Channel, Customer
from communications.services import add_message, start_conversation
from communications.tests.messaging_fixtures import spa, twilio_webhooks  # noqa: F401
from communications.tests.test_inbox_sources import phone_call, web_call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pinned(pinned_now, spa, twilio_webhooks, settings):
    settings.OPENAI_API_KEY = "sk-test"  # Ava takes the call (the stream is not opened in these tests)


def timeline(page):
    """The timeline's entries as text, newest first."""
    entries = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S)[1]
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", item)).split())
            for item in re.findall(r"<li[^>]*>(.*?)</li>", entries, re.S)]


def test_the_customer_page_says_phone_call_with_the_number_or_web_call(staff_client, client):
    dana = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    web_call(said="Speaking from the website", customer=dana)
    text = start_conversation(channel=Channel.SMS, customer=dana)
    add_message(conversation_id=text.pk, author="customer", content="Texting about parking")
    phone_call(client, sid="CA" + "1" * 32, caller="+12125550142", said="Calling about my facial")

    page = staff_client.get(f"/dashboard/customers/{dana.pk}/")

    assert page.status_code == 200
    entries = timeline(page.content.decode())
    assert len(entries) == 3
    assert all(len(re.findall(r"Phone call|Web call|SMS", entry)) == 1 for entry in entries), entries
    labels = sorted(re.match(r"(Phone call(?: \(\d{3}\) \d{3}-\d{4})?|Web call|SMS)", entry)[1] for entry in entries)
    assert labels == ["Phone call (212) 555-0142", "SMS", "Web call"]


def test_a_call_from_a_withheld_number_says_so_on_the_customers_page(staff_client, client):
    # The call reached the customer's record another way (staff linked it): the number stays withheld.
    sam = Customer.objects.create(name="Sam Ortiz", phone="+12125550177")
    call = phone_call(client, sid="CA" + "3" * 32, caller="Anonymous", said="Calling anonymously")
    call.customer = sam
    call.save(update_fields=["customer"])

    entries = timeline(staff_client.get(f"/dashboard/customers/{sam.pk}/").content.decode())

    assert entries[0].startswith("Phone call Number withheld")


def test_forgetting_a_customer_removes_the_number_their_calls_came_from(staff_client, client):
    from communications.models import VoiceCallDetail
    from communications.services import forget_customer

    dana = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    call = phone_call(client, sid="CA" + "1" * 32, caller="+12125550142", said="Calling about my facial")
    assert call.customer_id == dana.pk  # caller ID named her

    forget_customer(customer=dana)

    detail = VoiceCallDetail.objects.get(conversation=call)
    assert detail.from_number == "" and detail.to_number == "+12125550100"
    entries = timeline(staff_client.get(f"/dashboard/customers/{dana.pk}/").content.decode())
    assert entries[0].startswith("Phone call Number removed") and "555-0142" not in entries[0]
    inbox = staff_client.get("/dashboard/inbox/?source=phone").content.decode()
    assert "555-0142" not in inbox and "Number removed" in inbox
