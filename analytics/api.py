"""The metrics API (staff only, conventions/api.py): thin views over analytics.selectors."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors
from analytics.figures import COUNT_FIELDS, DERIVED_FIELDS


class PeriodQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=selectors.PERIODS, required=False)
    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)

    def validate(self, attrs):
        if attrs.get("period") == "custom" and not (attrs.get("start") and attrs.get("end")):
            raise ValidationError({"start": ["A custom period needs start and end (YYYY-MM-DD)."]})
        if (attrs.get("start") or attrs.get("end")) and attrs.get("period", "custom") != "custom":
            raise ValidationError({"period": ["start and end go with period=custom."]})
        return attrs


# --- What the metrics answer, for the OpenAPI schema --------------------------------------------------
_FIGURES = {name: serializers.IntegerField() for name in COUNT_FIELDS}
_FIGURES |= {name: serializers.FloatField(allow_null=True) for name in DERIVED_FIELDS}
# Money is an exact decimal string in US dollars (communications.usage.money), never a float.
_FIGURES |= {"cost": serializers.CharField(help_text="US dollars of what has a price, exact (a decimal string)."),
             "cost_per_booking": serializers.CharField(allow_null=True, help_text="US dollars per appointment booked; "
                                                                                   "null when nothing was booked.")}
# One class for the component, an instance per place it appears: DRF's metaclass pops the fields out of the
# dict it is given, and one instance under several names would be bound to the last name only.
_FIGURES_CLASS = type("MetricFigures", (serializers.Serializer,), {**_FIGURES})
_FIGURES_COMPONENT = _FIGURES_CLASS()
_BY_CHANNEL = inline_serializer("MetricsByChannel",
                                {channel: _FIGURES_CLASS() for channel in ("voice", "sms", "whatsapp", "email")})
# Voice calls again by how they came (the clinic's number, the call page): phone + web = voice.
_BY_SOURCE = inline_serializer("VoiceMetricsBySource", {source: _FIGURES_CLASS() for source in ("phone", "web")})
_PERIOD = {
    "period": serializers.ChoiceField(choices=["today", "week", "month", "custom"]),
    "start": serializers.DateField(),
    "end": serializers.DateField(),
    "time_zone": serializers.CharField(),
}
_SHARE = {"label": serializers.CharField(), "count": serializers.IntegerField(),
          "share": serializers.FloatField(allow_null=True)}


def described(name, fields, query=None):
    """The view's GET in the schema: its query and its answer (the component `name`)."""
    return extend_schema_view(get=extend_schema(tags=["metrics"], parameters=[query or PeriodQuery],
                                                responses=inline_serializer(name, fields)))


class PeriodView(APIView):
    """A read over a period: ?period=today|week|month|custom&start=YYYY-MM-DD&end=YYYY-MM-DD."""

    default_period = "month"
    selector = None

    def get(self, request):
        query = PeriodQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        period = params.get("period") or ("custom" if params.get("start") else self.default_period)
        try:
            data = type(self).selector(period=period, start=params.get("start"), end=params.get("end"))
        except selectors.PeriodError as exc:
            raise ValidationError({"period": [str(exc)]}) from None
        return Response(data)


@described("OverviewMetrics", {**_PERIOD, "totals": _FIGURES_COMPONENT, "by_channel": _BY_CHANNEL,
                                "by_source": _BY_SOURCE})
class OverviewView(PeriodView):
    """Headline figures in the clinic's time zone: rollups for past days plus live figures for today."""

    default_period = "today"
    selector = staticmethod(selectors.overview)


@described("ChannelsMetrics", {**_PERIOD, "channels": inline_serializer(
    "ChannelFigures", {"channel": serializers.CharField(), "label": serializers.CharField(), **_FIGURES}, many=True)})
class ChannelsView(PeriodView):
    selector = staticmethod(selectors.channel_breakdown)


@described("OutcomesMetrics", {**_PERIOD, "unscored": serializers.IntegerField(), "total": serializers.IntegerField(),
                                 "outcomes": inline_serializer("OutcomeShare", {"outcome": serializers.CharField(), **_SHARE},
                                                               many=True)})
class OutcomesView(PeriodView):
    selector = staticmethod(selectors.outcome_breakdown)


@described("SentimentMetrics", {**_PERIOD, "unscored": serializers.IntegerField(), "total": serializers.IntegerField(),
                                  "sentiments": inline_serializer("SentimentShare", {"sentiment": serializers.CharField(),
                                                                                     **_SHARE}, many=True)})
class SentimentView(PeriodView):
    selector = staticmethod(selectors.sentiment_breakdown)


@described("PeakHoursMetrics", {
    **_PERIOD, "weekdays": serializers.ListField(child=serializers.CharField()),
    "hours": serializers.ListField(child=serializers.IntegerField()),
    "counts": serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="7 weekdays (Monday first) × 24 hours."),
    "busiest": inline_serializer("PeakHour", {"weekday": serializers.CharField(), "hour": serializers.IntegerField(),
                                              "count": serializers.IntegerField()}, allow_null=True),
})
class PeakHoursView(PeriodView):
    selector = staticmethod(selectors.peak_hours)


@described("FunnelMetrics", {**_PERIOD, "stages": inline_serializer("FunnelStage", {
    "stage": serializers.CharField(), "label": serializers.CharField(), "count": serializers.IntegerField(),
    "rate": serializers.FloatField(allow_null=True)}, many=True)})
class FunnelView(PeriodView):
    selector = staticmethod(selectors.booking_funnel)


class DailyQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=selectors.MAX_CUSTOM_DAYS, default=30)


@described("DailyMetrics", {"days": inline_serializer("MetricDay", {
    "date": serializers.DateField(), **_FIGURES, "by_channel": _BY_CHANNEL, "by_source": _BY_SOURCE}, many=True)},
    query=DailyQuery)
class DailyView(APIView):
    """?days=N (default 30): one entry per clinic-local day ending today."""

    def get(self, request):
        query = DailyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"days": selectors.daily_series(days=query.validated_data["days"])})
