"""Benchmark: the dashboard's metrics reads and the daily rollup, on a busy clinic's 60 days.

Run from the project root:
    .venv/bin/python bench/dashboard_metrics.py                       # SQLite (in memory)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ava_bench_metrics .venv/bin/python bench/dashboard_metrics.py

It builds a throwaway test database (Django's test_<name>), fills it with
--per-day conversations a day for 60 days ending now (60 % voice, 30 % SMS, 10 %
email; 4 messages and 1-2 tool calls each; a booking in one in six), then times
analytics.services.rollup_day and the analytics.selectors the dashboard and API use,
and prints p50/p95/max in milliseconds.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

DAYS = 60


def build(per_day, rng):
    from django.utils import timezone

    from communications.models import CommunicationEvent, Conversation, Customer, Message, VoiceCallDetail
    from scheduling.models import Appointment, ClinicSettings, Provider, Service

    clinic = ClinicSettings.load()
    clinic.time_zone = "America/New_York"
    clinic.save()
    service = Service.objects.create(slug="facial", name="Facial", category="facials", duration_minutes=30)
    providers = [Provider.objects.create(name=f"Provider {i}") for i in range(40)]
    customer = Customer.objects.create(name="Bench", phone="+12025550100")
    now = timezone.now()
    slot = {p.pk: now + timedelta(days=400) for p in providers}  # bookings far ahead, never overlapping
    outcomes = ["booked", "info_only", "info_only", "escalated", "abandoned", "unresolved", "rescheduled"]
    sentiments = ["positive", "neutral", "negative", "mixed"]
    for day in range(DAYS):
        conversations, messages, events, details, appointments = [], [], [], [], []
        for _ in range(per_day):
            started = now - timedelta(days=day, seconds=rng.randint(0, 86_399))
            if started > now:
                started = now
            channel = rng.choices(["voice", "sms", "email"], [6, 3, 1])[0]
            length = rng.randint(20, 600)
            c = Conversation(
                id=uuid.uuid4(), channel=channel, status="completed", started_at=started,
                last_activity_at=started + timedelta(seconds=length), ended_at=started + timedelta(seconds=length),
                outcome=rng.choice(outcomes), satisfaction_score=rng.randint(0, 10), sentiment=rng.choice(sentiments),
                escalated=rng.random() < 0.08,
            )
            conversations.append(c)
            if channel == "voice":
                details.append(VoiceCallDetail(conversation=c, duration_seconds=length))
            for position in range(4):
                author = "customer" if position % 2 == 0 else "assistant"
                messages.append(Message(
                    conversation=c, author=author, direction="inbound" if author == "customer" else "outbound",
                    content="I would like a hydrafacial on friday afternoon please", position=position,
                    sent_at=started + timedelta(seconds=position * length // 4),
                ))
            for name in rng.sample(["check_availability", "book_appointment", "get_service_info",
                                    "reschedule_appointment"], rng.randint(1, 2)):
                events.append(CommunicationEvent(
                    conversation=c, type="tool_call", at=started + timedelta(seconds=5),
                    data={"name": name, "arguments": {"service": "facial"}, "result": {"ok": True}},
                ))
            if rng.random() < 1 / 6:
                provider = rng.choice(providers)
                start = slot[provider.pk]
                slot[provider.pk] = start + timedelta(minutes=30)
                appointments.append(Appointment(
                    customer=customer, service=service, provider=provider, start=start,
                    end=start + timedelta(minutes=30), booked_by="ai", conversation=c,
                ))
        Conversation.objects.bulk_create(conversations, batch_size=2000)
        VoiceCallDetail.objects.bulk_create(details, batch_size=2000)
        Message.objects.bulk_create(messages, batch_size=5000)
        CommunicationEvent.objects.bulk_create(events, batch_size=5000)
        Appointment.objects.bulk_create(appointments, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would have after a bulk load
    return clinic


def timed(label, fn, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    print(f"| {label} | {runs} | {statistics.median(samples):.1f} ms | {p95:.1f} ms | {samples[-1]:.1f} ms |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(6)
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from analytics import selectors, services
        from analytics.models import DailyMetric

        started = time.perf_counter()
        clinic = build(args.per_day, rng)
        print(f"{connection.vendor}: {args.per_day * DAYS:,} conversations built in {time.perf_counter() - started:.0f} s")
        today = clinic.local_now().date()
        days = iter(range(1, DAYS))
        print("| call | n | p50 | p95 | max |\n| --- | --- | --- | --- | --- |")
        timed("rollup_day, one past day", lambda: services.rollup_day(day=today - timedelta(days=next(days)), tz=clinic.tz),
              args.runs)
        timed("overview, 30-day custom period, no rollups (all live)",
              lambda: selectors.overview(period="custom", start=today - timedelta(days=29), end=today), args.runs)
        services.rollup_days(first=today - timedelta(days=DAYS), last=today, tz=clinic.tz)
        print(f"(rolled up {DailyMetric.objects.count()} rows)")
        timed("overview, today (live)", lambda: selectors.overview(period="today"), args.runs)
        timed("overview, 30 days from rollups + today live",
              lambda: selectors.overview(period="custom", start=today - timedelta(days=29), end=today), args.runs)
        timed("daily series, 30 days", lambda: selectors.daily_series(days=30), args.runs)
        month = {"period": "custom", "start": today - timedelta(days=29), "end": today}
        timed("peak hours, 30 days", lambda: selectors.peak_hours(**month), args.runs)
        timed("booking funnel, 30 days", lambda: selectors.booking_funnel(**month), args.runs)
        timed("outcomes, 30 days", lambda: selectors.outcome_breakdown(**month), args.runs)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
