"""Daily rollups against figures worked out by hand, on a dataset that spans a DST change."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from analytics import services
from analytics.models import DailyMetric
from communications.models import Conversation
from communications.usage import money

from . import dataset
from .dataset import MONDAY, NY, SATURDAY, SUNDAY, SUNDAY_EMAIL, SUNDAY_SMS, SUNDAY_VOICE

pytestmark = pytest.mark.django_db


def row(day, channel):
    metric = DailyMetric.objects.get(date=day, channel=channel)
    stored = {name: getattr(metric, name) for name in SUNDAY_VOICE}
    # Money is stored as a Decimal and shown (as in the dataset) as the API's exact string.
    return {**stored, "cost": money(stored["cost"]), "cost_per_booking": money(stored["cost_per_booking"])}


def test_the_dst_day_rolls_up_to_the_figures_worked_out_by_hand(clinic):
    dataset.build()

    services.rollup_day(day=SUNDAY, tz=NY)

    assert row(SUNDAY, "voice") == SUNDAY_VOICE
    assert row(SUNDAY, "sms") == SUNDAY_SMS
    assert row(SUNDAY, "email") == SUNDAY_EMAIL


def test_conversations_belong_to_the_clinic_local_day_they_started(clinic):
    dataset.build()

    services.rollup_days(first=SATURDAY, last=MONDAY, tz=NY)

    assert DailyMetric.objects.get(date=SATURDAY, channel="voice").conversations == 1  # A, a UTC Sunday
    assert DailyMetric.objects.get(date=SUNDAY, channel="voice").conversations == 4  # E is a UTC Monday
    assert DailyMetric.objects.get(date=MONDAY, channel="voice").conversations == 1
    assert DailyMetric.objects.filter(date=SATURDAY, channel="sms", conversations=0).exists()


def test_rolling_up_again_updates_the_same_rows(clinic):
    built = dataset.build()
    services.rollup_day(day=SUNDAY, tz=NY)
    first_ids = set(DailyMetric.objects.values_list("pk", flat=True))

    Conversation.objects.filter(pk=built["D"].pk).update(satisfaction_score=10)
    services.rollup_day(day=SUNDAY, tz=NY)
    services.rollup_day(day=SUNDAY, tz=NY)

    assert set(DailyMetric.objects.values_list("pk", flat=True)) == first_ids
    assert DailyMetric.objects.count() == 4  # one row per channel: voice, SMS, WhatsApp, email
    voice = DailyMetric.objects.get(date=SUNDAY, channel="voice")
    assert (voice.satisfaction_sum, voice.average_satisfaction) == (26, 8.67)


def test_backfill_covers_every_day_of_the_range(clinic, capsys):
    dataset.build()

    call_command("backfill_metrics", "--start", "2025-03-08", "--end", "2025-03-10")

    assert DailyMetric.objects.count() == 12  # 3 days × 4 channels
    assert row(SUNDAY, "email") == SUNDAY_EMAIL
    assert "3 day(s), 12 row(s)" in capsys.readouterr().out


def test_backfill_refuses_a_backwards_range(clinic):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="before"):
        call_command("backfill_metrics", "--start", "2025-03-10", "--end", "2025-03-08")


def test_backfill_of_the_last_days_ends_today_in_the_clinic_s_zone(clinic, capsys):
    call_command("backfill_metrics", "--days", "3")

    today = clinic.local_now().date()
    assert sorted({m.date for m in DailyMetric.objects.all()}) == [today - timedelta(days=2), today - timedelta(days=1), today]


def test_backfill_needs_a_range_or_a_number_of_days(clinic):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--days"):
        call_command("backfill_metrics", "--start", "2025-03-10")
    with pytest.raises(CommandError, match="--days"):
        call_command("backfill_metrics", "--days", "3", "--start", "2025-03-10")


def test_an_empty_day_has_no_rates(clinic):
    services.rollup_day(day=SUNDAY - timedelta(days=30), tz=NY)

    metric = DailyMetric.objects.get(date=SUNDAY - timedelta(days=30), channel="voice")
    assert metric.conversations == 0
    assert metric.conversion_rate is None and metric.containment_rate is None and metric.average_satisfaction is None
