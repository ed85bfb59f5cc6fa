"""The metrics API: staff only, the clinic's days, rollups plus live figures for today."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics import selectors, services
from analytics.models import DailyMetric

from . import dataset
from .dataset import NY, SUNDAY, SUNDAY_EMAIL, SUNDAY_SMS, SUNDAY_VOICE
from .helpers import ASSISTANT, CUSTOMER, make_conversation, tool

pytestmark = pytest.mark.django_db

SUNDAY_ONLY = {"period": "custom", "start": "2025-03-09", "end": "2025-03-09"}


@pytest.mark.parametrize("url", [
    "/api/admin/metrics/overview", "/api/admin/analytics/daily", "/api/admin/analytics/peak-hours",
    "/api/admin/analytics/funnel", "/api/admin/analytics/channels", "/api/admin/analytics/outcomes",
    "/api/admin/analytics/sentiment",
])
def test_it_requires_staff(client, django_user_model, url):
    assert client.get(url).status_code == 403
    client.force_login(django_user_model.objects.create_user("patient", password="a-long-test-password"))
    assert client.get(url).status_code == 403


def test_the_overview_of_a_past_day_matches_the_figures_worked_out_by_hand(staff_client, clinic):
    dataset.build()

    response = staff_client.get("/api/admin/metrics/overview", SUNDAY_ONLY)

    assert response.status_code == 200
    body = response.json()
    assert (body["start"], body["end"], body["time_zone"]) == ("2025-03-09", "2025-03-09", "America/New_York")
    assert body["by_channel"]["voice"] == SUNDAY_VOICE
    assert body["by_channel"]["sms"] == SUNDAY_SMS
    totals = body["totals"]
    assert totals["conversations"] == 7
    assert totals["appointments_booked"] == 2
    # Rates of the whole day from summed counts, not an average of channel rates.
    assert totals["conversion_rate"] == round(2 / 3, 4)
    assert totals["average_satisfaction"] == round(39 / 6, 2)
    assert totals["containment_rate"] == round(4 / 6, 4)
    assert totals["average_first_response_seconds"] == round(260 / 3, 1)


def test_the_overview_reads_the_rollups_for_past_days(staff_client, clinic):
    dataset.build()
    services.rollup_day(day=SUNDAY, tz=NY)
    # The stored row is what the overview shows for a past day (no recount on every page view).
    DailyMetric.objects.filter(date=SUNDAY, channel="email").update(conversations=50)

    body = staff_client.get("/api/admin/metrics/overview", SUNDAY_ONLY).json()

    assert body["by_channel"]["email"]["conversations"] == 50
    assert body["by_channel"]["voice"] == SUNDAY_VOICE


def test_the_overview_of_today_is_live(staff_client, clinic):
    now = timezone.now()
    make_conversation(at=now, lines=[(CUSTOMER, "Hello")], end=False)
    make_conversation(at=now, channel="sms", lines=[(CUSTOMER, "Open today?"), (ASSISTANT, "Until 6.")])
    # A stale rollup of today must not hide conversations since.
    services.rollup_day(day=clinic.local_now().date())
    make_conversation(at=timezone.now(), channel="email", lines=[(CUSTOMER, "Hi")], end=False)

    body = staff_client.get("/api/admin/metrics/overview").json()

    assert body["period"] == "today"
    assert body["totals"]["conversations"] == 3
    assert body["by_channel"]["sms"]["first_response_count"] == 1


def test_week_and_month_start_on_monday_and_the_first():
    wednesday = date(2025, 3, 12)
    assert selectors.resolve_period("week", today=wednesday) == (date(2025, 3, 10), wednesday)
    assert selectors.resolve_period("month", today=wednesday) == (date(2025, 3, 1), wednesday)
    assert selectors.resolve_period("today", today=wednesday) == (wednesday, wednesday)


@pytest.mark.parametrize("params, field", [
    ({"period": "year"}, "period"),
    ({"period": "custom", "start": "2025-03-09"}, "start"),
    ({"period": "custom", "start": "2025-03-09", "end": "2025-03-01"}, "period"),
    ({"period": "custom", "start": "2024-01-01", "end": "2025-03-01"}, "period"),
    ({"period": "custom", "start": "9 March", "end": "2025-03-10"}, "start"),
])
def test_a_bad_period_is_a_400_in_the_common_error_shape(staff_client, clinic, params, field):
    response = staff_client.get("/api/admin/metrics/overview", params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"]


def test_daily_lists_each_day_ending_today(staff_client, clinic):
    today = clinic.local_now().date()
    DailyMetric.objects.create(date=today - timedelta(days=1), channel="voice", conversations=4, computed_at=timezone.now())
    make_conversation(at=timezone.now(), lines=[(CUSTOMER, "Hi")], end=False)

    response = staff_client.get("/api/admin/analytics/daily", {"days": 3})

    assert response.status_code == 200
    days = response.json()["days"]
    assert [d["date"] for d in days] == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert [d["conversations"] for d in days] == [0, 4, 1]
    assert days[1]["by_channel"]["voice"]["conversations"] == 4
    assert staff_client.get("/api/admin/analytics/daily", {"days": 0}).status_code == 400


def test_peak_hours_are_in_the_clinics_weekdays_and_hours(staff_client, clinic):
    dataset.build()

    body = staff_client.get("/api/admin/analytics/peak-hours", SUNDAY_ONLY).json()

    sunday = body["counts"][6]
    assert body["weekdays"][6] == "Sunday"
    assert {hour: n for hour, n in enumerate(sunday) if n} == {0: 1, 3: 1, 9: 1, 10: 1, 12: 1, 15: 1, 23: 1}
    assert sum(body["counts"][0]) == 0  # E started 03:45 UTC Monday, but 23:45 Sunday in New York
    assert body["busiest"]["weekday"] == "Sunday"


def test_the_funnel_counts_conversations_at_each_step(staff_client, clinic):
    dataset.build()

    stages = staff_client.get("/api/admin/analytics/funnel", SUNDAY_ONLY).json()["stages"]

    assert [(s["stage"], s["count"]) for s in stages] == [
        ("conversations", 7), ("availability_checked", 2), ("booking_attempted", 2), ("booked", 2),
    ]
    assert [s["rate"] for s in stages] == [None, round(2 / 7, 4), 1.0, 1.0]


def test_a_booking_attempt_that_failed_stays_out_of_booked(staff_client, clinic):
    make_conversation(at=timezone.now(), lines=[
        (CUSTOMER, "Book me at 10"), tool("book_appointment", {"slot": "10:00"}, {"error": "slot_taken"}),
    ])

    stages = staff_client.get("/api/admin/analytics/funnel", {"period": "today"}).json()["stages"]

    assert [s["count"] for s in stages] == [1, 0, 1, 0]


def test_channels_outcomes_and_sentiment_break_the_period_down(staff_client, clinic):
    dataset.build()

    channels = staff_client.get("/api/admin/analytics/channels", SUNDAY_ONLY).json()["channels"]
    outcomes = staff_client.get("/api/admin/analytics/outcomes", SUNDAY_ONLY).json()
    sentiment = staff_client.get("/api/admin/analytics/sentiment", SUNDAY_ONLY).json()

    # Every channel is listed, busiest first, WhatsApp with none that day.
    assert [(c["channel"], c["conversations"]) for c in channels] == [("voice", 4), ("sms", 2), ("email", 1),
                                                                      ("whatsapp", 0)]
    assert channels[2] == {"channel": "email", "label": "Email", **SUNDAY_EMAIL}
    by_outcome = {o["outcome"]: o["count"] for o in outcomes["outcomes"]}
    assert by_outcome == {"booked": 2, "rescheduled": 1, "cancelled": 1, "info_only": 1, "escalated": 1,
                          "abandoned": 1, "unresolved": 0, "failed": 0}
    assert (outcomes["total"], outcomes["unscored"]) == (7, 0)
    by_sentiment = {s["sentiment"]: s["count"] for s in sentiment["sentiments"]}
    assert by_sentiment == {"positive": 3, "neutral": 1, "negative": 1, "mixed": 1}
    assert sentiment["unscored"] == 1  # C: nobody spoke, so there was no tone to judge
