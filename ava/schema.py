"""How the API describes /health, which is the project's own plain Django view (ava.health).

The error shape every operation lists, and `error_schema`, are API conventions: conventions/openapi.py.
"""

from functools import cache

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers

from conventions.openapi import error_schema


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



# --- Interim descriptions of endpoints whose owners have not described them yet ---------------------
# drf-spectacular cannot see what these APIViews take and return, and would leave them out of the
# schema. Until their apps put `@extend_schema` on the views themselves, these extensions say it from
# here: the views are untouched, and drf-spectacular describes a subclass of each instead. Delete an
# entry when its view describes itself (or when its view is renamed, the completeness test will say).

def _describe(target, **methods):
    """Describe the view at dotted path `target`: `methods` maps "get"/"post" to a function returning
    extend_schema's arguments (a function, so the apps are imported only when the schema is built)."""

    class Described(OpenApiViewExtension):
        target_class = target

        def view_replacement(self):
            view = type(self.target_class.__name__, (self.target_class,), {"__module__": self.target_class.__module__})
            return extend_schema_view(**{name: extend_schema(**build()) for name, build in methods.items()})(view)

    return Described


@cache
def _metric_components():
    from analytics.figures import COUNT_FIELDS, DERIVED_FIELDS

    figures = {name: serializers.IntegerField() for name in COUNT_FIELDS}
    figures |= {name: serializers.FloatField(allow_null=True) for name in DERIVED_FIELDS}
    # One class per component: DRF copies declared fields, so one instance may serve several.
    figures_component = inline_serializer("MetricFigures", figures)
    by_channel = inline_serializer("MetricsByChannel", dict.fromkeys(("voice", "sms", "whatsapp", "email"), figures_component))
    period = {
        "period": serializers.ChoiceField(choices=["today", "week", "month", "custom"]),
        "start": serializers.DateField(),
        "end": serializers.DateField(),
        "time_zone": serializers.CharField(),
    }
    share = {"label": serializers.CharField(), "count": serializers.IntegerField(),
             "share": serializers.FloatField(allow_null=True)}
    return {
        "OverviewView": {**period, "totals": figures_component, "by_channel": by_channel},
        "ChannelsView": {**period, "channels": inline_serializer(
            "ChannelFigures", {"channel": serializers.CharField(), "label": serializers.CharField(), **figures}, many=True)},
        "OutcomesView": {**period, "unscored": serializers.IntegerField(), "total": serializers.IntegerField(),
                         "outcomes": inline_serializer("OutcomeShare", {"outcome": serializers.CharField(), **share}, many=True)},
        "SentimentView": {**period, "unscored": serializers.IntegerField(), "total": serializers.IntegerField(),
                          "sentiments": inline_serializer("SentimentShare", {"sentiment": serializers.CharField(), **share}, many=True)},
        "PeakHoursView": {
            **period, "weekdays": serializers.ListField(child=serializers.CharField()),
            "hours": serializers.ListField(child=serializers.IntegerField()),
            "counts": serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                            help_text="7 weekdays (Monday first) × 24 hours."),
            "busiest": inline_serializer("PeakHour", {"weekday": serializers.CharField(), "hour": serializers.IntegerField(),
                                                      "count": serializers.IntegerField()}, allow_null=True),
        },
        "FunnelView": {**period, "stages": inline_serializer("FunnelStage", {
            "stage": serializers.CharField(), "label": serializers.CharField(), "count": serializers.IntegerField(),
            "rate": serializers.FloatField(allow_null=True)}, many=True)},
        "DailyView": {"days": inline_serializer("MetricDay", {
            "date": serializers.DateField(), **figures, "by_channel": by_channel}, many=True)},
    }


def _metrics(name):
    def build():
        from analytics import api

        query = api.DailyQuery if name == "DailyView" else api.PeriodQuery
        return {"tags": ["metrics"], "parameters": [query],
                "responses": inline_serializer(f"{name.removesuffix('View')}Metrics", _metric_components()[name])}
    return build


for _name in ("OverviewView", "ChannelsView", "OutcomesView", "SentimentView", "PeakHoursView", "FunnelView", "DailyView"):
    _describe(f"analytics.api.{_name}", get=_metrics(_name))


_SCHEDULING_ERRORS = {
    404: error_schema("No such appointment, service or provider."),
    503: error_schema("The calendar did not answer; nothing was changed."),
}


def _appointments_get():
    from scheduling.models import Appointment

    day = "A clinic date (YYYY-MM-DD), inclusive."
    return {"tags": ["appointments"], "responses": _appointment()(many=True), "parameters": [
        OpenApiParameter("start_date", OpenApiTypes.DATE, description=day),
        OpenApiParameter("end_date", OpenApiTypes.DATE, description=day),
        OpenApiParameter("provider", OpenApiTypes.INT), OpenApiParameter("service", OpenApiTypes.INT),
        OpenApiParameter("customer", OpenApiTypes.INT),
        OpenApiParameter("status", OpenApiTypes.STR, enum=Appointment.Status.values),
        OpenApiParameter("phone", OpenApiTypes.STR, description="The customer's phone, any spelling."),
        OpenApiParameter("q", OpenApiTypes.STR, description="Part of the customer's name or email, or 4+ digits "
                                                            "of their phone (the list page's search)."),
        OpenApiParameter("late", OpenApiTypes.BOOL, description="Late cancellations only."),
    ]}


@cache
def _appointment():
    """scheduling.api.AppointmentSerializer as it answers: `cancelled_at` may be null, `cancelled_by` empty."""
    from scheduling import api
    from scheduling.models import Appointment

    class AppointmentAsAnswered(api.AppointmentSerializer):
        cancelled_at = api.ClinicDateTimeField(allow_null=True)
        cancelled_by = serializers.ChoiceField(choices=Appointment.BookedBy.choices, allow_blank=True)

        class Meta(api.AppointmentSerializer.Meta):
            ref_name = "Appointment"

    return AppointmentAsAnswered


def _scheduling_write(serializer_name, *, created=False, taken=True):
    def build():
        from scheduling import api

        responses = {201 if created else 200: _appointment(), **_SCHEDULING_ERRORS}
        if taken:
            responses[409] = error_schema("The time is taken; `details.alternatives` lists open ones nearby.")
        return {"tags": ["appointments"], "request": getattr(api, serializer_name), "responses": responses}
    return build


def _availability():
    from scheduling.availability import PARTS_OF_DAY

    provider = {"id": serializers.IntegerField(), "name": serializers.CharField()}
    day = "A clinic date (YYYY-MM-DD)."
    return {"tags": ["appointments"], "parameters": [
        OpenApiParameter("service", OpenApiTypes.STR, required=True, description="The service's id or slug."),
        OpenApiParameter("date", OpenApiTypes.DATE, description=day),
        OpenApiParameter("start_date", OpenApiTypes.DATE, description=day),
        OpenApiParameter("end_date", OpenApiTypes.DATE, description=day),
        OpenApiParameter("provider", OpenApiTypes.INT),
        OpenApiParameter("part_of_day", OpenApiTypes.STR, enum=list(PARTS_OF_DAY)),
    ], "responses": {200: inline_serializer("Availability", {
        "service": inline_serializer("AvailabilityService", {**provider, "duration_minutes": serializers.IntegerField()}),
        "time_zone": serializers.CharField(),
        "start_date": serializers.DateField(allow_null=True),
        "end_date": serializers.DateField(allow_null=True),
        "part_of_day": serializers.CharField(allow_null=True),
        "openings": inline_serializer("Opening", {
            "provider": inline_serializer("OpeningProvider", provider), "start": serializers.DateTimeField(),
            "end": serializers.DateTimeField()}, many=True),
        "openings_total": serializers.IntegerField(),
        "summary": serializers.CharField(),
        "nearest_days": serializers.ListField(child=serializers.DateField()),
        "nearest_openings": inline_serializer("NearestOpening", {
            "provider": inline_serializer("NearestOpeningProvider", provider), "start": serializers.DateTimeField(),
            "end": serializers.DateTimeField()}, many=True, help_text="When the asked days have none: one opening on "
                                                                     "each of the nearest days."),
    }), **_SCHEDULING_ERRORS}}


_describe("scheduling.api.AppointmentListCreateView", get=_appointments_get,
          post=_scheduling_write("BookingSerializer", created=True))
_describe("scheduling.api.AppointmentCancelView", post=_scheduling_write("CancelSerializer", taken=False))
_describe("scheduling.api.AppointmentRescheduleView", post=_scheduling_write("RescheduleSerializer"))
_describe("scheduling.api.AvailabilityView", get=_availability)
