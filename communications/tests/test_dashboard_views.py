"""Staff read conversations in the inbox, a transcript and a customer's timeline."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from communications.models import Channel, Conversation, Customer, Message
from communications.services import add_message, record_event, start_conversation

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def conversation_with(*, channel=Channel.VOICE, customer=None, lines=(), at=None, **fields):
    conversation = start_conversation(channel=channel, customer=customer, at=at or timezone.now())
    for position, (author, content) in enumerate(lines):
        add_message(conversation_id=conversation.pk, author=author, content=content, position=position,
                    sent_at=conversation.started_at + timedelta(seconds=position))
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    return conversation


@pytest.fixture
def dana():
    return Customer.objects.create(name="Dana Reyes", phone="+12125550142", email="dana@example.com")


def test_it_requires_a_staff_login(client, django_user_model):
    assert client.get("/dashboard/inbox/")["Location"].startswith("/accounts/login/")
    django_user_model.objects.create_user("caller", password="a-long-test-password")
    client.login(username="caller", password="a-long-test-password")
    assert client.get("/dashboard/inbox/").status_code == 302


def test_the_inbox_lists_conversations_from_every_channel(staff_client, dana):
    conversation_with(channel=Channel.VOICE, customer=dana, lines=[("customer", "Do you do HydraFacials?")])
    conversation_with(channel=Channel.SMS, lines=[("customer", "What time do you open Saturday?")])
    conversation_with(channel=Channel.EMAIL, lines=[("customer", "Invoice question")])
    response = staff_client.get("/dashboard/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dana Reyes" in page
    for label in ("Voice call", "SMS", "Email"):
        assert label in page
    assert "What time do you open Saturday?" in page


def test_it_filters_by_channel(staff_client, dana):
    conversation_with(channel=Channel.VOICE, customer=dana)
    conversation_with(channel=Channel.SMS, customer=Customer.objects.create(name="Sam Ortiz"))
    page = staff_client.get("/dashboard/inbox/?channel=sms").content.decode()
    assert "Sam Ortiz" in page
    assert "Dana Reyes" not in page


def test_it_finds_words_said_in_a_transcript(staff_client, dana):
    conversation_with(customer=dana, lines=[("customer", "I'd like a hydrafacial next week")])
    conversation_with(customer=Customer.objects.create(name="Sam Ortiz"), lines=[("customer", "Botox prices?")])
    page = staff_client.get("/dashboard/inbox/?q=HydraFacial").content.decode()
    assert "Dana Reyes" in page
    assert "Sam Ortiz" not in page


def test_it_finds_a_customer_by_phone_digits(staff_client, dana):
    conversation_with(customer=dana)
    conversation_with(customer=Customer.objects.create(name="Sam Ortiz", phone="+13055550100"))
    page = staff_client.get("/dashboard/inbox/?q=555-0142").content.decode()
    assert "Dana Reyes" in page
    assert "Sam Ortiz" not in page


def test_it_filters_by_score_escalation_and_the_clinic_s_days(staff_client, dana):
    sam = Customer.objects.create(name="Sam Ortiz")
    # 11:30 pm in New York on March 3 is already March 4 in UTC.
    late = datetime(2026, 3, 3, 23, 30, tzinfo=NEW_YORK)
    conversation_with(customer=dana, at=late, satisfaction_score=9)
    conversation_with(customer=sam, at=late + timedelta(days=1), satisfaction_score=3, escalated=True)
    page = staff_client.get("/dashboard/inbox/?date_from=2026-03-03&date_to=2026-03-03").content.decode()
    assert "Dana Reyes" in page and "Sam Ortiz" not in page
    page = staff_client.get("/dashboard/inbox/?score_max=5").content.decode()
    assert "Sam Ortiz" in page and "Dana Reyes" not in page
    page = staff_client.get("/dashboard/inbox/?escalated=true").content.decode()
    assert "Sam Ortiz" in page and "Dana Reyes" not in page


def test_a_bad_filter_is_explained_not_an_error(staff_client, dana):
    conversation_with(customer=dana)
    response = staff_client.get("/dashboard/inbox/?score_min=11&date_from=not-a-date")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ensure this value is less than or equal to 10." in page
    assert "Dana Reyes" in page


def test_htmx_gets_only_the_results_fragment(staff_client, dana):
    conversation_with(customer=dana)
    response = staff_client.get("/dashboard/inbox/?channel=voice", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert "Dana Reyes" in body


def test_it_pages_without_counting_everything(staff_client):
    base = timezone.now() - timedelta(hours=1)
    for i in range(27):
        conversation_with(customer=Customer.objects.create(name=f"Customer {i:02d}"), at=base + timedelta(minutes=i))
    first = staff_client.get("/dashboard/inbox/").content.decode()
    assert "Customer 26" in first and "Customer 02" in first and "Customer 01" not in first
    assert "page=2" in first
    second = staff_client.get("/dashboard/inbox/?page=2").content.decode()
    assert "Customer 01" in second and "Customer 00" in second and "Customer 26" not in second
    assert "More →" not in second


def test_the_transcript_reads_in_order_with_tool_calls_in_line(staff_client, dana):
    conversation = conversation_with(customer=dana, lines=[
        ("assistant", "Thank you for calling. I'm Ava."),
        ("customer", "Can I book a HydraFacial on Friday?"),
        ("assistant", "Friday at 2 pm is open with Nina."),
    ])
    record_event(conversation_id=conversation.pk, type="tool_call",
                 data={"name": "check_availability", "arguments": {}, "result": {}},
                 at=conversation.started_at + timedelta(milliseconds=1500))
    page = staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    order = [page.index("Thank you for calling"), page.index("Can I book"), page.index("check_availability"), page.index("Friday at 2 pm")]
    assert order == sorted(order)
    assert "Dana Reyes" in page


def test_an_unknown_conversation_is_not_found(staff_client):
    assert staff_client.get("/dashboard/conversations/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_customer_page_shows_every_channel_on_one_timeline(staff_client, dana):
    conversation_with(channel=Channel.VOICE, customer=dana, satisfaction_score=8, summary="Asked about Botox.")
    conversation_with(channel=Channel.SMS, customer=dana, satisfaction_score=6)
    page = staff_client.get(f"/dashboard/customers/{dana.pk}/").content.decode()
    assert "Asked about Botox." in page
    assert "VOICE" in page and "SMS" in page
    assert "7.0/10" in page


def test_staff_merge_two_records_of_one_person(staff_client, dana):
    twin = Customer.objects.create(name="", email="dana.reyes@work.example")
    conversation = conversation_with(channel=Channel.EMAIL, customer=twin)
    response = staff_client.post(f"/dashboard/customers/{dana.pk}/merge/", {"duplicate": "dana.reyes@work.example"})
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=twin.pk).exists()
    conversation.refresh_from_db()
    assert conversation.customer_id == dana.pk
    page = staff_client.get(response["Location"]).content.decode()
    assert "Merged" in page


def test_merging_an_unknown_customer_says_so(staff_client, dana):
    response = staff_client.post(f"/dashboard/customers/{dana.pk}/merge/", {"duplicate": "+19995550000"}, follow=True)
    assert "No customer matches" in response.content.decode()
    assert Customer.objects.count() == 1
