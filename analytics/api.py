"""The metrics API (staff only, conventions/api.py): thin views over analytics.selectors."""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors


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


class OverviewView(PeriodView):
    """Headline figures in the clinic's time zone: rollups for past days plus live figures for today."""

    default_period = "today"
    selector = staticmethod(selectors.overview)


class ChannelsView(PeriodView):
    selector = staticmethod(selectors.channel_breakdown)


class OutcomesView(PeriodView):
    selector = staticmethod(selectors.outcome_breakdown)


class SentimentView(PeriodView):
    selector = staticmethod(selectors.sentiment_breakdown)


class PeakHoursView(PeriodView):
    selector = staticmethod(selectors.peak_hours)


class FunnelView(PeriodView):
    selector = staticmethod(selectors.booking_funnel)


class DailyQuery(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=selectors.MAX_CUSTOM_DAYS, default=30)


class DailyView(APIView):
    """?days=N (default 30): one entry per clinic-local day ending today."""

    def get(self, request):
        query = DailyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"days": selectors.daily_series(days=query.validated_data["days"])})
