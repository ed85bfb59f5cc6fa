"""One way to ask for appointments: the list page and /api/appointments read the same filters
(scheduling.forms.AppointmentFilterForm) through one selector, so a query string means the same on both."""

import re

import pytest
import time_machine

from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(clinic):
    botox = ServiceFactory(name="Botox", slug="botox")
    facial = ServiceFactory(name="HydraFacial", slug="hydrafacial")
    dana = ProviderFactory(name="Dana Lee", services=[botox, facial])
    omar = ProviderFactory(name="Omar Haddad", services=[facial])
    jane = CustomerFactory(name="Jane Doe", phone="+12125550199", email="jane@example.com")
    mia = CustomerFactory(name="Mia Chen", phone="+12125550123")
    rows = {
        "jane_botox": AppointmentFactory(customer=jane, service=botox, provider=dana, start=at(2026, 3, 2, 10)),
        "mia_facial": AppointmentFactory(customer=mia, service=facial, provider=omar, start=at(2026, 3, 4, 13)),
        # 00:30 on 3 March in New York is still 2 March's evening in UTC's eyes, and 3 March here.
        "mia_late": AppointmentFactory(customer=mia, service=facial, provider=omar, start=at(2026, 3, 3, 0, 30),
                                       status=Appointment.Status.CANCELLED, late_cancellation=True),
        "jane_past": AppointmentFactory(customer=jane, service=facial, provider=dana, start=at(2026, 2, 20, 9)),
    }
    return type("Book", (), {"botox": botox, "facial": facial, "dana": dana, "omar": omar, "jane": jane,
                             "mia": mia, **{name: row.pk for name, row in rows.items()}})()


def on_the_page(client, query):
    response = client.get(f"/dashboard/appointments/list/?{query}")
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'href="/dashboard/appointments/(\d+)/"', response.content.decode())]


def in_the_api(client, query):
    response = client.get(f"/api/appointments?{query}")
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_the_page_and_the_api_list_the_same_appointments_for_the_same_query(staff_client, book):
    queries = {
        "start_date=2026-03-01": [book.jane_botox, book.mia_late, book.mia_facial],
        "start_date=2026-03-03&end_date=2026-03-03": [book.mia_late],
        "end_date=2026-03-02": [book.jane_past, book.jane_botox],
        f"start_date=2026-01-01&provider={book.omar.pk}": [book.mia_late, book.mia_facial],
        f"start_date=2026-01-01&service={book.botox.pk}": [book.jane_botox],
        f"start_date=2026-01-01&customer={book.jane.pk}": [book.jane_past, book.jane_botox],
        "start_date=2026-01-01&status=cancelled": [book.mia_late],
        "start_date=2026-01-01&late=on": [book.mia_late],
        "start_date=2026-01-01&q=jane": [book.jane_past, book.jane_botox],
        "start_date=2026-01-01&q=555-0123": [book.mia_late, book.mia_facial],
        "start_date=2026-01-01&phone=(212) 555-0199": [book.jane_past, book.jane_botox],
    }
    for query, expected in queries.items():
        assert on_the_page(staff_client, query) == expected, query
        assert in_the_api(staff_client, query) == expected, query


def test_the_page_opens_on_what_is_coming_and_the_api_on_everything(staff_client, book):
    with time_machine.travel(at(2026, 3, 2, 23, 30), tick=False):
        page = staff_client.get("/dashboard/appointments/list/").content.decode()
        assert on_the_page(staff_client, "") == [book.jane_botox, book.mia_late, book.mia_facial]
        assert in_the_api(staff_client, "") == [book.jane_past, book.jane_botox, book.mia_late, book.mia_facial]
    assert "· from today on" in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=lost", "status", "Use one of: scheduled, completed, cancelled, no_show."),
        ("start_date=tuesday", "start_date", "Give a date as YYYY-MM-DD."),
        ("end_date=9999-12-31", "end_date", "Give a date between 1970 and 2200."),
        ("start_date=2026-03-02&end_date=2026-03-01", "end_date", "The end date is before the start date."),
        ("provider=99999", "provider", "Select a valid choice. That choice is not one of the available choices."),
        ("phone=hello", "phone", "“hello” is not a phone number."),
        ("q=a%00b", "q", "Null characters are not allowed."),  # PostgreSQL would refuse it in a query
    ],
)
def test_a_bad_filter_is_refused_in_the_apis_shape_and_shown_on_the_page(staff_client, book, query, field, message):
    response = staff_client.get(f"/api/appointments?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid", "message": "The request is not valid.",
                                         "details": {field: [message]}}}
    if field != "phone":  # the page has no phone box; its search is `q`
        page = staff_client.get(f"/dashboard/appointments/list/?{query}")
        assert page.status_code == 200 and message in page.content.decode()


def test_a_bookmark_with_the_old_date_names_opens_the_same_list(staff_client, book):
    response = staff_client.get("/dashboard/appointments/list/?date_from=2026-03-03&date_to=2026-03-03&status=cancelled")

    assert response.status_code == 301
    assert response.url == "/dashboard/appointments/list/?status=cancelled&start_date=2026-03-03&end_date=2026-03-03"
    assert on_the_page(staff_client, response.url.split("?", 1)[1]) == [book.mia_late]


def test_a_list_narrowed_to_a_customer_stays_so_when_refiltered(staff_client, book):
    html = staff_client.get(f"/dashboard/appointments/list/?start_date=2026-01-01&customer={book.jane.pk}").content.decode()

    assert f'<input type="hidden" name="customer" value="{book.jane.pk}"' in html
