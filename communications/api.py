"""The staff API for customers and conversations (DRF; conventions/api.py, conventions/openapi.py).

Thin views over communications.selectors and communications.services: the inbox's
filters and the customer's timeline are the dashboard's own queries.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from communications import serializers as s
from communications.models import Channel, Conversation, Customer, Message
from communications.selectors import (
    conversations_for_inbox,
    customer_summary,
    customer_timeline,
)
from communications.services import CustomerConflict, find_or_create_customer, update_customer
from conventions.api import Pagination, error_response
from conventions.audit import audited_api
from conventions.openapi import error_schema
from conventions.paging import page_of

# Deeper than this no page can be (and OFFSET must still fit the database's integer).
MAX_OFFSET = 2**31


class ConversationPagination(Pagination):
    """`page` and `page_size` like every list, without a total.

    Counting a million conversations costs a third of a page's time budget (and a
    transcript search far more; ARCHITECTURE.md has the figures), so these lists
    say whether there is a `next` page instead of a `count`. A page past the last
    one is a 404, as elsewhere.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param) or "1"
        try:
            number = int(raw) if raw.isascii() else 0
        except ValueError:
            number = 0
        if number < 1 or (number - 1) * size > MAX_OFFSET:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page number is not valid."))
        self.page = page_of(queryset, page=number, page_size=size)
        if not self.page.items and number > 1:
            raise NotFound(self.invalid_page_message.format(page_number=raw, message="That page contains no results."))
        return self.page.items

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        if not self.page.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.page.number + 1)

    def get_previous_link(self):
        if not self.page.has_previous:
            return None
        url = self.request.build_absolute_uri()
        if self.page.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.page.number - 1)

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        del schema["properties"]["count"]
        schema["properties"]["next"]["example"] = "https://ava.example.com/api/admin/communications?page=3"
        schema["properties"]["previous"]["example"] = "https://ava.example.com/api/admin/communications?page=1"
        schema["required"] = ["next", "previous", "results"]
        return schema


# --- Examples (the schema shows them; they are what the endpoints answer) ----------------------------
_CUSTOMER = {
    "id": 42, "name": "Dana Whitfield", "phone": "+12125550142", "email": "dana@example.com", "is_new_client": True,
    "notes": "", "sms_opted_out": False, "sms_opted_out_at": None,
    "whatsapp_opted_out": False, "whatsapp_opted_out_at": None,
    "whatsapp_opted_out": False, "whatsapp_opted_out_at": None,
    "created_at": "2026-03-02T10:15:00-05:00", "updated_at": "2026-03-02T10:15:00-05:00",
}
_CUSTOMER_REF = {key: _CUSTOMER[key] for key in ("id", "name", "phone", "email")}
_CONVERSATION = {
    "id": "6f1c2b9e-3d47-4a8e-9a51-0c2f7d6e8b14", "channel": "voice", "source": "phone", "status": "completed",
    "customer": _CUSTOMER_REF, "started_at": "2026-03-02T10:15:04-05:00",
    "last_activity_at": "2026-03-02T10:18:41-05:00", "ended_at": "2026-03-02T10:18:41-05:00",
    "duration_seconds": 217, "outcome": "booked", "sentiment": "positive", "satisfaction_score": 9,
    "escalated": False, "summary": "Booked a HydraFacial with Maya on Friday at 3 pm.",
}
_VOICE = {"duration_seconds": 217, "end_reason": "assistant_ended", "interruption_count": 2, "recording_url": ""}
_APPOINTMENT = {
    "id": 7, "service": {"id": 3, "name": "HydraFacial"}, "provider": {"id": 2, "name": "Maya Chen"},
    "start": "2026-03-06T15:00:00-05:00", "end": "2026-03-06T16:15:00-05:00", "status": "scheduled",
    "booked_by": "ai", "conversation": _CONVERSATION["id"], "notes": "", "cancelled_at": None,
}
_MESSAGES = [
    {"id": 901, "position": 0, "direction": "outbound", "author": "assistant", "content": "Thank you for calling "
     "Glow Med Spa, this is Ava. How can I help?", "sent_at": "2026-03-02T10:15:05-05:00", "upstream_item_id":
     "item_C9a1", "metadata": {}, "recording_start_ms": 0, "recording_end_ms": 3840, "sms": None, "email": None},
    {"id": 902, "position": 1, "direction": "inbound", "author": "customer", "content": "I'd like a HydraFacial on "
     "Friday afternoon.", "sent_at": "2026-03-02T10:15:12-05:00", "upstream_item_id": "item_C9a2", "metadata": {},
     "recording_start_ms": 5120, "recording_end_ms": 7460, "sms": None, "email": None},
]
_SMS_MESSAGE = {
    "id": 955, "position": 0, "direction": "inbound", "author": "customer", "content": "Can I move my Friday visit?",
    "sent_at": "2026-03-03T09:02:11-05:00", "upstream_item_id": "", "metadata": {}, "recording_start_ms": None,
    "recording_end_ms": None, "email": None,
    "sms": {"provider_message_id": "SM0f3e9c2b1a", "from_number": "+12125550142", "to_number": "+12125550100",
            "delivery_status": "received", "status_updated_at": "2026-03-03T09:02:11-05:00", "sent_at": None,
            "delivered_at": None, "error_code": "", "error_message": "", "segments": 1, "media_urls": []},
}
_EVENT = {"id": 311, "type": "tool_call", "at": "2026-03-02T10:16:30-05:00", "message": None,
          "data": {"name": "book_appointment", "ok": True}}
_DETAIL = {
    **_CONVERSATION, "frustration_indicators": [], "success_markers": ["booked on the first try"],
    "scored_at": "2026-03-02T10:19:02-05:00", "scorer": "openai", "scorer_version": "gpt-4.1-mini",
    "metadata": {}, "voice": _VOICE, "recording": {
        "url": "https://ava.example.com/dashboard/conversations/6f1c2b9e-3d47-4a8e-9a51-0c2f7d6e8b14/recording/",
        "duration_ms": 216840, "state": "complete", "content_type": "audio/flac"},
    "messages": _MESSAGES, "events": [_EVENT], "appointments": [_APPOINTMENT],
    "cost": {"currency": "USD", "total": "0.084213", "known_cost": "0.084213", "unknown_records": 0, "parts": [
        {"part": "voice", "label": "Voice", "cost": "0.082114", "known_cost": "0.082114", "records": 6,
         "unknown_records": 0, "models": ["gpt-realtime-2.1"]},
        {"part": "transcription", "label": "Transcription", "cost": "0.000945", "known_cost": "0.000945",
         "records": 3, "unknown_records": 0, "models": ["gpt-transcribe"]},
        {"part": "scoring", "label": "Scoring", "cost": "0.001154", "known_cost": "0.001154", "records": 1,
         "unknown_records": 0, "models": ["gpt-5.4-mini-2026-03-17"]}]},
}

# Path parameters, described (the URL converters already refuse anything else).
CUSTOMER_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A customer id.")
CONVERSATION_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="A conversation id.")

_DETAIL_EXAMPLES = [
    OpenApiExample("A call", value=_DETAIL, response_only=True),
    OpenApiExample("A text message", response_only=True, value={
        **_DETAIL, "id": "0b7e4d9a-21c5-4f0e-8c3b-5d9a6e2f1c70", "channel": "sms", "duration_seconds": None,
        "ended_at": None, "status": "active", "outcome": "", "sentiment": "", "satisfaction_score": None,
        "summary": "", "success_markers": [], "scored_at": None, "scorer": "", "scorer_version": "", "voice": None,
        "source": None, "recording": None,
        "messages": [_SMS_MESSAGE], "events": [], "appointments": [],
        "cost": {"currency": "USD", "total": None, "known_cost": "0.0079", "unknown_records": 1, "parts": [
            {"part": "text", "label": "Text replies", "cost": None, "known_cost": "0", "records": 1,
             "unknown_records": 1, "models": ["a-model-not-in-the-price-table"]},
            {"part": "telephony", "label": "Twilio", "cost": "0.0079", "known_cost": "0.0079", "records": 1,
             "unknown_records": 0, "models": ["twilio-sms"]}]},
    }),
]


# --- Customers ------------------------------------------------------------------------------------
_CONFLICT_EXAMPLE = OpenApiExample("Another customer has this email", response_only=True, status_codes=["409"], value={
    "error": {"code": "customer_conflict", "message": "Another customer already has this email address.",
              "details": {"field": "email", "customer": {**_CUSTOMER_REF, "id": 57, "name": "Dana W.", "phone": None}}},
})


def conflict_response(conflict):
    """409 naming the field and the customer who holds it (the API is for staff, who may see them)."""
    return error_response(
        code="customer_conflict", message=conflict.message, status_code=status.HTTP_409_CONFLICT,
        details={"field": conflict.field, "customer": s.CustomerRefSerializer(conflict.holder).data},
    )


@audited_api("customer", POST="create")
class CustomerCreateView(APIView):
    @extend_schema(
        tags=["customers"],
        summary="Find or create a customer",
        description=(
            "The customer with this phone (else this email), created when there is none: 201 when created, "
            "200 when found. A name fills a blank name; an existing one is kept; so do a phone or an email the "
            "customer lacks. Give a phone or an email. 409 when the customer found by phone has no email and the "
            "email given is another customer's: `details` names the field and that customer (merge them, or "
            "correct one with PATCH)."
        ),
        request=s.CustomerInputSerializer,
        responses={
            201: s.CustomerSerializer, 200: s.CustomerSerializer,
            409: error_schema("The email belongs to another customer; `details.customer` is who."),
        },
        examples=[
            OpenApiExample("By phone", value={"name": "Dana Whitfield", "phone": "(212) 555-0142"}, request_only=True),
            OpenApiExample("By email", value={"email": "dana@example.com"}, request_only=True),
            OpenApiExample("The customer", value=_CUSTOMER, response_only=True, status_codes=["200", "201"]),
            _CONFLICT_EXAMPLE,
        ],
    )
    def post(self, request):
        form = s.CustomerInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        before = timezone.now()
        try:
            customer = find_or_create_customer(**form.validated_data)
        except CustomerConflict as conflict:
            return conflict_response(conflict)
        created = customer.created_at >= before
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@audited_api("customer", GET="view", PATCH="update")
class CustomerDetailView(APIView):
    @extend_schema(
        tags=["customers"],
        summary="A customer, with counts of their conversations and appointments",
        parameters=[CUSTOMER_ID],
        responses=s.CustomerDetailSerializer,
        examples=[OpenApiExample("A customer", response_only=True, value={**_CUSTOMER, "summary": {
            "first_contact": "2026-03-02T10:15:04-05:00", "channels": ["sms", "voice"], "conversations": 3,
            "bookings": 2, "cancellations": 1, "no_shows": 0, "average_satisfaction": 8.5,
        }})],
    )
    def get(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        customer.summary = customer_summary(customer)
        return Response(s.CustomerDetailSerializer(customer).data)

    @extend_schema(
        tags=["customers"],
        summary="Correct a customer's details",
        description=(
            "Only the fields given change. A phone or email is read as in POST /api/customers; a customer keeps "
            "at least one of them. 409 when another customer holds the phone or email (`details` names the field "
            "and that customer: merge them instead), or when the customer was forgotten."
        ),
        parameters=[CUSTOMER_ID],
        request=s.CustomerChangeSerializer,
        responses={
            200: s.CustomerSerializer,
            409: error_schema("Another customer holds the phone or email, or this customer was forgotten."),
        },
        examples=[
            OpenApiExample("A new number", value={"phone": "212 555 0199"}, request_only=True),
            OpenApiExample("The customer", value=_CUSTOMER, response_only=True, status_codes=["200"]),
            _CONFLICT_EXAMPLE,
        ],
    )
    def patch(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        form = s.CustomerChangeSerializer(customer, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        if customer.forgotten_at is not None:
            # Erased on request: writing details back would undo that. A returning client is a new customer.
            return error_response(code="customer_forgotten", status_code=status.HTTP_409_CONFLICT,
                                  message="This customer was forgotten; their details cannot be set again.")
        try:
            customer = update_customer(customer=customer, **form.validated_data)
        except CustomerConflict as conflict:
            return conflict_response(conflict)
        return Response(s.CustomerSerializer(customer).data)


@audited_api("customer", GET="view")
class CustomerHistoryView(APIView):
    @extend_schema(
        tags=["customers"],
        summary="A customer's conversations and appointments, newest first",
        description="Everything, unpaged: one customer's history is short.",
        parameters=[CUSTOMER_ID],
        responses=s.CustomerHistorySerializer,
        examples=[OpenApiExample("A customer's history", response_only=True, value={
            "customer": _CUSTOMER_REF, "conversations": [_CONVERSATION], "appointments": [_APPOINTMENT],
        })],
    )
    def get(self, request, pk):
        customer = get_object_or_404(Customer, pk=pk)
        timeline = customer_timeline(customer)
        history = {
            "customer": customer,
            "conversations": [entry for _, kind, entry in timeline if kind == "conversation"],
            "appointments": [entry for _, kind, entry in timeline if kind == "appointment"],
        }
        return Response(s.CustomerHistorySerializer(history).data)


# --- Conversations (the inbox) ----------------------------------------------------------------------
_PAGES = (
    "Pages have no total (`next` is empty on the last one): counting a large table costs more than the "
    "page. `page_size` above 200 gives 200."
)


@audited_api("conversation", GET="list")
class CommunicationListView(generics.ListAPIView):
    serializer_class = s.ConversationSerializer
    filter_serializer_class = s.ConversationFilterSerializer
    pagination_class = ConversationPagination
    channel = None

    @extend_schema(
        tags=["communications"],
        summary="Conversations on every channel, newest first",
        description=f"The inbox's filters. {_PAGES}",
        parameters=[s.ConversationFilterSerializer],
        examples=[OpenApiExample("A page of conversations", value=_CONVERSATION, response_only=True)],
    )
    def get(self, request):
        return self.list(request)

    def get_queryset(self):
        query = self.filter_serializer_class(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        conversations = conversations_for_inbox(
            channel=self.channel or params.get("channel"), source=params.get("source"), status=params.get("status"),
            outcome=params.get("outcome"), sentiment=params.get("sentiment"), escalated=params.get("escalated"),
            date_from=params.get("date_from"), date_to=params.get("date_to"), customer_id=params.get("customer"),
            q=params["search"].strip(), sort=params["sort"],
            # The clinic's days: ClinicTimeZoneMiddleware has activated its zone.
            tz=timezone.get_current_timezone(),
        )
        return conversations


def _conversation_with_everything(channel=None):
    conversations = Conversation.objects.select_related("customer", "voice", "score", "recording").prefetch_related(
        # Messages in transcript order (Message.Meta), each with its SMS or email details.
        Prefetch("messages", queryset=Message.objects.select_related("sms", "email")),
        "events",
        "appointments__service",
        "appointments__provider",
    )
    return conversations.filter(channel=channel) if channel else conversations


@audited_api("conversation", GET="view")
class CommunicationDetailView(APIView):
    @extend_schema(
        tags=["communications"],
        summary="A conversation: its messages with their SMS or email details, its events and its bookings",
        description=(
            "A call also gives its `recording` (the staff page that plays it, its length and state) and each "
            "message's place in it (`recording_start_ms`, `recording_end_ms`)."
        ),
        parameters=[CONVERSATION_ID],
        responses=s.ConversationDetailSerializer,
        examples=_DETAIL_EXAMPLES,
    )
    def get(self, request, pk):
        conversation = get_object_or_404(_conversation_with_everything(), pk=pk)
        # The request makes the recording's address absolute.
        return Response(s.ConversationDetailSerializer(conversation, context={"request": request}).data)


# --- Calls: voice conversations under the old system's paths -----------------------------------------
class CallListView(CommunicationListView):
    serializer_class = s.CallSerializer
    filter_serializer_class = s.CallFilterSerializer
    channel = Channel.VOICE

    @extend_schema(
        tags=["calls"],
        summary="Voice calls, newest first",
        description=f"GET /api/admin/communications?channel=voice, with each call's own facts. {_PAGES}",
        parameters=[s.CallFilterSerializer],
        examples=[OpenApiExample("A page of calls", value={**_CONVERSATION, "voice": _VOICE}, response_only=True)],
    )
    def get(self, request):
        return self.list(request)


@audited_api("conversation", GET="view")
class CallDetailView(APIView):
    @extend_schema(
        tags=["calls"],
        summary="A voice call, as GET /api/admin/communications/{id} shows it",
        parameters=[CONVERSATION_ID],
        responses=s.ConversationDetailSerializer,
        examples=_DETAIL_EXAMPLES[:1],
    )
    def get(self, request, pk):
        call = get_object_or_404(_conversation_with_everything(Channel.VOICE), pk=pk)
        return Response(s.ConversationDetailSerializer(call, context={"request": request}).data)


@audited_api("transcript", GET="view")
class CallTranscriptView(APIView):
    @extend_schema(
        tags=["calls"],
        summary="What was said on a voice call, in order",
        parameters=[CONVERSATION_ID],
        responses=s.TranscriptSerializer,
        examples=[OpenApiExample("A transcript", response_only=True, value={
            "id": _CONVERSATION["id"], "started_at": _CONVERSATION["started_at"],
            "ended_at": _CONVERSATION["ended_at"],
            "messages": [{key: m[key] for key in s.TranscriptLineSerializer.Meta.fields} for m in _MESSAGES],
        })],
    )
    def get(self, request, pk):
        call = get_object_or_404(
            Conversation.objects.filter(channel=Channel.VOICE).prefetch_related("messages"), pk=pk
        )
        return Response(s.TranscriptSerializer(call).data)
