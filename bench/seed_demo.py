"""Benchmark: how long `seed_demo` takes to draw and write the demo clinic's 90 days.

Run from the project root:
    .venv/bin/python bench/seed_demo.py --runs 3                 # SQLite (a throwaway test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ava_bench .venv/bin/python bench/seed_demo.py

It builds a throwaway test database (Django's test_<name>), loads the catalogue once, then for each
run deletes the demo history and times demo.seed.seed_demo(), wall and CPU (drawing the history and writing it
through the apps' builders: about 600 conversations, 3,800 messages, 1,900 events, 775 appointments).
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

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from demo.seed import delete_demo, seed_demo
    from scheduling.models import ClinicSettings

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        seed_demo()  # the catalogue and the staff login, so the runs time the history
        times, cpu = [], []
        for _ in range(args.runs):
            with transaction.atomic():
                delete_demo(today=ClinicSettings.load().local_now().date())
            started, started_cpu = time.perf_counter(), time.process_time()
            report = seed_demo()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        h = report.history
        print(f"{connection.vendor}: {h['conversations']} conversations, {h['messages']} messages, {h['events']} events, "
              f"{h['appointments']} appointments")
        # CPU time: on a shared machine the wall time mostly measures the neighbours (SQLite runs in-process).
        print(f"seed_demo: wall median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f}); "
              f"CPU median {statistics.median(cpu):.2f} s (min {min(cpu):.2f}); {args.runs} runs; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
