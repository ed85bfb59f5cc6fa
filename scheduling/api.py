"""Staff API for appointments and availability (DRF, staff only; conventions/api.py).

Times go out in the clinic's zone (ISO 8601 with offset); times that come in without
an offset are read as the clinic's wall clock.
"""

import re
from django.utils.dateparse import parse_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from communications.models import Conversation, Customer
from conventions.api import error_response
from conventions.audit import audited_api
from conventions.openapi import error_schema
from scheduling.availability import PARTS_OF_DAY, SANE_YEARS, find_availability
from scheduling.exceptions import BookingRefused, CalendarUnavailable, SchedulingError, SlotTaken
from scheduling.forms import AppointmentFilterForm
from scheduling.models import Appointment, ClinicSettings, Provider, Service
from scheduling.selectors import appointments_for
from scheduling.services import book_appointment, cancel_appointment, get_appointment, reschedule_appointment


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


class ClinicDateTimeField(serializers.DateTimeField):
    """ISO datetimes in the clinic's zone; a naive one is the clinic's wall clock."""

    def enforce_timezone(self, value):
        if value.tzinfo is None:
            return value.replace(tzinfo=ClinicSettings.load().tz)
        return value

    def to_representation(self, value):
        return value.astimezone(ClinicSettings.load().tz).isoformat() if value else None


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustomerSummarySerializer(NamedSerializer):
    phone = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)


class AppointmentSerializer(serializers.ModelSerializer):
    customer = CustomerSummarySerializer()
    service = NamedSerializer()
    provider = NamedSerializer()
    start = ClinicDateTimeField()
    end = ClinicDateTimeField()
    treatment_end = ClinicDateTimeField()
    cancelled_at = ClinicDateTimeField()

    class Meta:
        model = Appointment
        fields = [
            "id", "customer", "service", "provider", "start", "treatment_end", "end", "status", "booked_by",
            "conversation", "notes", "calendar_event_id", "cancellation_reason", "cancelled_at", "cancelled_by",
            "late_cancellation", "metadata", "created_at", "updated_at",
        ]
        read_only_fields = fields


class BookingSerializer(serializers.Serializer):
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.all())
    start = ClinicDateTimeField()
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    conversation = serializers.PrimaryKeyRelatedField(
        queryset=Conversation.objects.all(), required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, data):
        if not data.get("customer") and not data.get("phone") and not data.get("email"):
            raise ValidationError({"phone": "Give a customer, or a phone number (or email) to find or create one."})
        return data


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RescheduleSerializer(serializers.Serializer):
    start = ClinicDateTimeField()
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True)


# The schema's Appointment: as answered, `cancelled_at` may be null and `cancelled_by` empty.
class AppointmentAsAnswered(AppointmentSerializer):
    cancelled_at = ClinicDateTimeField(allow_null=True)
    cancelled_by = serializers.ChoiceField(choices=Appointment.BookedBy.choices, allow_blank=True)

    class Meta(AppointmentSerializer.Meta):
        ref_name = "Appointment"


ERRORS = {
    404: error_schema("No such appointment, service or provider."),
    503: error_schema("The calendar did not answer; nothing was changed."),
}
TAKEN = {409: error_schema("The time is taken; `details.alternatives` lists open ones nearby.")}
CLINIC_DATE = "A clinic date (YYYY-MM-DD)."


def scheduling_error_response(error):
    """409 for a taken slot, 503 when the calendar failed, 404 for a missing appointment, else 400."""
    if isinstance(error, SlotTaken):
        status_code = status.HTTP_409_CONFLICT
    elif isinstance(error, CalendarUnavailable):
        status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    elif isinstance(error, BookingRefused) and error.code == "not_found":
        status_code = status.HTTP_404_NOT_FOUND
    else:
        status_code = status.HTTP_400_BAD_REQUEST
    details = {"alternatives": [opening.to_dict() for opening in error.alternatives], **error.details}
    return error_response(code=error.code, message=error.message, status_code=status_code, details=details)


def _date_param(request, name):
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_date(raw) if len(raw) == 10 else None
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        value = None
    if value is None or not SANE_YEARS[0] <= value.year <= SANE_YEARS[1]:
        raise ValidationError({name: f"“{raw}” is not a date (YYYY-MM-DD)."})
    return value


def _is_id(raw):
    # ASCII digits only ("²".isdigit() is True) and within a 64-bit key.
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


def _id_param(request, name):
    raw = request.query_params.get(name)
    if not raw:
        return None
    if not _is_id(raw):
        raise ValidationError({name: f"“{raw}” is not an id."})
    return int(raw)


@extend_schema_view(
    get=extend_schema(tags=["appointments"], responses=AppointmentAsAnswered(many=True), parameters=[
        OpenApiParameter("start_date", OpenApiTypes.DATE, description="A clinic date (YYYY-MM-DD), inclusive."),
        OpenApiParameter("end_date", OpenApiTypes.DATE, description="A clinic date (YYYY-MM-DD), inclusive."),
        OpenApiParameter("provider", OpenApiTypes.INT), OpenApiParameter("service", OpenApiTypes.INT),
        OpenApiParameter("customer", OpenApiTypes.INT),
        OpenApiParameter("status", OpenApiTypes.STR, enum=Appointment.Status.values),
        OpenApiParameter("phone", OpenApiTypes.STR, description="The customer's phone, any spelling."),
        OpenApiParameter("q", OpenApiTypes.STR, description="Part of the customer's name or email, or 4+ digits "
                                                            "of their phone (the list page's search)."),
        OpenApiParameter("late", OpenApiTypes.BOOL, description="Late cancellations only."),
    ]),
    post=extend_schema(tags=["appointments"], request=BookingSerializer,
                       responses={201: AppointmentAsAnswered, **ERRORS, **TAKEN}),
)
@audited_api("appointment", GET="list", POST="create")
class AppointmentListCreateView(generics.ListAPIView):
    """GET: appointments, soonest first, filtered by `start_date`, `end_date` (clinic dates, inclusive),
    `provider`, `service`, `customer` (ids), `status`, `phone`, `q` (name, email or phone digits) and `late`
    (late cancellations only): scheduling.forms.AppointmentFilterForm, as on the list page.
    POST: book one (409 with alternatives when taken).
    """

    permission_classes = [IsAdminUser]
    serializer_class = AppointmentSerializer

    def get_queryset(self):
        # The list page's filter form, so a query string means the same on the page and here.
        filters = AppointmentFilterForm(self.request.query_params)
        if not filters.is_valid():
            raise ValidationError({name: list(messages) for name, messages in filters.errors.items()})
        return appointments_for(**filters.filters())

    def post(self, request):
        booking = BookingSerializer(data=request.data)
        booking.is_valid(raise_exception=True)
        data = booking.validated_data
        try:
            appointment = book_appointment(
                service=data["service"], start=data["start"], provider=data.get("provider"),
                customer=data.get("customer"), name=data["name"], phone=data["phone"], email=data["email"],
                booked_by=Appointment.BookedBy.STAFF, conversation=data.get("conversation"), notes=data["notes"],
            )
        except SchedulingError as error:
            return scheduling_error_response(error)
        return Response(AppointmentSerializer(appointment).data, status=status.HTTP_201_CREATED)


@extend_schema_view(post=extend_schema(tags=["appointments"], request=CancelSerializer,
                                        responses={200: AppointmentAsAnswered, **ERRORS}))
@audited_api("appointment", POST="cancel")
class AppointmentCancelView(APIView):
    permission_classes = [IsAdminUser]

    def post(self, request, pk):
        form = CancelSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = cancel_appointment(
                appointment=get_appointment(appointment_id=pk), reason=form.validated_data["reason"],
                by=Appointment.BookedBy.STAFF,
            )
        except SchedulingError as error:
            return scheduling_error_response(error)
        return Response(AppointmentSerializer(appointment).data)


@extend_schema_view(post=extend_schema(tags=["appointments"], request=RescheduleSerializer,
                                        responses={200: AppointmentAsAnswered, **ERRORS, **TAKEN}))
@audited_api("appointment", POST="reschedule")
class AppointmentRescheduleView(APIView):
    permission_classes = [IsAdminUser]

    def post(self, request, pk):
        form = RescheduleSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            appointment = reschedule_appointment(
                appointment=get_appointment(appointment_id=pk), start=form.validated_data["start"],
                provider=form.validated_data.get("provider"), by=Appointment.BookedBy.STAFF,
            )
        except SchedulingError as error:
            return scheduling_error_response(error)
        return Response(AppointmentSerializer(appointment).data)


_NAMED = {"id": serializers.IntegerField(), "name": serializers.CharField()}


@extend_schema_view(get=extend_schema(tags=["appointments"], parameters=[
    OpenApiParameter("service", OpenApiTypes.STR, required=True, description="The service's id or slug."),
    OpenApiParameter("date", OpenApiTypes.DATE, description=CLINIC_DATE),
    OpenApiParameter("start_date", OpenApiTypes.DATE, description=CLINIC_DATE),
    OpenApiParameter("end_date", OpenApiTypes.DATE, description=CLINIC_DATE),
    OpenApiParameter("provider", OpenApiTypes.INT),
    OpenApiParameter("part_of_day", OpenApiTypes.STR, enum=list(PARTS_OF_DAY)),
], responses={200: inline_serializer("Availability", {
    "service": inline_serializer("AvailabilityService", {**_NAMED, "duration_minutes": serializers.IntegerField()}),
    "time_zone": serializers.CharField(),
    "start_date": serializers.DateField(allow_null=True),
    "end_date": serializers.DateField(allow_null=True),
    "part_of_day": serializers.CharField(allow_null=True),
    "openings": inline_serializer("Opening", {
        "provider": inline_serializer("OpeningProvider", _NAMED), "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField()}, many=True),
    "openings_total": serializers.IntegerField(),
    "summary": serializers.CharField(),
    "nearest_days": serializers.ListField(child=serializers.DateField()),
    "nearest_openings": inline_serializer("NearestOpening", {
        "provider": inline_serializer("NearestOpeningProvider", _NAMED), "start": serializers.DateTimeField(),
        "end": serializers.DateTimeField()}, many=True,
        help_text="When the asked days have none: one opening on each of the nearest days."),
}), **ERRORS}))
class AvailabilityView(APIView):
    """GET ?service=<id or slug>&date=YYYY-MM-DD (or start_date/end_date)&provider=<id>&part_of_day=morning"""

    permission_classes = [IsAdminUser]

    def get(self, request):
        params = request.query_params
        service_key = params.get("service", "")
        if not service_key:
            raise ValidationError({"service": "Which service? Give its id or slug."})
        service = None
        if _is_id(service_key):
            service = Service.objects.filter(pk=int(service_key)).first()
        elif SLUG.fullmatch(service_key):
            service = Service.objects.filter(slug=service_key).first()
        if service is None:
            return error_response(code="not_found", message="No such service.", status_code=status.HTTP_404_NOT_FOUND)
        provider = None
        provider_id = _id_param(request, "provider")
        if provider_id is not None:
            provider = Provider.objects.filter(pk=provider_id).first()
            if provider is None:
                return error_response(code="not_found", message="No such provider.", status_code=status.HTTP_404_NOT_FOUND)
        part_of_day = params.get("part_of_day") or None
        if part_of_day and part_of_day not in PARTS_OF_DAY:
            raise ValidationError({"part_of_day": f"Use one of: {', '.join(PARTS_OF_DAY)}."})
        try:
            availability = find_availability(
                service=service, date=_date_param(request, "date"), start_date=_date_param(request, "start_date"),
                end_date=_date_param(request, "end_date"), provider=provider, part_of_day=part_of_day,
            )
        except SchedulingError as error:
            return scheduling_error_response(error)
        return Response(availability.to_dict())


