"""Benchmark: availability from Boulevard, against the local fake with a simulated answer time.

Run from the project root:
    .venv/bin/python bench/boulevard_availability.py [--latency-ms 80] [--runs 30]

The fake business: 3 staff each performing the service, open 9:00-17:00 every day for 14 days,
a 30-minute service. Each run asks find_availability (what check_availability calls) for 7 days
of all providers and for one named provider, once with an empty cache (every bookable date and
time read from Boulevard) and once warm. Boulevard's answer time is what the client spent
waiting on its HTTP calls (which are sequential); "own work" is the call's wall time minus that:
Ava's parsing, caching, opening building and the spoken summary. Target: own work p95 <= 300 ms.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

NY = ZoneInfo("America/New_York")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=80.0)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    from tests.fakes.boulevard_server import API_KEY, BUSINESS_ID, LOCATION_ID, FakeBoulevard

    fake = FakeBoulevard().start()
    staff = [("staff-a", "Dana", "Lee"), ("staff-b", "Ken", "Obi"), ("staff-c", "Rosa", "Diaz")]
    for staff_id, first, last in staff:
        fake.add_staff(staff_id, first, last)
    fake.add_item("item-botox", "Botox", duration=30, price=30000,
                  staff={f"var-{staff_id}": staff_id for staff_id, _, _ in staff})
    today = datetime.now(NY).date() + timedelta(days=1)
    for offset in range(14):
        day = today + timedelta(days=offset)
        for staff_id, _, _ in staff:
            fake.open(staff_id, datetime(day.year, day.month, day.day, 9, tzinfo=NY),
                      datetime(day.year, day.month, day.day, 17, tzinfo=NY))

    settings.CALENDAR_BACKEND = "boulevard"
    settings.BOULEVARD_API_KEY, settings.BOULEVARD_BUSINESS_ID = API_KEY, BUSINESS_ID
    settings.BOULEVARD_LOCATION_ID, settings.BOULEVARD_API_URL = LOCATION_ID, fake.api_url

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from scheduling.availability import find_availability
        from scheduling.calendars import get_calendar
        from scheduling.calendars.boulevard.sync import sync_catalogue
        from scheduling.models import ClinicSettings, Provider, Service

        ClinicSettings.objects.update_or_create(pk=1, defaults={"time_zone": "America/New_York",
                                                                "min_booking_notice_minutes": 0})
        calendar = get_calendar()
        sync_catalogue(calendar=calendar)
        service = Service.objects.get(boulevard_id="item-botox")
        named = Provider.objects.get(boulevard_id="staff-b")
        fake.latency = args.latency_ms / 1000
        rows = []
        for label, provider in (("all 3 providers, 7 days", None), ("one named provider, 7 days", named)):
            for warm in (False, True):
                walls, owns, calls = [], [], []
                for _ in range(args.runs):
                    if not warm:
                        cache.clear()
                    else:
                        find_availability(service=service, start_date=today, provider=provider)
                    waited, made = calendar.client.waited, calendar.client.calls
                    started = time.perf_counter()
                    result = find_availability(service=service, start_date=today, provider=provider)
                    wall = time.perf_counter() - started
                    assert result.openings
                    walls.append(wall * 1000)
                    owns.append((wall - (calendar.client.waited - waited)) * 1000)
                    calls.append(calendar.client.calls - made)
                rows.append((label, "warm cache" if warm else "cold cache", statistics.median(calls),
                             percentile(walls, 0.5), percentile(walls, 0.95),
                             percentile(owns, 0.5), percentile(owns, 0.95), max(owns)))
        print(f"latency per Boulevard answer: {args.latency_ms:.0f} ms, {args.runs} runs each")
        print("| call | cache | Boulevard calls | wall p50 | wall p95 | own work p50 | own work p95 | own max |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for label, state, made, w50, w95, o50, o95, omax in rows:
            print(f"| {label} | {state} | {made:.0f} | {w50:.0f} ms | {w95:.0f} ms | {o50:.1f} ms | {o95:.1f} ms "
                  f"| {omax:.1f} ms |")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
        fake.stop()


if __name__ == "__main__":
    main()
