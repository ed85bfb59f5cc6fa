"""Booking for a phone that is one customer's and an email that is another's: a refusal that says who, not a 500."""

import pytest

from communications.models import Customer
from scheduling.models import Appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

# The customer is looked up before any rule about the time, so no clock is involved.
START = at(2031, 3, 4, 10)


@pytest.fixture
def botox(clinic):
    service = ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)
    ProviderFactory(name="Dana Lee", services=[service], weekly_hours=[(d, "09:00", "17:00") for d in range(7)])
    return service


def test_staff_booking_with_one_customers_phone_and_anothers_email_is_refused_naming_the_holder(staff_client, botox):
    by_email = Customer.objects.create(name="Ana (email)", email="ana@example.com")
    by_phone = Customer.objects.create(name="Ana (phone)", phone="+12125550142")

    response = staff_client.post(
        "/api/appointments",
        {"service": botox.pk, "start": START.isoformat(), "phone": "(212) 555-0142", "email": "ANA@example.com",
         "name": "Ana Ruiz"},
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "customer_conflict"
    assert f"customer {by_email.pk}" in error["message"]
    assert error["details"]["field"] == "email"
    assert error["details"]["customer"]["id"] == by_email.pk
    assert not Appointment.objects.exists()
    by_phone.refresh_from_db()
    assert by_phone.email is None


def test_the_dashboards_booking_form_shows_the_same_refusal(staff_client, botox):
    by_email = Customer.objects.create(name="Ana Ruiz", email="ana@example.com")
    Customer.objects.create(phone="+12125550142")

    response = staff_client.post("/dashboard/appointments/new/", {
        "service": botox.pk, "date": START.date().isoformat(), "slot": f"{botox.providers.get().pk}|{START.isoformat()}",
        "name": "Ana Ruiz", "phone": "212 555 0142", "email": "ana@example.com",
    })

    assert response.status_code == 409
    assert f"Another customer already has this email address (Ana Ruiz, customer {by_email.pk})" in (
        response.content.decode())
    assert not Appointment.objects.exists()
