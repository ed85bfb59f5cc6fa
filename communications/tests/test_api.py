"""The staff API for customers and conversations: who may call it, what it answers, its filters and pages."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from communications.models import (
    Channel,
    Conversation,
    Customer,
    DeliveryStatus,
    EmailDetail,
    Outcome,
    Sentiment,
    SmsDetail,
)
from communications.services import add_message, end_conversation, record_event, start_conversation
from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def conversation_with(*, channel=Channel.VOICE, customer=None, lines=(), at=None, **fields):
    conversation = start_conversation(channel=channel, customer=customer, at=at or timezone.now())
    for position, (author, content) in enumerate(lines):
        add_message(conversation_id=conversation.pk, author=author, content=content, position=position,
                    sent_at=conversation.started_at + timedelta(seconds=position))
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture(autouse=True)
def clinic_in_new_york():
    clinic = ClinicSettings.load()
    clinic.time_zone = "America/New_York"
    clinic.save()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_api(api, staff_user):
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return api


@pytest.fixture
def dana():
    return Customer.objects.create(name="Dana Reyes", phone="+12125550142", email="dana@example.com")


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def offset_of(text):
    return datetime.fromisoformat(text).utcoffset()


# --- Who may call ----------------------------------------------------------------------------------
def every_endpoint(customer, conversation):
    return [
        ("post", "/api/customers", {"phone": "+12125550199"}),
        ("get", f"/api/customers/{customer.pk}", None),
        ("get", f"/api/customers/{customer.pk}/history", None),
        ("get", "/api/admin/communications", None),
        ("get", f"/api/admin/communications/{conversation.pk}", None),
        ("get", "/api/admin/calls", None),
        ("get", f"/api/admin/calls/{conversation.pk}", None),
        ("get", f"/api/admin/calls/{conversation.pk}/transcript", None),
    ]


@pytest.fixture
def endpoints(dana):
    return every_endpoint(dana, conversation_with(customer=dana, lines=[("customer", "Hello")]))


def test_anonymous_callers_are_refused_in_the_error_shape(api, endpoints):
    for method, url, body in endpoints:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code in (401, 403), url
        assert error_of(response)["code"] == "not_authenticated", url
    assert not Customer.objects.filter(phone="+12125550199").exists()


def test_accounts_that_are_not_staff_are_refused(api, endpoints, django_user_model):
    caller = django_user_model.objects.create_user("caller", password="a-long-test-password")
    api.force_authenticate(caller)
    for method, url, body in endpoints:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 403, url
        assert error_of(response)["code"] == "permission_denied", url


def test_a_token_that_is_not_valid_is_refused(api, endpoints):
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    for method, url, body in endpoints:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code in (401, 403), url
        assert error_of(response)["code"] == "authentication_failed", url


def test_staff_are_served_with_a_token(staff_api, endpoints):
    for method, url, body in endpoints:
        response = getattr(staff_api, method)(url, body, format="json")
        assert response.status_code in (200, 201), (url, response.content)


def test_staff_are_served_when_signed_in(staff_client, endpoints):
    for method, url, body in endpoints:
        response = getattr(staff_client, method)(url, body, content_type="application/json")
        assert response.status_code in (200, 201), (url, response.content)


def test_the_browsable_api_shows_a_page_to_staff(staff_client, dana):
    response = staff_client.get(f"/api/customers/{dana.pk}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Dana Reyes" in response.content.decode()


# --- Customers -------------------------------------------------------------------------------------
def test_it_creates_a_customer_with_the_phone_in_one_form(staff_api):
    response = staff_api.post("/api/customers", {"name": "Sam Ortiz", "phone": "(212) 555-0177"}, format="json")
    assert response.status_code == 201
    customer = Customer.objects.get(pk=response.json()["id"])
    assert (customer.name, customer.phone) == ("Sam Ortiz", "+12125550177")
    assert response.json()["phone"] == "+12125550177"
    assert offset_of(response.json()["created_at"]) == customer.created_at.astimezone(NEW_YORK).utcoffset()


def test_it_finds_the_customer_it_already_has(staff_api, dana):
    response = staff_api.post("/api/customers", {"name": "Someone Else", "phone": "212-555-0142"}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == dana.pk
    dana.refresh_from_db()
    assert dana.name == "Dana Reyes"
    assert Customer.objects.count() == 1


def test_it_finds_a_customer_by_email_and_fills_in_their_phone(staff_api):
    ana = Customer.objects.create(name="Ana", email="ana@example.com")
    response = staff_api.post("/api/customers", {"email": "ANA@example.com", "phone": "+1 212 555 0188"}, format="json")
    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.phone == "+12125550188"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"name": "Nobody"}, "phone"), ({"phone": "not a phone"}, "phone"), ({"email": "not-an-email"}, "email"),
     ({"phone": "1" * 41}, "phone")],
)
def test_it_refuses_a_customer_it_cannot_find_again(staff_api, body, field):
    response = staff_api.post("/api/customers", body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["details"]
    assert Customer.objects.count() == 0


def test_a_customer_comes_with_counts_of_their_history(staff_api, dana):
    conversation_with(customer=dana, channel=Channel.SMS, satisfaction_score=6)
    conversation_with(customer=dana, channel=Channel.VOICE, satisfaction_score=10)
    AppointmentFactory(customer=dana)
    AppointmentFactory(customer=dana, status=Appointment.Status.CANCELLED)
    response = staff_api.get(f"/api/customers/{dana.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["phone"]) == ("Dana Reyes", "+12125550142")
    summary = body["summary"]
    assert (summary["conversations"], summary["bookings"], summary["cancellations"]) == (2, 2, 1)
    assert summary["channels"] == ["sms", "voice"]
    assert summary["average_satisfaction"] == 8.0


def test_a_customer_that_does_not_exist_is_a_404(staff_api):
    for url in ("/api/customers/999999", "/api/customers/999999/history"):
        response = staff_api.get(url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_the_history_lists_conversations_and_appointments_newest_first(staff_api, dana):
    now = timezone.now()
    older = conversation_with(customer=dana, at=now - timedelta(days=3))
    newer = conversation_with(customer=dana, channel=Channel.SMS, at=now - timedelta(hours=1))
    conversation_with(customer=CustomerFactory())
    soon = AppointmentFactory(customer=dana, start=now + timedelta(days=2))
    later = AppointmentFactory(customer=dana, start=now + timedelta(days=9), conversation=newer)
    AppointmentFactory()
    response = staff_api.get(f"/api/customers/{dana.pk}/history")
    assert response.status_code == 200
    body = response.json()
    assert body["customer"]["id"] == dana.pk
    assert [c["id"] for c in body["conversations"]] == [str(newer.pk), str(older.pk)]
    assert [a["id"] for a in body["appointments"]] == [later.pk, soon.pk]
    booked = body["appointments"][0]
    assert booked["service"]["name"] == later.service.name
    assert booked["conversation"] == str(newer.pk)
    assert offset_of(booked["start"]) == later.start.astimezone(NEW_YORK).utcoffset()


# --- Communications: the list ---------------------------------------------------------------------
def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_it_lists_every_channel_newest_first_with_times_in_the_clinics_zone(staff_api, dana):
    now = timezone.now()
    call = conversation_with(customer=dana, at=now - timedelta(hours=3))
    text = conversation_with(channel=Channel.SMS, at=now - timedelta(hours=2))
    email = conversation_with(channel=Channel.EMAIL, at=now - timedelta(hours=1))
    response = staff_api.get("/api/admin/communications")
    assert ids(response) == [str(email.pk), str(text.pk), str(call.pk)]
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    row = body["results"][2]
    assert row["customer"] == {"id": dana.pk, "name": "Dana Reyes", "phone": "+12125550142", "email": "dana@example.com"}
    assert body["results"][0]["customer"] is None
    assert offset_of(row["started_at"]) == call.started_at.astimezone(NEW_YORK).utcoffset()
    assert datetime.fromisoformat(row["started_at"]) == call.started_at


def test_it_filters_by_channel_status_outcome_sentiment_and_escalation(staff_api):
    booked = conversation_with(outcome=Outcome.BOOKED, sentiment=Sentiment.POSITIVE, status="completed")
    sms = conversation_with(channel=Channel.SMS, outcome=Outcome.ESCALATED, sentiment=Sentiment.NEGATIVE, escalated=True)
    active = conversation_with(channel=Channel.EMAIL)
    url = "/api/admin/communications"
    assert ids(staff_api.get(url, {"channel": "sms"})) == [str(sms.pk)]
    assert ids(staff_api.get(url, {"status": "completed"})) == [str(booked.pk)]
    assert ids(staff_api.get(url, {"outcome": "booked"})) == [str(booked.pk)]
    assert ids(staff_api.get(url, {"sentiment": "negative"})) == [str(sms.pk)]
    assert ids(staff_api.get(url, {"escalated": "true"})) == [str(sms.pk)]
    assert set(ids(staff_api.get(url, {"escalated": "false"}))) == {str(booked.pk), str(active.pk)}
    assert ids(staff_api.get(url, {"channel": "voice", "outcome": "escalated"})) == []


def test_it_filters_by_customer_and_by_words_said(staff_api, dana):
    theirs = conversation_with(customer=dana, lines=[("customer", "Do you do HydraFacials?")])
    other = conversation_with(customer=CustomerFactory(name="Sam Ortiz"), lines=[("customer", "Botox prices please")])
    url = "/api/admin/communications"
    assert ids(staff_api.get(url, {"customer": dana.pk})) == [str(theirs.pk)]
    assert ids(staff_api.get(url, {"search": "hydrafacial"})) == [str(theirs.pk)]
    assert ids(staff_api.get(url, {"search": "Ortiz"})) == [str(other.pk)]
    assert ids(staff_api.get(url, {"search": "555-0142"})) == [str(theirs.pk)]


def test_dates_are_the_clinics_days(staff_api):
    # 23:30 in New York on 3 March is already 4 March in UTC.
    late = conversation_with(at=datetime(2026, 3, 3, 23, 30, tzinfo=NEW_YORK))
    next_morning = conversation_with(at=datetime(2026, 3, 4, 9, 0, tzinfo=NEW_YORK))
    url = "/api/admin/communications"
    assert ids(staff_api.get(url, {"date_from": "2026-03-03", "date_to": "2026-03-03"})) == [str(late.pk)]
    assert ids(staff_api.get(url, {"date_from": "2026-03-04"})) == [str(next_morning.pk)]
    assert ids(staff_api.get(url, {"date_to": "2026-03-02"})) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [({"channel": "fax"}, "channel"), ({"status": "lost"}, "status"), ({"date_from": "yesterday"}, "date_from"),
     ({"date_from": "2026-03-05", "date_to": "2026-03-04"}, "date_to"), ({"customer": "dana"}, "customer"),
     ({"date_to": "9999-12-31"}, "date_to"), ({"sort": "random"}, "sort"), ({"search": "x" * 201}, "search")],
)
def test_it_refuses_filters_it_cannot_read(staff_api, query, field):
    response = staff_api.get("/api/admin/communications", query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["details"]


# --- Pages -----------------------------------------------------------------------------------------
@pytest.fixture
def five_conversations():
    now = timezone.now()
    return [conversation_with(at=now - timedelta(minutes=n)) for n in range(5)]


def test_pages_follow_one_another(staff_api, five_conversations):
    expected = [str(c.pk) for c in five_conversations]
    first = staff_api.get("/api/admin/communications", {"page_size": 2})
    assert ids(first) == expected[:2]
    assert first.json()["previous"] is None
    second = staff_api.get(first.json()["next"])
    assert ids(second) == expected[2:4]
    assert "page_size=2" in second.json()["next"]
    assert "page=" not in second.json()["previous"]
    last = staff_api.get("/api/admin/communications", {"page_size": 2, "page": 3})
    assert ids(last) == expected[4:]
    assert last.json()["next"] is None


@pytest.mark.parametrize("page", ["4", "0", "-1", "two", "²", "1.5", "99999999999999999999", "9" * 5000])
def test_a_page_that_does_not_exist_is_a_404(staff_api, five_conversations, page):
    for url in ("/api/admin/communications", "/api/admin/calls"):
        response = staff_api.get(url, {"page_size": 2, "page": page})
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_an_empty_list_is_one_empty_page(staff_api):
    response = staff_api.get("/api/admin/communications")
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_a_page_size_over_the_largest_gives_the_largest(staff_api):
    start = timezone.now() - timedelta(days=1)
    Conversation.objects.bulk_create(
        Conversation(channel=Channel.SMS, started_at=start + timedelta(seconds=n), last_activity_at=start)
        for n in range(201)
    )
    response = staff_api.get("/api/admin/communications", {"page_size": 1000})
    assert len(ids(response)) == 200
    assert response.json()["next"] is not None
    assert len(ids(staff_api.get("/api/admin/communications"))) == 25


# --- Communications: one conversation --------------------------------------------------------------
def test_a_conversation_comes_with_its_messages_their_details_and_its_events(staff_api, dana):
    conversation = conversation_with(channel=Channel.SMS, customer=dana, outcome=Outcome.BOOKED)
    inbound = add_message(conversation_id=conversation.pk, author="customer", content="Can I move Friday?", position=0)
    reply = add_message(conversation_id=conversation.pk, author="assistant", content="Yes, to Monday at 3?", position=1)
    SmsDetail.objects.create(message=inbound, provider_message_id="SM1", from_number="+12125550142",
                             to_number="+12125550100", delivery_status=DeliveryStatus.RECEIVED)
    SmsDetail.objects.create(message=reply, provider_message_id="SM2", delivery_status=DeliveryStatus.DELIVERED,
                             segments=2)
    record_event(conversation_id=conversation.pk, type="tool_call", data={"name": "find_appointments"})
    booking = AppointmentFactory(customer=dana, conversation=conversation)
    response = staff_api.get(f"/api/admin/communications/{conversation.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["channel"], body["outcome"], body["voice"]) == (str(conversation.pk), "sms", "booked", None)
    assert [m["content"] for m in body["messages"]] == ["Can I move Friday?", "Yes, to Monday at 3?"]
    assert [m["sms"]["provider_message_id"] for m in body["messages"]] == ["SM1", "SM2"]
    assert body["messages"][1]["sms"]["segments"] == 2
    assert body["messages"][0]["email"] is None
    assert [e["data"] for e in body["events"]] == [{"name": "find_appointments"}]
    assert [a["id"] for a in body["appointments"]] == [booking.pk]


def test_an_email_carries_its_headers(staff_api):
    conversation = conversation_with(channel=Channel.EMAIL)
    message = add_message(conversation_id=conversation.pk, author="customer", content="Do you have parking?")
    EmailDetail.objects.create(message=message, subject="Parking", from_email="ana@example.com", to=["ava@spa.example"],
                               message_id_header="<abc@mail.example>", delivery_status=DeliveryStatus.RECEIVED)
    email = staff_api.get(f"/api/admin/communications/{conversation.pk}").json()["messages"][0]["email"]
    assert (email["subject"], email["to"], email["message_id_header"]) == ("Parking", ["ava@spa.example"], "<abc@mail.example>")


def test_a_conversation_that_does_not_exist_is_a_404(staff_api):
    for url in (f"/api/admin/communications/{uuid.uuid4()}", f"/api/admin/calls/{uuid.uuid4()}",
                f"/api/admin/calls/{uuid.uuid4()}/transcript"):
        response = staff_api.get(url)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


# --- Calls (the old paths) -------------------------------------------------------------------------
def test_calls_are_the_voice_conversations_with_their_call_details(staff_api, dana):
    call = conversation_with(customer=dana, at=timezone.now() - timedelta(minutes=5), lines=[("customer", "Hi")])
    end_conversation(conversation_id=call.pk, end_reason="caller_hung_up", interruption_count=2)
    conversation_with(channel=Channel.SMS)
    response = staff_api.get("/api/admin/calls", {"channel": "sms"})
    assert ids(response) == [str(call.pk)]
    voice = response.json()["results"][0]["voice"]
    assert (voice["end_reason"], voice["interruption_count"]) == ("caller_hung_up", 2)
    assert voice["duration_seconds"] >= 300
    assert response.json()["results"][0]["status"] == "completed"


def test_calls_take_the_same_filters(staff_api, dana):
    theirs = conversation_with(customer=dana, outcome=Outcome.BOOKED)
    conversation_with(outcome=Outcome.ABANDONED)
    assert ids(staff_api.get("/api/admin/calls", {"outcome": "booked"})) == [str(theirs.pk)]
    assert ids(staff_api.get("/api/admin/calls", {"customer": dana.pk})) == [str(theirs.pk)]
    assert error_of(staff_api.get("/api/admin/calls", {"outcome": "won"}))["details"].keys() == {"outcome"}


def test_a_call_shows_like_a_conversation_and_a_text_is_not_a_call(staff_api):
    call = conversation_with(lines=[("assistant", "Glow Med Spa, this is Ava."), ("customer", "Hi!")])
    text = conversation_with(channel=Channel.SMS)
    body = staff_api.get(f"/api/admin/calls/{call.pk}").json()
    assert body["voice"] == {"duration_seconds": None, "end_reason": "", "interruption_count": 0, "recording_url": ""}
    assert [m["author"] for m in body["messages"]] == ["assistant", "customer"]
    assert staff_api.get(f"/api/admin/calls/{text.pk}").status_code == 404
    assert staff_api.get(f"/api/admin/calls/{text.pk}/transcript").status_code == 404


def test_the_transcript_is_what_was_said_in_order(staff_api):
    call = conversation_with()
    # The caller's words were transcribed after Ava's reply, but were said first.
    add_message(conversation_id=call.pk, author="assistant", content="Friday at three works.", position=1)
    add_message(conversation_id=call.pk, author="customer", content="Is Friday at three free?", position=0)
    response = staff_api.get(f"/api/admin/calls/{call.pk}/transcript")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(call.pk)
    assert [(line["author"], line["content"]) for line in body["messages"]] == [
        ("customer", "Is Friday at three free?"), ("assistant", "Friday at three works."),
    ]


def test_the_date_filter_refuses_days_it_cannot_search(staff_api):
    response = staff_api.get("/api/admin/calls", {"date_from": date(1, 1, 1).isoformat()})
    assert response.status_code == 400
    assert "date_from" in error_of(response)["details"]


def test_the_browsable_api_shows_a_list_to_staff(staff_client, dana):
    conversation_with(customer=dana)
    response = staff_client.get("/api/admin/communications", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Dana Reyes" in response.content.decode()


@pytest.mark.parametrize("url", ["/api/admin/communications", "/api/admin/calls"])
def test_a_longer_page_costs_no_more_queries(staff_api, url):
    def queries_for_a_page():
        with CaptureQueriesContext(connection) as queries:
            assert staff_api.get(url).status_code == 200
        return len(queries)

    for _ in range(2):
        conversation_with(customer=CustomerFactory())
    few = queries_for_a_page()
    for _ in range(10):
        conversation_with(customer=CustomerFactory())
    assert queries_for_a_page() == few


def test_a_conversation_with_more_messages_costs_no_more_queries(staff_api):
    conversation = conversation_with(channel=Channel.SMS)

    def add_one_of_each(n):
        message = add_message(conversation_id=conversation.pk, author="assistant", content=f"Reply {n}")
        SmsDetail.objects.create(message=message, provider_message_id=f"SMX{n}")
        record_event(conversation_id=conversation.pk, type="tool_call", message=message)
        AppointmentFactory(conversation=conversation)

    def queries_for_it():
        with CaptureQueriesContext(connection) as queries:
            assert staff_api.get(f"/api/admin/communications/{conversation.pk}").status_code == 200
        return len(queries)

    add_one_of_each(0)
    few = queries_for_it()
    for n in range(1, 6):
        add_one_of_each(n)
    assert queries_for_it() == few
