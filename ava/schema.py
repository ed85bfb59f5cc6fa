"""How the API describes /health, which is the project's own plain Django view (ava.health).

The error shape every operation lists, and `error_schema`, are API conventions: conventions/openapi.py.
"""

_HEALTH_CHECK = {
    "type": "object",
    "properties": {
        "ok": {"type": "boolean"},
        "vendor": {"type": "string", "description": "The database: sqlite or postgresql."},
        "backend": {"type": "string", "description": "The channel layer: SQLiteChannelLayer (embedded), InMemoryChannelLayer or RedisChannelLayer."},
        "mode": {"type": "string", "enum": ["eager", "broker"], "description": "How Celery runs tasks."},
        "error": {"type": "string", "description": "The exception's class when the check failed."},
        "answered": {"type": "array", "items": {"type": "string"}, "description": "The worker that answered the ping."},
        "last_tick": {"type": "string", "format": "date-time", "nullable": True, "description": "Beat's last heartbeat."},
        "age_seconds": {"type": "integer", "description": "Seconds since beat's last heartbeat."},
    },
    "required": ["ok"],
}

_HEALTH = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "down"]},
        "database": _HEALTH_CHECK,
        "channel_layer": _HEALTH_CHECK,
        "broker": _HEALTH_CHECK,
        "worker": _HEALTH_CHECK,
        "beat": _HEALTH_CHECK,
    },
    "required": ["status", "database", "channel_layer", "broker", "worker", "beat"],
    "example": {
        "status": "ok",
        "database": {"ok": True, "vendor": "postgresql"},
        "channel_layer": {"ok": True, "backend": "RedisChannelLayer"},
        "broker": {"ok": True, "mode": "broker"},
        "worker": {"ok": True, "answered": ["celery@web-1"]},
        "beat": {"ok": True, "last_tick": "2026-03-02T10:18:41+00:00", "age_seconds": 7},
    },
}


def describe_health(result, generator, request, public):
    """Postprocessing hook: GET /health is a plain Django view (ava.health), so describe it by hand."""
    result.setdefault("components", {}).setdefault("schemas", {})["Health"] = _HEALTH
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}
    result["paths"]["/health"] = {
        "get": {
            "operationId": "health_retrieve",
            "summary": "Is this process able to serve?",
            "description": (
                "For load balancers and people; public. The database is required; the channel layer, "
                "Celery's broker, a worker (answers a ping) and beat (a recent heartbeat) are reported, "
                "since a call can still be answered while Celery is away."
            ),
            "tags": ["health"],
            "security": [],
            "responses": {
                "200": {"description": "Serving (`status` is ok, or degraded when Redis, the broker, the worker or beat is away).", "content": ref},
                "503": {"description": "The database cannot be reached (`status` is down).", "content": ref},
            },
        }
    }
    return result
