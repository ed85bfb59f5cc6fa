"""The overview's breakdowns (outcomes, tone, peak hours, funnel) are rolled up per day and read back."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine

from analytics import services
from analytics.models import DailyMetric
from communications.models import Conversation

from . import dataset
from .dataset import NY, SUNDAY
from .helpers import ASSISTANT, CUSTOMER, book, make_conversation, tool

pytestmark = pytest.mark.django_db

SUNDAY_ONLY = {"period": "custom", "start": "2025-03-09", "end": "2025-03-09"}
# A Wednesday afternoon in the clinic's zone (the clinic fixture is in New York).
NOW = datetime(2025, 3, 12, 14, 0, tzinfo=NY)


def breakdowns(channel):
    metric = DailyMetric.objects.get(date=SUNDAY, channel=channel)
    outcomes = {name: getattr(metric, f"outcome_{name}") for name in
                ("booked", "rescheduled", "cancelled", "info_only", "escalated", "abandoned", "unresolved", "failed")}
    sentiments = {name: getattr(metric, f"sentiment_{name}") for name in ("positive", "neutral", "negative", "mixed")}
    hours = {hour: n for hour, n in enumerate(metric.conversations_by_hour) if n}
    return {k: v for k, v in outcomes.items() if v}, {k: v for k, v in sentiments.items() if v}, hours, (
        metric.availability_checked, metric.booking_attempted)


def test_the_dst_day_s_breakdowns_are_stored_as_worked_out_by_hand(clinic):
    dataset.build()

    services.rollup_day(day=SUNDAY, tz=NY)

    # B booked 00:30, C abandoned 03:30 (EDT from 03:00), D escalated 10:00, E rescheduled 23:45.
    assert breakdowns("voice") == (
        {"booked": 1, "abandoned": 1, "escalated": 1, "rescheduled": 1},
        {"positive": 2, "negative": 1},
        {0: 1, 3: 1, 10: 1, 23: 1},
        (1, 1),
    )
    assert breakdowns("sms") == ({"info_only": 1, "cancelled": 1}, {"neutral": 1, "mixed": 1}, {9: 1, 12: 1}, (1, 0))
    assert breakdowns("email") == ({"booked": 1}, {"positive": 1}, {15: 1}, (0, 1))


def test_a_past_day_s_breakdowns_are_read_from_the_rollup(staff_client, clinic):
    dataset.build()
    services.rollup_day(day=SUNDAY, tz=NY)
    # What the stored row says is what the breakdowns show: nothing is counted again.
    DailyMetric.objects.filter(date=SUNDAY, channel="email").update(
        outcome_booked=11, sentiment_mixed=5, availability_checked=9, conversations_by_hour=[0] * 5 + [7] + [0] * 18,
    )

    outcomes = staff_client.get("/api/admin/analytics/outcomes", SUNDAY_ONLY).json()
    sentiment = staff_client.get("/api/admin/analytics/sentiment", SUNDAY_ONLY).json()
    peak = staff_client.get("/api/admin/analytics/peak-hours", SUNDAY_ONLY).json()
    funnel = staff_client.get("/api/admin/analytics/funnel", SUNDAY_ONLY).json()

    assert {o["outcome"]: o["count"] for o in outcomes["outcomes"]}["booked"] == 12
    assert {s["sentiment"]: s["count"] for s in sentiment["sentiments"]}["mixed"] == 6
    assert peak["counts"][6][5] == 7 and peak["counts"][6][15] == 0
    assert [s["count"] for s in funnel["stages"]] == [7, 11, 2, 2]


def test_a_day_rolled_up_before_the_breakdowns_were_stored_is_counted_live(staff_client, clinic):
    dataset.build()
    services.rollup_day(day=SUNDAY, tz=NY)
    # As migration 0003 leaves the rows it found: breakdowns empty and marked so.
    DailyMetric.objects.filter(date=SUNDAY).update(has_breakdowns=False, outcome_booked=0, availability_checked=0,
                                                   conversations_by_hour=[0] * 24)

    outcomes = staff_client.get("/api/admin/analytics/outcomes", SUNDAY_ONLY).json()
    funnel = staff_client.get("/api/admin/analytics/funnel", SUNDAY_ONLY).json()
    peak = staff_client.get("/api/admin/analytics/peak-hours", SUNDAY_ONLY).json()

    assert {o["outcome"]: o["count"] for o in outcomes["outcomes"]}["booked"] == 2
    assert [s["count"] for s in funnel["stages"]] == [7, 2, 2, 2]
    assert sum(peak["counts"][6]) == 7
    # Rolling the day up again stores them, and marks the rows.
    services.rollup_day(day=SUNDAY, tz=NY)
    assert set(DailyMetric.objects.filter(date=SUNDAY).values_list("has_breakdowns", flat=True)) == {True}


@pytest.fixture
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_this_week_on_the_overview_reads_past_days_and_counts_today_live(pinned_clock, staff_client, clinic):
    monday = make_conversation(at=NOW - timedelta(days=2), lines=[
        (CUSTOMER, "Botox on Friday?"), tool("check_availability"), tool("book_appointment"), (ASSISTANT, "Booked."),
    ])
    book(monday, start=NOW + timedelta(days=2))
    Conversation.objects.filter(pk=monday.pk).update(outcome="booked", sentiment="positive")
    services.rollup_days(first=NOW.date() - timedelta(days=2), last=NOW.date() - timedelta(days=1), tz=NY)
    today = make_conversation(at=NOW - timedelta(minutes=30), channel="sms", lines=[(CUSTOMER, "Parking?")])
    Conversation.objects.filter(pk=today.pk).update(outcome="info_only", sentiment="neutral")

    page = staff_client.get("/dashboard/?period=week", headers={"HX-Request": "true"}).content.decode()

    assert '<span class="value">2</span><span class="label">Conversations</span>' in page
    outcomes = page[page.index('id="outcomes-heading"'):page.index('id="sentiment-heading"')]
    assert 'Booked</span>' in outcomes and outcomes.count('<span class="bar-value">1</span>') == 2
    funnel = page[page.index('id="funnel-heading"'):page.index('id="peak-heading"')]
    assert [int(n) for n in re.findall(r'bar-value">(\d+)<', funnel)] == [2, 1, 1, 1]
    monday_row = page[page.index('Mon<span class="visually-hidden">day</span>'):]
    cells = re.findall(r'<td class="heat-\d">(.*?)</td>', monday_row[:monday_row.index("</tr>")])
    assert [hour for hour, cell in enumerate(cells) if cell == "1"] == [14]
    assert "Busiest: Wednesday at 1 PM (1)." in page  # a tie with Monday 2 PM: the later cell wins, as before

    # A conversation that starts now shows at once: the week is not cached.
    make_conversation(at=NOW - timedelta(minutes=5), lines=[(CUSTOMER, "Hello")])
    again = staff_client.get("/dashboard/?period=week", headers={"HX-Request": "true"}).content.decode()
    assert '<span class="value">3</span><span class="label">Conversations</span>' in again
