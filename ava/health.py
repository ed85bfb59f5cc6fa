"""GET /health: is this process able to serve? For load balancers and people.

The database is required (503 without it); the channel layer, the broker, the
Celery worker (it answers a ping) and beat (its heartbeat is recent) are
reported, since a call can still be answered while Celery is away.
"""

import asyncio

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

CHECK_TIMEOUT = 2.0
BEAT_SILENCE_SECONDS = 60  # four missed heartbeats


def _check_database():
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # any driver error means "down"
        # Do not keep a broken connection for the next request.
        connection.close_if_unusable_or_obsolete()
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}


async def _check_channel_layer():
    layer = get_channel_layer()
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    try:
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT)
        return {"ok": message.get("type") == "health.ping", "backend": backend}
    except Exception as exc:
        return {"ok": False, "backend": backend, "error": exc.__class__.__name__}


def _check_broker():
    from ava.celery import app

    if app.conf.task_always_eager:
        return {"ok": True, "mode": "eager"}
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
        return {"ok": True, "mode": "broker"}
    except Exception as exc:
        return {"ok": False, "mode": "broker", "error": exc.__class__.__name__}


def _check_worker(broker):
    """Alive when a worker answers a ping through the broker (the first answer is enough)."""
    from ava.celery import app

    if broker.get("mode") == "eager":
        return {"ok": True, "mode": "eager"}
    if not broker["ok"]:
        return {"ok": False, "error": "no broker"}
    try:
        answers = app.control.ping(timeout=CHECK_TIMEOUT / 2, limit=1)
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": bool(answers), "answered": sorted(name for answer in answers for name in answer)}


def _check_beat(broker):
    """Alive when beat's heartbeat (housekeeping.beat, every 15 s) is younger than BEAT_SILENCE_SECONDS."""
    if broker.get("mode") == "eager":
        return {"ok": True, "mode": "eager"}
    from housekeeping.models import Heartbeat

    try:
        beat = Heartbeat.objects.filter(name="beat").first()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if beat is None:
        return {"ok": False, "last_tick": None}
    age = (timezone.now() - beat.seen_at).total_seconds()
    return {"ok": age < BEAT_SILENCE_SECONDS, "last_tick": beat.seen_at.isoformat(), "age_seconds": round(age)}


@require_GET
async def health(request):
    database = await sync_to_async(_check_database, thread_sensitive=True)()
    channel_layer = await _check_channel_layer()
    broker = await sync_to_async(_check_broker, thread_sensitive=False)()
    worker = await sync_to_async(_check_worker, thread_sensitive=False)(broker)
    beat = await sync_to_async(_check_beat, thread_sensitive=True)(broker) if database["ok"] else {"ok": False}
    ok = all(part["ok"] for part in (database, channel_layer, broker, worker, beat))
    body = {
        "status": "ok" if ok else ("down" if not database["ok"] else "degraded"),
        "database": database,
        "channel_layer": channel_layer,
        "broker": broker,
        "worker": worker,
        "beat": beat,
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)
