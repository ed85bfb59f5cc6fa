"""Cost per day and cost per booking: in the daily rollups, the metrics API and the overview page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.usage import record_provider_charge, record_usage

from . import dataset
from .helpers import CUSTOMER, book, make_conversation

pytestmark = pytest.mark.django_db

SUNDAY_ONLY = {"period": "custom", "start": "2025-03-09", "end": "2025-03-09"}


def test_the_overview_api_sums_the_days_cost_and_divides_it_by_the_bookings(staff_client, clinic):
    dataset.build()

    totals = staff_client.get("/api/admin/metrics/overview", SUNDAY_ONLY).json()["totals"]

    # B $0.0864 + H $0.0079 (I, on the 10th, is not the 9th's); E's unpriced response is counted apart.
    assert (totals["cost"], totals["cost_unpriced"]) == ("0.0943", 1)
    assert totals["cost_per_booking"] == "0.04715"  # two appointments booked by Ava


def today_with_a_booking_that_cost(amount, *, day=3):
    at = timezone.now() - timedelta(minutes=5)
    conversation = make_conversation(at=at, lines=[(CUSTOMER, "Book me in please")])
    book(conversation, start=at + timedelta(days=day))  # a day apart: one provider, never double-booked
    record_provider_charge(conversation_id=conversation.pk, source_id=f"cost-{conversation.pk}", price=amount,
                           currency="USD")
    return conversation


def test_the_daily_api_has_each_days_cost_and_cost_per_booking(staff_client, clinic):
    today_with_a_booking_that_cost("0.25")
    today_with_a_booking_that_cost("0.15", day=4)

    days = staff_client.get("/api/admin/analytics/daily", {"days": 2}).json()["days"]

    yesterday, today = days
    assert (today["cost"], today["cost_per_booking"], today["cost_unpriced"]) == ("0.4", "0.2", 0)
    assert today["by_channel"]["voice"]["cost"] == "0.4"
    assert (yesterday["cost"], yesterday["cost_per_booking"]) == ("0", None)  # nothing spent, nothing booked


def test_the_overview_page_shows_the_cost_and_the_cost_per_booking(staff_client, clinic):
    today_with_a_booking_that_cost("0.25")
    unpriced = make_conversation(at=timezone.now() - timedelta(minutes=3), lines=[(CUSTOMER, "Hi")])
    record_usage(conversation_id=unpriced.pk, kind="text", model="a-model-without-a-price", source_id="chat-1",
                 usage={"prompt_tokens": 100, "completion_tokens": 10})

    html = staff_client.get("/dashboard/").content.decode()

    card = html.split('id="cost-stat"')[1].split("</li>")[0]
    assert "≥ $0.2500" in card and "per booking" in card  # at least: one completion has no price
    assert "1 without a price" in card
    table = html.split("Show the daily figures")[1]
    assert "<th scope=\"col\">Cost per booking</th>" in table and "≥ $0.2500" in table
