"""Request time of a text through the messaging console: Ava's reply inside the request (eager) or in the worker.

Run on a SQLite file of its own (the embedded default), with nothing else set:
    DATABASE_URL=sqlite:////tmp/bench-console.sqlite3 CELERY_BROKER_DIR=/tmp/bench-console-broker \
        .venv/bin/python manage.py migrate -v0
    DATABASE_URL=sqlite:////tmp/bench-console.sqlite3 CELERY_BROKER_DIR=/tmp/bench-console-broker \
        .venv/bin/python bench/console_text.py [N]
"After" only enqueues (no worker runs here): that is the request's share; the worker answers afterwards.
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from ava.celery import app  # noqa: E402
from scheduling.tests.factories import glow_med_spa  # noqa: E402


def main(n):
    if not get_user_model().objects.filter(username="bench").exists():
        glow_med_spa()
        get_user_model().objects.create_user("bench", password="x", is_staff=True)
    client = Client(SERVER_NAME="127.0.0.1")  # an allowed host
    client.force_login(get_user_model().objects.get(username="bench"))
    app.control.purge()
    for label, eager in (("before: reply in the request (eager)", True), ("after: reply in the worker (enqueued)", False)):
        app.conf.task_always_eager = eager
        times = []
        for i in range(n):
            started = time.perf_counter()
            response = client.post("/dashboard/console/send/", {
                "channel": "sms", "phone": f"+1212555{1000 + i + (0 if eager else 5000):04d}",
                "body": "Hi, how much is a HydraFacial and can I come tomorrow at 2?"})
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.status_code
        times.sort()
        print(f"{label}: n={n} p50 {statistics.median(times):.0f} ms, p90 {times[int(n * 0.9) - 1]:.0f} ms, "
              f"max {times[-1]:.0f} ms")
    app.control.purge()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
