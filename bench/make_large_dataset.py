"""Fill a separate PostgreSQL database with a million conversations, for bench/dashboard_pages.py.

Run from the project root (the database is dropped and created again):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ava_bench .venv/bin/python bench/make_large_dataset.py
    DATABASE_URL=... .venv/bin/python bench/make_large_dataset.py --conversations 1000000 --days 730 --messages 3

What it makes, in SQL (`INSERT … SELECT … FROM generate_series`, so the rows never pass through
Python): the demo clinic (manage.py seed_demo: catalogue, providers, staff login staff /
ava-demo-staff, 90 days of ordinary history), then --conversations conversations spread
evenly over the last --days days (60 % voice, 30 % SMS, 10 % email; 90 % from one of 200,000
customers), --messages messages each (words drawn from a set of receptionist phrases, so the
trigram search has real words to find), a voice-call detail per call, tool-call events (check
availability in 40 %, book in 25 %), and an appointment booked by the assistant in one in eight
(dated in the 1990s, 45 minutes apart per provider, so the no-double-booking constraint holds
without a realistic calendar). Scores, sentiments and outcomes are filled as the scorer would.
Secondary indexes are dropped during the load and built again after it (much faster than
maintaining them row by row), then ANALYZE, then the daily rollups of the last --rollup-days
days (backfill_metrics), as the nightly beat would have left them.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

PHRASES = [
    "I would like to book a HydraFacial on Friday",
    "Do you have anything Saturday morning for Botox",
    "How much is a chemical peel",
    "Can I move my appointment to next week",
    "I need to cancel my laser hair removal",
    "What are your opening hours",
    "Is there parking near the clinic",
    "I have a question about dermal fillers",
    "Thank you, that works for me",
    "Could someone call me back please",
    "Let me check the schedule for you",
    "You're booked, we'll text you a reminder",
]
TABLES = ["communications_conversation", "communications_message", "communications_voicecalldetail",
          "communications_communicationevent", "communications_customer"]


def log(step, started):
    print(f"{step}: {time.monotonic() - started:.1f} s", flush=True)


def recreate_database(url):
    """A fresh, empty database: the load drops and rebuilds indexes, so it never reuses an old one."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def manage(*args):
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730, help="spread over this many days, ending now")
    parser.add_argument("--messages", type=int, default=3, help="messages per conversation")
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rollup-days", type=int, default=35)
    options = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/ava_bench).")
    started = time.monotonic()
    recreate_database(url)
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo")
    log("schema and demo clinic", started)

    import django

    django.setup()
    from django.db import connection

    n, days, per, customers = options.conversations, options.days, options.messages, options.customers
    with connection.cursor() as cursor:
        # Secondary indexes off during the load (primary keys and unique constraints stay).
        cursor.execute("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = ANY(%s) AND i.indexname NOT IN (SELECT conname FROM pg_constraint)
        """, [TABLES])
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        step = time.monotonic()

        cursor.execute("SELECT array_agg(id ORDER BY id) FROM scheduling_provider")
        providers = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM scheduling_service")
        services = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM communications_customer")
        first_customer = cursor.fetchone()[0] + 1

        cursor.execute("""
            INSERT INTO communications_customer (name, phone, email, is_new_client, notes, sms_opted_out,
                                                 whatsapp_opted_out, created_at, updated_at)
            SELECT 'Bench Customer ' || g, '+1303' || lpad(g::text, 7, '0'),
                   CASE WHEN g %% 3 = 0 THEN 'bench' || g || '@example.com' END, g %% 4 = 0, '', false, false, now(), now()
            FROM generate_series(1, %s) g
        """, [customers])
        log(f"{customers:,} customers", step)

        # Conversation i starts i * (days / n) before now, plus a little jitter; ids follow from i.
        step = time.monotonic()
        cursor.execute("""
            CREATE TEMP TABLE bench_conversation AS
            SELECT g AS i,
                   md5('bench-conversation-' || g)::uuid AS id,
                   now() - make_interval(secs => (g::float8 * %(span)s / %(n)s) + (g * 7919 %% 600)) AS started_at,
                   CASE WHEN g %% 10 < 6 THEN 'voice' WHEN g %% 10 < 9 THEN 'sms' ELSE 'email' END AS channel,
                   (30 + g * 31 %% 570) AS length,
                   CASE WHEN g %% 8 = 0 THEN 'booked'
                        ELSE (ARRAY['info_only','info_only','info_only','unresolved','rescheduled','cancelled',
                                    'escalated','abandoned','info_only','failed'])[(1 + g * 13 %% 10)::int] END AS outcome
            FROM generate_series(1::bigint, %(n)s) g
        """, {"span": days * 86400.0, "n": n})
        cursor.execute("""
            INSERT INTO communications_conversation (id, customer_id, channel, status, started_at, last_activity_at,
                ended_at, outcome, satisfaction_score, sentiment, summary, frustration_indicators, success_markers,
                escalated, metadata)
            SELECT id,
                   CASE WHEN i %% 10 = 0 THEN NULL ELSE %(first)s + i %% %(customers)s END,
                   channel, 'completed', started_at, started_at + make_interval(secs => length),
                   started_at + make_interval(secs => length), outcome,
                   CASE WHEN outcome = 'abandoned' THEN NULL ELSE i * 7 %% 11 END,
                   CASE WHEN outcome = 'abandoned' THEN ''
                        ELSE (ARRAY['positive','positive','neutral','negative','mixed'])[(1 + i %% 5)::int] END,
                   'A bench conversation.', '[]', '[]', outcome = 'escalated', '{}'
            FROM bench_conversation
        """, {"first": first_customer, "customers": customers})
        log(f"{n:,} conversations", step)

        step = time.monotonic()
        cursor.execute("""
            INSERT INTO communications_message (conversation_id, direction, author, content, sent_at, position,
                                                upstream_item_id, metadata)
            SELECT c.id,
                   CASE WHEN p %% 2 = 0 THEN 'inbound' ELSE 'outbound' END,
                   CASE WHEN p %% 2 = 0 THEN 'customer' ELSE 'assistant' END,
                   (%(phrases)s::text[])[(1 + (c.i * 3 + p * 5) %% %(phrase_count)s)::int],
                   c.started_at + make_interval(secs => p * 10), p, '', '{}'
            FROM bench_conversation c CROSS JOIN generate_series(0, %(last)s) p
        """, {"phrases": PHRASES, "phrase_count": len(PHRASES), "last": per - 1})
        log(f"{n * per:,} messages", step)

        step = time.monotonic()
        cursor.execute("""
            INSERT INTO communications_voicecalldetail (conversation_id, duration_seconds, end_reason,
                                                        interruption_count, recording_url)
            SELECT id, length, 'caller_hung_up', i %% 3, '' FROM bench_conversation WHERE channel = 'voice'
        """, [])
        cursor.execute("""
            INSERT INTO communications_communicationevent (conversation_id, message_id, type, at, data)
            SELECT id, NULL::bigint, 'tool_call', started_at + interval '15 seconds', '{"name": "check_availability"}'::jsonb
            FROM bench_conversation WHERE i %% 5 < 2
            UNION ALL
            SELECT id, NULL::bigint, 'tool_call', started_at + interval '25 seconds', '{"name": "book_appointment"}'::jsonb
            FROM bench_conversation WHERE i %% 8 = 0 OR i %% 20 = 1
            UNION ALL
            SELECT id, NULL::bigint, 'escalated', started_at + interval '30 seconds', '{"reason": "asked for a person"}'::jsonb
            FROM bench_conversation WHERE outcome = 'escalated'
        """, [])
        log("call details and events", step)

        step = time.monotonic()
        cursor.execute("""
            INSERT INTO scheduling_appointment (customer_id, service_id, provider_id, start, "end", status, booked_by,
                conversation_id, calendar_event_id, notes, cancellation_reason, cancelled_by, late_cancellation,
                metadata, created_at, updated_at)
            SELECT %(first)s + (i / 8) %% %(customers)s,
                   (%(services)s::int[])[(1 + (i / 8) %% %(service_count)s)::int],
                   (%(providers)s::int[])[(1 + (i / 8) %% %(provider_count)s)::int],
                   timestamptz '1990-01-01 09:00+00' + make_interval(mins => (45 * ((i / 8) / %(provider_count)s))::int),
                   timestamptz '1990-01-01 09:30+00' + make_interval(mins => (45 * ((i / 8) / %(provider_count)s))::int),
                   'completed', 'ai', id, '', '', '', '', false, '{}', started_at, started_at
            FROM bench_conversation WHERE i %% 8 = 0
        """, {"first": first_customer, "customers": customers, "services": services, "service_count": len(services),
              "providers": providers, "provider_count": len(providers)})
        log("appointments booked by the assistant", step)

        step = time.monotonic()
        for name, definition in indexes:
            cursor.execute(definition)
        log(f"{len(indexes)} indexes built again", step)
        step = time.monotonic()
        cursor.execute("ANALYZE")
        log("ANALYZE", step)
        # The usual setting on SSDs; with the default 4 PostgreSQL scans all appointments to join them.
        name = connection.settings_dict["NAME"]
        cursor.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
    connection.close()

    step = time.monotonic()
    manage("backfill_metrics", "--days", str(options.rollup_days))
    log(f"rollups of the last {options.rollup_days} days", step)
    log("all", started)


if __name__ == "__main__":
    main()
