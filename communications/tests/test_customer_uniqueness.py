"""A phone or email belongs to one customer: every way in says so plainly, never with a server error."""

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from communications.models import Channel, Conversation, Customer
from communications.services import (
    CustomerConflict,
    find_or_create_customer,
    merge_customers,
    start_conversation,
)
from communications.tests.factories import CustomerFactory
from conventions.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(staff_user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return api


@pytest.fixture
def by_email_and_by_phone():
    """The issue's two customers: one known only by email, one only by phone."""
    by_email = Customer.objects.create(name="Dana (email)", email="dana@example.com")
    by_phone = Customer.objects.create(name="Dana (phone)", phone="+12125550142")
    return by_email, by_phone


# --- POST /api/customers --------------------------------------------------------------------------
def test_a_post_with_one_customers_phone_and_anothers_email_answers_409_naming_the_field_and_holder(
        staff_api, by_email_and_by_phone):
    by_email, by_phone = by_email_and_by_phone

    response = staff_api.post("/api/customers", {"phone": "(212) 555-0142", "email": "Dana@Example.com"},
                              format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "customer_conflict"
    assert error["message"] == "Another customer already has this email address."
    assert error["details"]["field"] == "email"
    assert error["details"]["customer"] == {"id": by_email.pk, "name": "Dana (email)", "phone": None,
                                            "email": "dana@example.com"}
    # Nothing changed, nothing was added.
    by_phone.refresh_from_db()
    assert by_phone.email is None
    assert Customer.objects.count() == 2


def test_a_post_that_finds_the_customer_by_phone_gives_them_a_free_email(staff_api, by_email_and_by_phone):
    _, by_phone = by_email_and_by_phone

    response = staff_api.post("/api/customers", {"phone": "212 555 0142", "email": "dana.w@example.com"},
                              format="json")

    assert response.status_code == 200
    assert response.json()["id"] == by_phone.pk
    by_phone.refresh_from_db()
    assert by_phone.email == "dana.w@example.com"


def test_a_post_with_an_email_too_long_to_store_is_refused_as_input(staff_api):
    response = staff_api.post("/api/customers", {"email": f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com"},
                              format="json")

    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    assert not Customer.objects.exists()


# --- PATCH /api/customers/{id} ----------------------------------------------------------------------
def test_staff_correct_a_customers_details(staff_api, staff_user):
    customer = CustomerFactory(name="Dana Whitfeld", phone="+12125550142", email="old@example.com", notes="")

    response = staff_api.patch(f"/api/customers/{customer.pk}",
                               {"name": "Dana Whitfield", "phone": "(212) 555-0199", "email": "dana@example.com",
                                "notes": "Prefers mornings."}, format="json")

    assert response.status_code == 200
    assert response.json()["phone"] == "+12125550199"
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email, customer.notes) == (
        "Dana Whitfield", "+12125550199", "dana@example.com", "Prefers mornings.")
    entry = AuditEntry.objects.get(action="update")
    assert (entry.user, entry.object_type, entry.object_id) == (staff_user, "customer", str(customer.pk))


def test_a_patch_changes_only_the_fields_given(staff_api):
    customer = CustomerFactory(name="Dana Whitfield", phone="+12125550142", email="dana@example.com")

    response = staff_api.patch(f"/api/customers/{customer.pk}", {"notes": "Allergic to lidocaine."}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email) == ("Dana Whitfield", "+12125550142", "dana@example.com")
    assert customer.notes == "Allergic to lidocaine."


@pytest.mark.parametrize(("field", "value", "label"), [
    ("phone", "212-555-0142", "phone number"),
    ("email", "DANA@example.com", "email address"),
])
def test_a_patch_to_another_customers_phone_or_email_answers_409(staff_api, field, value, label):
    holder = CustomerFactory(name="Dana Whitfield", phone="+12125550142", email="dana@example.com")
    customer = CustomerFactory(name="D. Whitfield", phone="+12125550100", email="dw@example.com")

    response = staff_api.patch(f"/api/customers/{customer.pk}", {field: value, "name": "Dana"}, format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["message"] == f"Another customer already has this {label}."
    assert error["details"]["field"] == field
    assert error["details"]["customer"]["id"] == holder.pk
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.email) == ("D. Whitfield", "+12125550100", "dw@example.com")
    assert not AuditEntry.objects.filter(action="update").exists()


def test_a_patch_may_keep_the_customers_own_phone_in_another_spelling(staff_api):
    customer = CustomerFactory(phone="+12125550142", email="dana@example.com")

    response = staff_api.patch(f"/api/customers/{customer.pk}", {"phone": "(212) 555-0142",
                                                                 "email": "Dana@Example.com"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.phone, customer.email) == ("+12125550142", "Dana@Example.com")


def test_a_patch_clears_a_phone_but_never_both_ways_to_reach_them(staff_api):
    customer = CustomerFactory(phone="+12125550142", email="dana@example.com")

    cleared = staff_api.patch(f"/api/customers/{customer.pk}", {"phone": None}, format="json")
    refused = staff_api.patch(f"/api/customers/{customer.pk}", {"email": ""}, format="json")

    assert cleared.status_code == 200
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"phone": ["Give a phone number or an email address."]}
    customer.refresh_from_db()
    assert (customer.phone, customer.email) == (None, "dana@example.com")


def test_a_patch_with_a_bad_phone_is_refused_and_changes_nothing(staff_api):
    customer = CustomerFactory(name="Dana", phone="+12125550142")

    response = staff_api.patch(f"/api/customers/{customer.pk}", {"phone": "call me", "name": "Dana W."},
                               format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["error"]["details"]
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Dana", "+12125550142")


def test_a_forgotten_customer_cannot_be_given_details_again(staff_api):
    customer = CustomerFactory(name="", phone=None, email=None)
    Customer.objects.filter(pk=customer.pk).update(forgotten_at="2026-01-05T10:00:00Z")

    response = staff_api.patch(f"/api/customers/{customer.pk}", {"phone": "212 555 0142"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "customer_forgotten"
    customer.refresh_from_db()
    assert customer.phone is None


def test_a_patch_needs_staff():
    customer = CustomerFactory()

    response = APIClient().patch(f"/api/customers/{customer.pk}", {"name": "Eve"}, format="json")

    assert response.status_code in (401, 403)
    customer.refresh_from_db()
    assert customer.name != "Eve"


# --- The services every channel uses ------------------------------------------------------------
def test_the_service_raises_a_conflict_that_names_the_holder(by_email_and_by_phone):
    by_email, by_phone = by_email_and_by_phone

    with pytest.raises(CustomerConflict) as raised:
        find_or_create_customer(phone="+12125550142", email="dana@example.com")

    assert (raised.value.field, raised.value.holder) == ("email", by_email)


def test_an_email_is_matched_as_the_unique_index_compares_it():
    """The database's LOWER decides uniqueness, so it decides who holds an address too."""
    existing = Customer.objects.create(email="Kate@Example.com")

    found = find_or_create_customer(email="kate@example.COM", name="Kate")

    assert found == existing
    assert found.name == "Kate"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Unicode case folding is PostgreSQL's")
def test_an_address_equal_only_under_lower_finds_its_holder_on_postgresql():
    # The Kelvin sign lowers to "k" but does not upper to "K": UPPER-based iexact missed it, the insert broke.
    existing = Customer.objects.create(email="kate@example.com")

    assert find_or_create_customer(email="\u212aate@example.com") == existing


def test_a_very_long_name_from_a_channel_is_kept_to_what_fits():
    customer = find_or_create_customer(phone="+12125550142", name="Dana " * 100)

    customer.refresh_from_db()
    assert customer.name == ("Dana " * 100).strip()[:200]


def test_an_unstorable_email_from_a_channel_is_a_validation_error_not_a_database_error():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        find_or_create_customer(email="a" * 250 + "@example.com")
    assert not Customer.objects.exists()


# --- Merge ---------------------------------------------------------------------------------------
def test_merging_carries_the_duplicates_phone_and_email_to_the_kept_customer():
    keep = Customer.objects.create(name="Dana Whitfield", email="dana@example.com")
    duplicate = Customer.objects.create(phone="+12125550142", email="dana.w@example.com")
    call = start_conversation(channel=Channel.VOICE, customer=duplicate)

    merge_customers(keep=keep, duplicate=duplicate)

    keep.refresh_from_db()
    assert (keep.phone, keep.email) == ("+12125550142", "dana@example.com")
    assert Conversation.objects.get(pk=call.pk).customer == keep
    assert not Customer.objects.filter(pk=duplicate.pk).exists()


def test_merging_with_a_stale_copy_keeps_what_changed_since():
    keep = Customer.objects.create(name="Dana", phone="+12125550142")
    stale = Customer.objects.get(pk=keep.pk)
    Customer.objects.filter(pk=keep.pk).update(email="dana@example.com", notes="VIP")
    duplicate = Customer.objects.create(name="Dana W.")

    merge_customers(keep=stale, duplicate=duplicate)

    keep.refresh_from_db()
    assert (keep.email, keep.notes) == ("dana@example.com", "VIP")


def test_merging_into_a_customer_merged_away_a_moment_ago_is_refused_and_loses_nothing():
    """Two staff merging A into B and B into A at once: the second finds its `keep` gone."""
    first = Customer.objects.create(name="Dana", phone="+12125550142")
    second = Customer.objects.create(name="Dana W.", email="dana@example.com")
    call = start_conversation(channel=Channel.SMS, customer=second)
    stale_first = Customer.objects.get(pk=first.pk)
    merge_customers(keep=second, duplicate=first)

    with pytest.raises(Customer.DoesNotExist):
        merge_customers(keep=stale_first, duplicate=second)

    second.refresh_from_db()
    assert (second.phone, second.email) == ("+12125550142", "dana@example.com")
    assert Conversation.objects.get(pk=call.pk).customer == second
    assert list(Customer.objects.all()) == [second]
