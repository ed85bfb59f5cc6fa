"""GET /health: is this process able to serve? For load balancers and people.

The database is required (503 without it); the channel layer and the broker
are reported, since a call can still be answered while Celery is away.
"""

import asyncio

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

CHECK_TIMEOUT = 2.0


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
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "eager"}
    from ava.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
        return {"ok": True, "mode": "broker"}
    except Exception as exc:
        return {"ok": False, "mode": "broker", "error": exc.__class__.__name__}


@require_GET
async def health(request):
    database = await sync_to_async(_check_database, thread_sensitive=True)()
    channel_layer = await _check_channel_layer()
    broker = await sync_to_async(_check_broker, thread_sensitive=False)()
    ok = database["ok"] and channel_layer["ok"] and broker["ok"]
    body = {
        "status": "ok" if ok else ("down" if not database["ok"] else "degraded"),
        "database": database,
        "channel_layer": channel_layer,
        "broker": broker,
    }
    return JsonResponse(body, status=200 if database["ok"] else 503)
