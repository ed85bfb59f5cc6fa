"""Owners edit customers in Django admin: a phone or email another customer holds is a form error."""

import pytest

from communications.models import Customer

pytestmark = pytest.mark.django_db


def customer_form(**overrides):
    data = {"name": "Dana Whitfield", "phone": "", "email": "", "is_new_client": "on", "notes": ""}
    data.update(overrides)
    return data


def test_an_owner_adds_a_customer_and_the_phone_is_stored_as_e164(admin_client_owner):
    response = admin_client_owner.post("/admin/communications/customer/add/", customer_form(phone="(212) 555-0142"))

    assert response.status_code == 302
    assert Customer.objects.get().phone == "+12125550142"


def test_a_phone_another_customer_holds_in_another_spelling_is_refused(admin_client_owner):
    holder = Customer.objects.create(name="Dana", phone="+12125550142")

    response = admin_client_owner.post("/admin/communications/customer/add/", customer_form(phone="212.555.0142"))

    assert response.status_code == 200
    assert "Constraint “customer_phone_unique” is violated." not in response.content.decode()
    assert f"Another customer already has this phone number: Dana (customer {holder.pk})" in response.content.decode()
    assert Customer.objects.count() == 1


def test_an_email_another_customer_holds_in_other_case_is_refused_on_change(admin_client_owner):
    holder = Customer.objects.create(name="Dana", email="dana@example.com")
    other = Customer.objects.create(name="D. Whitfield", phone="+12125550100")

    response = admin_client_owner.post(f"/admin/communications/customer/{other.pk}/change/",
                                       customer_form(phone="+12125550100", email="DANA@Example.com"))

    assert response.status_code == 200
    assert f"Another customer already has this email address: Dana (customer {holder.pk})" in response.content.decode()
    other.refresh_from_db()
    assert other.email is None


def test_a_phone_that_is_no_number_is_a_form_error(admin_client_owner):
    response = admin_client_owner.post("/admin/communications/customer/add/", customer_form(phone="call me"))

    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()
    assert not Customer.objects.exists()
