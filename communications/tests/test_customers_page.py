"""Staff find customers: by name, phone written any way, or email; the last in touch first; paged like the inbox."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from communications.models import Channel, Customer
from communications.selectors import customers_by_last_contact
from communications.services import add_message, forget_customer, start_conversation
from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
# A Tuesday morning in the clinic's zone; every time below is relative to it.
NOW = datetime(2027, 3, 9, 10, 30, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def contact(customer, *, ago, channel=Channel.VOICE, words="Hello"):
    conversation = start_conversation(channel=channel, customer=customer, at=NOW - ago)
    add_message(conversation_id=conversation.pk, author="customer", content=words, position=0, sent_at=NOW - ago)
    return conversation


def names(response):
    return [row.customer.name for row in response.context["page"].items]


def test_it_requires_a_staff_login(client):
    assert client.get("/dashboard/customers/")["Location"].startswith("/accounts/login/")


def test_customers_is_in_the_dashboard_navigation(staff_client):
    page = staff_client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/customers/"' in page and ">Customers</a>" in page


def test_the_last_in_touch_come_first_and_those_never_in_touch_last(staff_client):
    ann = CustomerFactory(name="Ann Old")
    bea = CustomerFactory(name="Bea Recent")
    cal = CustomerFactory(name="Cal Middle")
    CustomerFactory(name="Dee Never")  # booked at the front desk, never called or wrote
    contact(ann, ago=timedelta(days=30))
    contact(cal, ago=timedelta(days=5))
    contact(bea, ago=timedelta(days=40))
    contact(bea, ago=timedelta(hours=2), channel=Channel.SMS)  # her newest conversation counts, not her first

    response = staff_client.get("/dashboard/customers/")

    assert response.status_code == 200
    assert names(response) == ["Bea Recent", "Cal Middle", "Ann Old", "Dee Never"]
    bea_row = response.context["page"].items[0]
    assert bea_row.conversations == 2 and bea_row.channels == ["sms", "voice"]
    assert bea_row.last_contact == NOW - timedelta(hours=2)


@pytest.mark.parametrize("typed", ["(201) 555-0107", "201-555-0107", "201.555.0107", "+1 201 555 0107", "2015550107",
                                   "1 (201) 555 0107", "555-0107"])
def test_a_phone_number_is_found_however_it_is_written(staff_client, typed):
    CustomerFactory(name="Dana Whitfield", phone="+12015550107")
    CustomerFactory(name="Someone Else", phone="+12125550199")

    response = staff_client.get("/dashboard/customers/", {"q": typed})

    assert names(response) == ["Dana Whitfield"]


def test_a_name_or_an_email_is_found_by_any_part_of_it(staff_client):
    CustomerFactory(name="Dana Whitfield", email="dana.w@example.com")
    CustomerFactory(name="Maria Lopez", email="mlopez@clinicmail.org")

    assert names(staff_client.get("/dashboard/customers/", {"q": "whit"})) == ["Dana Whitfield"]
    assert names(staff_client.get("/dashboard/customers/", {"q": "CLINICMAIL"})) == ["Maria Lopez"]
    response = staff_client.get("/dashboard/customers/", {"q": "nobody-like-this"})
    assert names(response) == [] and "No customer matches" in response.content.decode()


def test_a_search_keeps_the_last_contact_order(staff_client):
    older, newer = CustomerFactory(name="Dana Old"), CustomerFactory(name="Dana New")
    CustomerFactory(name="Dana Never")
    contact(older, ago=timedelta(days=9))
    contact(newer, ago=timedelta(days=1))

    assert names(staff_client.get("/dashboard/customers/", {"q": "dana"})) == ["Dana New", "Dana Old", "Dana Never"]


def test_each_row_shows_its_conversations_and_upcoming_appointments(staff_client):
    dana = CustomerFactory(name="Dana Whitfield", phone="+12015550107")
    conversation = contact(dana, ago=timedelta(days=1))
    soon = AppointmentFactory(customer=dana, start=NOW + timedelta(days=2), service__name="HydraFacial")
    AppointmentFactory(customer=dana, start=NOW - timedelta(days=3), status=Appointment.Status.COMPLETED)
    AppointmentFactory(customer=dana, start=NOW + timedelta(days=4), status=Appointment.Status.CANCELLED)

    response = staff_client.get("/dashboard/customers/")

    row = response.context["page"].items[0]
    assert row.upcoming == [soon]
    html = response.content.decode()
    assert f'href="/dashboard/conversations/{conversation.pk}/"' in html and "1 conversation" in html
    assert f'href="/dashboard/appointments/{soon.pk}/"' in html and "HydraFacial" in html
    # Staff read the number as they dial it; the link dials E.164.
    assert "(201) 555-0107" in html and 'href="tel:+12015550107"' in html
    assert ">+12015550107<" not in html


def test_pages_follow_each_other_without_gaps_or_repeats(staff_client):
    customers = [CustomerFactory(name=f"Customer {n:02d}") for n in range(60)]
    for n, customer in enumerate(customers[:40]):
        contact(customer, ago=timedelta(minutes=n + 1))  # Customer 00 most recent

    seen, page = [], 1
    while True:
        response = staff_client.get("/dashboard/customers/", {"page": page})
        seen += names(response)
        if not response.context["page"].has_next:
            break
        assert f"page={page + 1}" in response.content.decode()
        page += 1

    assert page == 3
    assert seen[:40] == [f"Customer {n:02d}" for n in range(40)]
    # Never in touch: newest first.
    assert seen[40:] == [f"Customer {n:02d}" for n in range(59, 39, -1)]


def test_a_forgotten_customer_is_not_listed(staff_client):
    dana = CustomerFactory(name="Dana Whitfield")
    contact(dana, ago=timedelta(days=1))
    forget_customer(customer=dana)

    assert names(staff_client.get("/dashboard/customers/")) == []


def test_the_walk_reaches_customers_behind_many_conversations_of_others():
    busy, quiet = CustomerFactory(name="Busy"), CustomerFactory(name="Quiet")
    contact(quiet, ago=timedelta(days=3))
    for n in range(250):  # more than the first batch the selector reads
        contact(busy, ago=timedelta(minutes=n))

    page = customers_by_last_contact(page_size=1, now=timezone.now())
    assert [row.customer.name for row in page.items] == ["Busy"] and page.has_next
    page = customers_by_last_contact(page=2, page_size=1, now=timezone.now())
    assert [row.customer.name for row in page.items] == ["Quiet"] and not page.has_next


def test_htmx_gets_only_the_results(staff_client):
    CustomerFactory(name="Dana Whitfield")
    response = staff_client.get("/dashboard/customers/", {"q": "dana"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"') and "Dana Whitfield" in html


def test_a_search_too_long_is_refused_clearly(staff_client):
    response = staff_client.get("/dashboard/customers/", {"q": "x" * 201})
    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.content.decode()


def test_the_server_address_sends_staff_to_the_dashboard_and_others_to_sign_in(staff_client):
    visitor = Client()
    assert visitor.get("/")["Location"].startswith("/accounts/login/")
    assert 'href="/call/"' in visitor.get("/accounts/login/").content.decode()
    assert staff_client.get("/")["Location"] == "/dashboard/"
    assert 'href="/call/"' in staff_client.get("/dashboard/").content.decode()


def test_the_customer_page_and_the_inbox_show_national_numbers(staff_client):
    local = Customer.objects.create(phone="+12015550107")  # no name: the number stands for them
    foreign = Customer.objects.create(name="Pip Hart", phone="+442079460958")
    conversation = contact(local, ago=timedelta(hours=1))

    inbox = staff_client.get("/dashboard/inbox/").content.decode()
    assert "(201) 555-0107" in inbox and "+12015550107" not in inbox
    assert "(201) 555-0107" in staff_client.get(f"/dashboard/customers/{local.pk}/").content.decode()
    assert "(201) 555-0107" in staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    assert "+44 20 7946 0958" in staff_client.get(f"/dashboard/customers/{foreign.pk}/").content.decode()
    # Storage keeps E.164.
    assert Customer.objects.get(pk=local.pk).phone == "+12015550107"
