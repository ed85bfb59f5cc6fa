"""Live now tells a phone call from a web call: "Phone call" with the caller's name or number, "Web call".

Phone calls come in through the signed Twilio webhook, as a real call does; the dashboard socket is the
real application's.
"""

import pytest
from django.test import Client

from analytics.tests.test_dashboard_live import db, open_dashboard, receive, sockets, staff_cookie  # noqa: F401
from communications.models import Customer, VoiceCallDetail
from communications.services import end_conversation, start_conversation
from communications.tests.messaging_fixtures import post_signed, spa, twilio_webhooks  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _phone_line(spa, twilio_webhooks, settings):
    settings.OPENAI_API_KEY = "sk-test"  # Ava takes the call


def ring(sid, caller):
    """Twilio announces a call to the clinic's number; returns its conversation."""
    params = {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": caller, "To": "+12125550100",
              "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    assert post_signed(Client(), "/webhooks/twilio/voice", params).status_code == 200
    return VoiceCallDetail.objects.get(call_sid=sid).conversation


def row_of(html, conversation):
    """The Live now row of one conversation, from a snapshot's HTML."""
    start = html.index(f'data-live-id="{conversation.pk}"')
    end = html.find('data-live-id="', start + 1)
    return html[start:end if end != -1 else None]


async def test_calls_already_running_show_how_they_came(sockets, staff_cookie):
    await db(Customer.objects.create, name="Dana Reyes", phone="+12125550142")
    dana = await db(ring, "CA" + "1" * 32, "+12125550142")
    stranger = await db(ring, "CA" + "2" * 32, "+13125550188")
    withheld = await db(ring, "CA" + "3" * 32, "Anonymous")
    web = await db(start_conversation, channel="voice")

    communicator, snapshot = await open_dashboard(sockets, staff_cookie)
    html = snapshot["html"]
    assert html.count("data-live-id=") == 4
    assert "Phone call" in row_of(html, dana) and "Dana Reyes" in row_of(html, dana)
    assert "Phone call" in row_of(html, stranger) and "(312) 555-0188" in row_of(html, stranger)
    assert "Phone call" in row_of(html, withheld) and "Number withheld" in row_of(html, withheld)
    assert "Web call" in row_of(html, web) and "Caller not identified yet" in row_of(html, web)
    assert "Phone call" not in row_of(html, web)


async def test_a_phone_call_that_comes_in_is_pushed_as_a_phone_call_with_the_number(sockets, staff_cookie):
    communicator, _ = await open_dashboard(sockets, staff_cookie)

    call = await db(ring, "CA" + "4" * 32, "+13125550188")
    started = await receive(communicator)
    assert started["op"] == "upsert" and started["id"] == str(call.pk)
    assert "Phone call" in started["html"] and "(312) 555-0188" in started["html"]
    assert "Web call" not in started["html"] and "Caller not identified yet" not in started["html"]

    await db(end_conversation, conversation_id=call.pk)
    assert await receive(communicator) == {"op": "remove", "id": str(call.pk)}
    assert await communicator.receive_nothing(timeout=0.2)
