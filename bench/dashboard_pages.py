"""Benchmark: server time of every dashboard page and htmx fragment, p50/p95 over N requests.

Run from the project root against a database that already holds data (it only reads):
    # the demo clinic (manage.py seed_demo + backfill_metrics), on SQLite or PostgreSQL
    DATABASE_URL=sqlite:////tmp/ava_demo.sqlite3 .venv/bin/python bench/dashboard_pages.py
    # a million conversations (bench/make_large_dataset.py)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ava_bench_dash .venv/bin/python bench/dashboard_pages.py --runs 30

Each request goes through Django's test client: the whole middleware stack (sessions, auth,
the clinic's time zone), the view, its queries and the template, in this process, signed in as
a staff member. Network and browser time are not included. One warm-up request per page comes
first (connections, template compilation); the figures are the requests after it. "cpu" is
this process's CPU time per request (the view, ORM and template, without the database server's
work or time spent waiting for a core): on a busy machine it moves far less than the wall time.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def pages():
    """(label, url, is_htmx) for every page and fragment, with ids taken from the data."""
    from django.utils import timezone

    from communications.models import Conversation, Customer
    from scheduling.models import Appointment, Service

    conversation = Conversation.objects.filter(messages__isnull=False).order_by("-started_at").first()
    customer = Customer.objects.filter(conversations__isnull=False).order_by("-pk").first()
    appointment = (Appointment.objects.filter(start__gte=timezone.now()).order_by("start").first()
                   or Appointment.objects.order_by("-start").first())
    service = Service.objects.filter(is_active=True).order_by("pk").first()
    today = timezone.localdate()
    day = appointment.start.date() if appointment else today
    return [
        ("overview, today", "/dashboard/", False),
        ("overview, this week", "/dashboard/?period=week", False),
        ("overview, this month", "/dashboard/?period=month", False),
        ("overview fragment, week", "/dashboard/?period=week", True),
        ("overview fragment, month", "/dashboard/?period=month", True),
        ("inbox", "/dashboard/inbox/", False),
        ("inbox fragment, voice", "/dashboard/inbox/?channel=voice", True),
        ("inbox, booked, score 8+", "/dashboard/inbox/?outcome=booked&score_min=8", False),
        ("inbox, escalated, negative", "/dashboard/inbox/?escalated=true&sentiment=negative", False),
        ("inbox, this month by best score", f"/dashboard/inbox/?date_from={today.replace(day=1)}&sort=score_high", False),
        ("inbox, page 40", "/dashboard/inbox/?page=40", False),
        ("inbox, search 'hydrafacial'", "/dashboard/inbox/?q=hydrafacial", False),
        ("inbox, search a phone", "/dashboard/inbox/?q=555-01", False),
        ("conversation", f"/dashboard/conversations/{conversation.pk}/", False),
        ("customer", f"/dashboard/customers/{customer.pk}/", False),
        ("appointments, day", f"/dashboard/appointments/?date={day}", False),
        ("appointments, week", f"/dashboard/appointments/?view=week&date={day}", False),
        ("appointments list", "/dashboard/appointments/list/", False),
        ("appointments list, search", "/dashboard/appointments/list/?q=smith&status=scheduled", True),
        ("book form", "/dashboard/appointments/new/", False),
        ("open times fragment", f"/dashboard/appointments/openings/?service={service.pk}&date={day}", True),
        ("appointment", f"/dashboard/appointments/{appointment.pk}/", False),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", default="", help="run only pages whose label contains this")
    parser.add_argument("--cold", action="store_true",
                        help="clear the cache before every request (no page caches its figures now; for older versions)")
    options = parser.parse_args()

    from django.contrib.auth import get_user_model

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {options.runs} requests each"
          f"{'; cache cleared before each' if options.cold else ''}")
    print(f"| page | queries | p50 | p95 | max | cpu p50 |\n| --- | --- | --- | --- | --- | --- |")
    for label, url, htmx in pages():
        if options.only and options.only not in label:
            continue
        headers = {"HX-Request": "true"} if htmx else {}
        queries = []
        with connection.execute_wrapper(lambda execute, sql, params, many, context: queries.append(sql) or
                                        execute(sql, params, many, context)):
            response = client.get(url, headers=headers)  # warm-up, counting its queries
        assert response.status_code == 200, (url, response.status_code)
        times, cpu = [], []
        for _ in range(options.runs):
            if options.cold:
                cache.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        print(f"| {label} | {len(queries)} | {statistics.median(times):.0f} ms | {p95:.0f} ms | {times[-1]:.0f} ms "
              f"| {statistics.median(cpu):.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
