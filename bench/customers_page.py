"""Benchmark: server time of the dashboard's customers page at 100,000 customers, p50/p95 over N requests.

Run from the project root against the large set (bench/make_large_dataset.py), on PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard .venv/bin/python bench/make_large_dataset.py \\
        --customers 100000 --conversations 500000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard .venv/bin/python bench/customers_page.py --realistic-names
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dashboard .venv/bin/python bench/customers_page.py --runs 30

The large set names every customer "Bench Customer N", so a name search would find all or
nothing. `--realistic-names` (it writes; a second run changes nothing) renames them from about 200 first names x 500 last
names, gives every third an email made of them and everyone a valid number (+1 303 2XX-9XX NNNN),
then VACUUMs and ANALYZEs. Each request goes through Django's test client signed in as staff (the
middleware, the view, its queries, the template), as in bench/dashboard_pages.py.
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

FIRST = ("Dana Maria Ava Lena Nora Iris Jade Mina Rosa Tess Lucy Emma Olivia Sofia Mila Zoe Chloe Ruby Ella Isla "
         "Grace Hazel Aria Luna Leah Maya Nina Eva Anna Sara Kate Beth Clara Diane Erin Faye Gina Hope Ivy June "
         "Kara Lily Mae Nell Opal Pia Quinn Rhea Skye Tara Uma Vera Wren Xena Yara Zara Amir Ben Carl Dev Eli Finn "
         "Gus Hal Ian Jon Kai Leo Max Ned Otto Paul Ray Sam Tom Vic Wes Zack Alan Bill Chad Dean Evan Fred Glen Hugo "
         "Ivan Jack Kurt Luke Mark Nick Owen Pete Ross Seth Todd Walt Abby Bree Cora Dora Edie Fern Gail Hana Ines "
         "Joan Kim Lola Mara Noor Orla Page Rae Sue Tina Una Val Wynn Yoko Zia Ali Bo Cy Di Ed Flo Gil Hy Ike Jo Ky "
         "Liz Mo Nat Oz Pat Ric Stu Ty Ugo Van Wil Xan Yul Zed Adam Beau Cole Drew Ezra Ford Gray Hank Ira Joel Kent "
         "Lars Milo Noah Orin Penn Reed Saul Troy Ulf Vern Ward York Zane Alma Bess Cleo Dina Elsa Flor Gwen Hedy "
         "Isa Jill Kay Lea Meg Neva Odie Peg Remy Sage Thea Ula Vida Wanda Xia Yvette Zena").split()[:200]
LAST = [f"{stem}{suffix}" for stem in ("Whit", "Hart", "Brook", "Ash", "Stone", "Wood", "Hill", "Field", "Lake", "Ford",
                                       "Ridge", "Moor", "Glen", "Dale", "Marsh", "Fair", "Green", "Black", "Gray", "Red",
                                       "West", "East", "North", "South", "Clay")
        for suffix in ("field", "man", "wood", "ley", "ton", "ford", "well", "more", "by", "worth",
                       "ham", "croft", "dale", "son", "er", "en", "ridge", "holm", "stead", "wick")][:500]


def realistic_names():
    with connection.cursor() as cursor:
        cursor.execute("""
            UPDATE communications_customer
            SET name = (%(first)s::text[])[1 + id %% %(nf)s] || ' ' || (%(last)s::text[])[1 + (id / %(nf)s) %% %(nl)s],
                email = CASE WHEN email IS NULL THEN NULL
                             ELSE lower((%(first)s::text[])[1 + id %% %(nf)s] || '.'
                                        || (%(last)s::text[])[1 + (id / %(nf)s) %% %(nl)s]) || id || '@example.com' END,
                -- valid numbers (the large set's +1 303 0NN NNNN are not), unique by id: +1 303 2XX-9XX NNNN
                phone = '+1303' || (200 + (id / 10000) %% 800) || lpad((id %% 10000)::text, 4, '0')
            WHERE phone LIKE '+13030%%'
        """, {"first": FIRST, "last": LAST, "nf": len(FIRST), "nl": len(LAST)})
        print(f"renamed {cursor.rowcount:,} customers", flush=True)
    # VACUUM (not in a transaction) also empties the trigram indexes' pending lists, which 100,000
    # updated rows fill and every search would otherwise scan (autovacuum does this in production).
    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE communications_customer")
        # And marks the bulk-loaded conversations all-visible, so index-only scans need no table rows.
        cursor.execute("VACUUM ANALYZE communications_conversation")


def pages():
    from communications.models import Customer

    sample = Customer.objects.filter(phone__startswith="+1303", conversations__isnull=False).order_by("pk")[5000]
    digits = sample.phone[-10:]
    national = f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    last_name = sample.name.split()[-1]
    return [
        ("customers, page 1", "/dashboard/customers/", False),
        ("customers fragment, page 2", "/dashboard/customers/?page=2", True),
        ("customers, page 40", "/dashboard/customers/?page=40", False),
        (f"search a last name ('{last_name.lower()}', ~{Customer.objects.filter(name__icontains=last_name).count()} match)",
         f"/dashboard/customers/?q={last_name.lower()}", True),
        (f"search a first name ('dana', ~{Customer.objects.filter(name__icontains='dana').count()} match)",
         "/dashboard/customers/?q=dana", True),
        (f"search a phone as dialled ('{national}')", f"/dashboard/customers/?q={national}", True),
        (f"search a phone's last 4 digits ('{digits[-4:]}')", f"/dashboard/customers/?q={digits[-4:]}", True),
        (f"search an email ('{sample.email or 'example.com'}')", f"/dashboard/customers/?q={sample.email or 'example.com'}", True),
        ("search with no match ('zzqx')", "/dashboard/customers/?q=zzqx", True),
        ("search matching most ('e')", "/dashboard/customers/?q=e", True),
        # The same machine's yardstick in the same run (bench/README.md has its figures on a quieter day).
        ("reference: the inbox, page 1", "/dashboard/inbox/", False),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--realistic-names", action="store_true", help="rename the large set's customers first (writes)")
    options = parser.parse_args()
    if options.realistic_names:
        realistic_names()

    from django.contrib.auth import get_user_model

    from communications.models import Conversation, Customer

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {Customer.objects.count():,} customers, "
          f"{Conversation.objects.count():,} conversations; {options.runs} requests each")
    print("| page | queries | p50 | p95 | max |\n| --- | --- | --- | --- | --- |")
    for label, url, htmx in pages():
        headers = {"HX-Request": "true"} if htmx else {}
        queries = []
        with connection.execute_wrapper(lambda execute, sql, params, many, context: queries.append(sql) or
                                        execute(sql, params, many, context)):
            response = client.get(url, headers=headers)  # warm-up, counting its queries
        assert response.status_code == 200, (url, response.status_code)
        times = []
        for _ in range(options.runs):
            started = time.perf_counter()
            client.get(url, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
        print(f"| {label} | {len(queries)} | {statistics.median(times):.0f} ms | {p95:.0f} ms | {times[-1]:.0f} ms |",
              flush=True)


if __name__ == "__main__":
    main()
