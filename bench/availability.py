"""Benchmark: availability over 14 days, per provider and for all providers, with 5,000 appointments booked.

Run from the project root:
    .venv/bin/python bench/availability.py                       # SQLite (in memory)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ava_bench .venv/bin/python bench/availability.py

It builds a throwaway test database (Django's test_<name>), fills it, times
scheduling.availability.find_availability and prints p50/p95/max in milliseconds.
The clinic: 8 providers, 6 services (each provider performs 3), open 9:00-19:00
Monday to Saturday, 15-minute grid, 5,000 appointments over the next 90 days.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

PROVIDERS = 8
SERVICES = 6
APPOINTMENTS = 5000
DAYS = 14


def build(now):
    from communications.models import Customer
    from scheduling.models import Appointment, BusinessHours, ClinicSettings, Provider, ProviderSchedule, Service

    clinic = ClinicSettings.load()
    clinic.time_zone = "America/New_York"
    clinic.min_booking_notice_minutes = 120
    clinic.booking_horizon_days = 90
    clinic.save()
    tz = clinic.tz
    BusinessHours.objects.bulk_create(
        BusinessHours(clinic=clinic, weekday=d, opens_at="09:00", closes_at="19:00") for d in range(6)
    )
    services = [
        Service.objects.create(slug=f"s{i}", name=f"Service {i}", category="facials",
                               duration_minutes=[30, 45, 60][i % 3], buffer_minutes=[0, 15][i % 2])
        for i in range(SERVICES)
    ]
    providers = []
    for i in range(PROVIDERS):
        provider = Provider.objects.create(name=f"Provider {i}")
        provider.services.add(*[services[(i + k) % SERVICES] for k in range(3)])
        ProviderSchedule.objects.bulk_create(
            ProviderSchedule(provider=provider, weekday=d, starts_at="09:00", ends_at="19:00") for d in range(6)
        )
        providers.append(provider)
    customers = Customer.objects.bulk_create(Customer(name=f"C{i}", phone=f"+1212555{i:04d}") for i in range(2000))

    # Fill each provider's working days, day after day, with non-overlapping appointments
    # (random gaps) until 5,000 exist.
    rng = random.Random(7)
    rows = []
    today = now.astimezone(tz).date()
    cursor = {p.pk: (today, None) for p in providers}
    while len(rows) < APPOINTMENTS:
        for provider in providers:
            day, at = cursor[provider.pk]
            while day.weekday() == 6:
                day += timedelta(days=1)
            if at is None:
                at = datetime.combine(day, datetime.min.time(), tzinfo=tz).replace(hour=9)
            at += timedelta(minutes=rng.choice([0, 15, 30, 45]))
            service = rng.choice(list(provider.services.all()))
            end = at + timedelta(minutes=service.blocked_minutes)
            if end > at.replace(hour=19, minute=0):
                cursor[provider.pk] = (day + timedelta(days=1), None)
                continue
            rows.append(Appointment(customer=rng.choice(customers), service=service, provider=provider, start=at,
                                    end=end, status=rng.choice(["scheduled"] * 9 + ["cancelled"])))
            cursor[provider.pk] = (day, end)
            if len(rows) == APPOINTMENTS:
                break
    Appointment.objects.bulk_create(rows, batch_size=1000)
    return services, providers


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    from scheduling.availability import find_availability
    from scheduling.calendars.local import LocalCalendar
    from scheduling.models import Appointment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        now = datetime.fromisoformat("2026-03-02T08:00:00-05:00")
        services, providers = build(now)
        start_date, end_date = date(2026, 3, 2), date(2026, 3, 2) + timedelta(days=DAYS - 1)
        in_range = Appointment.objects.filter(start__date__gte=start_date, start__date__lte=end_date).count()
        calendar = LocalCalendar()
        per_provider, all_providers, openings = [], [], 0
        for _ in range(args.rounds):
            for provider in providers:
                for service in provider.services.all()[:1]:
                    began = time.perf_counter()
                    result = find_availability(service=service, start_date=start_date, end_date=end_date,
                                               provider=provider, now=now, calendar=calendar)
                    per_provider.append((time.perf_counter() - began) * 1000)
                    openings += len(result.openings)
            for service in services:
                began = time.perf_counter()
                find_availability(service=service, start_date=start_date, end_date=end_date, now=now, calendar=calendar)
                all_providers.append((time.perf_counter() - began) * 1000)
        print(f"database: {connection.vendor}; {Appointment.objects.count()} appointments, {in_range} in the 14 days; "
              f"{len(providers)} providers; {args.rounds} rounds")
        for label, values in (("one provider, 14 days", per_provider), ("all providers of a service, 14 days", all_providers)):
            print(f"{label:38s} n={len(values):4d}  p50={statistics.median(values):6.1f} ms  "
                  f"p95={percentile(values, 0.95):6.1f} ms  max={max(values):6.1f} ms")
        print(f"(mean openings per one-provider answer: {openings / len(per_provider):.0f})")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
