"""Customers made by the channels (email webhook, messaging console): what cannot be stored is said, not a 500."""

import pytest

from communications.models import Customer, Message
from communications.tests.messaging_fixtures import inbound_email, spa  # noqa: F401
from communications.tests.test_email import INBOUND_URL, auth, parse_post

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")]

TOO_LONG = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com"  # 260 characters: no server delivers to it


def test_an_email_from_an_address_longer_than_any_deliverable_one_is_acknowledged_and_ignored(
        client, spa, inbound_email, caplog):
    response = client.post(INBOUND_URL, parse_post(sender=f"Someone <{TOO_LONG}>"), **auth())

    assert response.status_code == 200  # SendGrid must not retry it for days
    assert not Customer.objects.exists() and not Message.objects.exists()
    assert "260-character sender ignored" in caplog.text


def test_an_email_from_a_sender_with_a_very_long_display_name_is_kept(client, spa, inbound_email,
                                                                      django_capture_on_commit_callbacks):
    long_name = "Maya " + "Patel-" * 60
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(INBOUND_URL, parse_post(sender=f"{long_name} <maya@example.com>"), **auth())

    assert response.status_code == 200
    customer = Customer.objects.get(email="maya@example.com")
    assert customer.name == long_name.strip()[:200]
    assert Message.objects.filter(conversation__customer=customer, author="customer").count() == 1


def test_the_console_refuses_an_email_address_too_long_to_store(staff_client, spa):
    response = staff_client.post("/dashboard/console/send/", {"channel": "email", "email": TOO_LONG,
                                                              "body": "Where do I park?"})

    assert response.status_code == 400
    assert "Ensure this value has at most 254 characters" in response.content.decode()
    assert not Customer.objects.exists() and not Message.objects.exists()
