"""Phone calls and web calls side by side: the inbox and the API say which is which, and filter by it.

Phone calls come in through the signed Twilio webhook (as a real call does), web calls through the
service the call page uses.
"""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from communications.models import Channel, Customer, VoiceCallDetail
from communications.services import add_message, start_conversation
from communications.tests.messaging_fixtures import post_signed, spa, twilio_webhooks  # noqa: F401

pytestmark = pytest.mark.django_db
CLINIC_NUMBER = "+12125550100"


@pytest.fixture(autouse=True)
def _pinned(pinned_now, spa, twilio_webhooks, settings):
    settings.OPENAI_API_KEY = "sk-test"  # Ava takes the call (the stream is not opened in these tests)


def phone_call(client, *, sid, caller, said=None):
    """A call to the clinic's number, as Twilio announces it."""
    params = {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "From": caller, "To": CLINIC_NUMBER,
              "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
    assert post_signed(client, "/webhooks/twilio/voice", params).status_code == 200
    conversation = VoiceCallDetail.objects.get(call_sid=sid).conversation
    if said:
        add_message(conversation_id=conversation.pk, author="customer", content=said)
    return conversation


def web_call(*, said, customer=None):
    conversation = start_conversation(channel=Channel.VOICE, customer=customer)
    add_message(conversation_id=conversation.pk, author="customer", content=said)
    return conversation


@pytest.fixture
def calls(client):
    """A known client's phone call, an unknown number's, a withheld number's, a web call and a text."""
    dana = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    text = start_conversation(channel=Channel.SMS, customer=Customer.objects.create(name="Lee Park",
                                                                                     phone="+12125550177"))
    add_message(conversation_id=text.pk, author="customer", content="Texting about parking")
    return {
        "dana": phone_call(client, sid="CA" + "1" * 32, caller="+12125550142", said="Calling about my facial"),
        "stranger": phone_call(client, sid="CA" + "2" * 32, caller="+13125550188", said="Calling about prices"),
        "withheld": phone_call(client, sid="CA" + "3" * 32, caller="Anonymous", said="Calling anonymously"),
        "web": web_call(said="Speaking from the website", customer=Customer.objects.create(name="Sam Ortiz")),
        "text": text,
        "dana_customer": dana,
    }


def rows(page):
    """The inbox's rows: each row's cells as text, keyed by the customer's last words."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell, self.in_body = [], None, False

        def handle_starttag(self, tag, attrs):
            if tag == "tbody":
                self.in_body = True
            elif tag == "tr" and self.in_body:
                self.rows.append([])
            elif tag == "td" and self.in_body:
                self.cell = []

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None
            elif tag == "tbody":
                self.in_body = False

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Rows()
    parser.feed(page)
    # Cells: when, channel, customer, last words, outcome, score.
    return {row[3]: row for row in parser.rows}


# --- the inbox -------------------------------------------------------------------------------------------

def test_each_call_in_the_inbox_says_phone_with_the_callers_number_or_web(staff_client, calls):
    page = staff_client.get("/dashboard/inbox/")
    assert page.status_code == 200
    shown = rows(page.content.decode())
    assert shown["Calling about my facial"][1] == "Phone call (212) 555-0142"
    assert shown["Calling about my facial"][2] == "Dana Reyes"  # the number is a client's: they are named
    assert shown["Calling about prices"][1] == "Phone call (312) 555-0188"
    assert shown["Calling about prices"][2] == "Anonymous"
    assert shown["Calling anonymously"][1] == "Phone call Number withheld"
    assert shown["Speaking from the website"][1] == "Web call"
    assert shown["Texting about parking"][1] == "SMS"


def test_the_inbox_filters_phone_calls_from_web_calls(staff_client, calls):
    phone = rows(staff_client.get("/dashboard/inbox/?source=phone").content.decode())
    assert set(phone) == {"Calling about my facial", "Calling about prices", "Calling anonymously"}
    web = rows(staff_client.get("/dashboard/inbox/?source=web").content.decode())
    assert set(web) == {"Speaking from the website"}
    # Beside the channel filter, and with the others: Dana's phone calls.
    both = rows(staff_client.get("/dashboard/inbox/?channel=voice&source=phone&q=Dana").content.decode())
    assert set(both) == {"Calling about my facial"}
    everything = rows(staff_client.get("/dashboard/inbox/").content.decode())
    assert len(everything) == 5


def test_the_call_filter_is_offered_and_keeps_its_choice(staff_client, calls):
    page = staff_client.get("/dashboard/inbox/?source=web").content.decode()
    assert '<select name="source"' in page
    assert '<option value="web" selected>Web calls</option>' in page
    assert '<option value="phone">Phone calls</option>' in page


def test_only_the_results_change_when_htmx_asks(staff_client, calls):
    response = staff_client.get("/dashboard/inbox/?source=phone", headers={"HX-Request": "true"})
    page = response.content.decode()
    assert page.lstrip().startswith('<section id="results"')
    assert set(rows(page)) == {"Calling about my facial", "Calling about prices", "Calling anonymously"}


def test_asking_for_phone_calls_among_texts_says_why_nothing_fits(staff_client, calls):
    response = staff_client.get("/dashboard/inbox/?channel=sms&source=phone")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Phone and web calls are voice calls: choose Voice call or All channels." in page
    assert len(rows(page)) == 5  # an unreadable filter filters nothing, as the inbox's other errors do


# --- the API ---------------------------------------------------------------------------------------------

@pytest.fixture
def staff_api(staff_user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return api


def listed(response):
    assert response.status_code == 200, response.content
    return {row["id"]: row["source"] for row in response.json()["results"]}


def test_the_api_says_each_conversations_source(staff_api, calls):
    sources = listed(staff_api.get("/api/admin/communications"))
    assert sources == {
        str(calls["dana"].pk): "phone", str(calls["stranger"].pk): "phone", str(calls["withheld"].pk): "phone",
        str(calls["web"].pk): "web", str(calls["text"].pk): None,
    }
    detail = staff_api.get(f"/api/admin/communications/{calls['dana'].pk}").json()
    assert detail["source"] == "phone"


def test_the_api_filters_by_source(staff_api, calls):
    url = "/api/admin/communications"
    phone = {str(calls[name].pk) for name in ("dana", "stranger", "withheld")}
    assert set(listed(staff_api.get(url, {"source": "phone"}))) == phone
    assert set(listed(staff_api.get(url, {"source": "web", "channel": "voice"}))) == {str(calls["web"].pk)}
    assert set(listed(staff_api.get("/api/admin/calls", {"source": "phone"}))) == phone
    assert set(listed(staff_api.get("/api/admin/calls", {"source": "web"}))) == {str(calls["web"].pk)}
    assert set(listed(staff_api.get(url, {"source": "phone", "customer": calls["dana_customer"].pk}))) == {
        str(calls["dana"].pk)}


@pytest.mark.parametrize("query", [{"source": "fax"}, {"source": "phone", "channel": "sms"}])
def test_the_api_refuses_a_source_it_cannot_read(staff_api, calls, query):
    response = staff_api.get("/api/admin/communications", query)
    assert response.status_code == 400
    assert "source" in response.json()["error"]["details"]
