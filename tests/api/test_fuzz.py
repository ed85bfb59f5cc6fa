"""schemathesis against the OpenAPI schema, with a staff token: no 5xx, and every response as described.

Select it with `pytest -m fuzz`. It runs in `make test` with the rest, on SQLite and on
PostgreSQL, bounded so it takes a minute or two.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from communications.models import Channel, DeliveryStatus, EmailDetail, SmsDetail
from communications.services import add_message, end_conversation, record_event, start_conversation
from communications.tests.factories import CustomerFactory
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory, open_clinic
from tests.api.conftest import DjangoInTheTestsTransaction

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def records():
    """One of everything the API shows, so answers carry data and not only empty lists."""
    open_clinic()
    customer = CustomerFactory()
    service = ServiceFactory()
    provider = ProviderFactory(services=[service])
    now = timezone.now()
    call = start_conversation(channel=Channel.VOICE, customer=customer, at=now - timedelta(minutes=10))
    add_message(conversation_id=call.pk, author="assistant", content="Glow Med Spa, this is Ava.")
    said = add_message(conversation_id=call.pk, author="customer", content="Can I book a facial?")
    record_event(conversation_id=call.pk, type="tool_call", data={"name": "check_availability"}, message=said)
    end_conversation(conversation_id=call.pk, outcome="booked", end_reason="assistant_ended")
    text = start_conversation(channel=Channel.SMS, customer=customer)
    sms = add_message(conversation_id=text.pk, author="customer", content="Running 5 min late")
    SmsDetail.objects.create(message=sms, provider_message_id="SM1", delivery_status=DeliveryStatus.RECEIVED)
    email = start_conversation(channel=Channel.EMAIL)
    mail = add_message(conversation_id=email.pk, author="customer", content="Parking?")
    EmailDetail.objects.create(message=mail, subject="Parking", to=["ava@spa.example"])
    appointment = AppointmentFactory(customer=customer, service=service, provider=provider, conversation=call)
    return {"customer": customer, "call": call, "text": text, "email": email, "appointment": appointment,
            "service": service}


@pytest.fixture
def api_schema(records, staff_token, unthrottled):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", DjangoInTheTestsTransaction(), headers={"Authorization": f"Token {staff_token}"}
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_as_its_schema_says(case, staff_token):
    response = case.call(headers={"Authorization": f"Token {staff_token}"})
    case.validate_response(response, checks=CHECKS)


def test_real_records_are_answered_as_the_schema_says(api_schema, records, staff_token):
    """Random ids rarely name a real record; these do, so the full answers are checked too."""
    ids = {
        "/api/customers/{id}": records["customer"].pk,
        "/api/customers/{id}/history": records["customer"].pk,
        "/api/admin/calls/{id}": records["call"].pk,
        "/api/admin/calls/{id}/transcript": records["call"].pk,
        "/api/appointments/{id}/cancel": records["appointment"].pk,
    }
    answered = []
    for conversation in ("call", "text", "email"):
        case = api_schema["/api/admin/communications/{id}"]["GET"].Case(path_parameters={"id": records[conversation].pk})
        response = case.call(headers={"Authorization": f"Token {staff_token}"})
        case.validate_response(response, checks=CHECKS)
        answered.append((conversation, response.status_code, response.content[:300]))
    for path, pk in ids.items():
        method = "POST" if path.endswith("/cancel") else "GET"
        case = api_schema[path][method].Case(path_parameters={"id": pk}, **({"body": {}, "media_type": "application/json"} if method == "POST" else {}))
        response = case.call(headers={"Authorization": f"Token {staff_token}"})
        case.validate_response(response, checks=CHECKS)
        answered.append((path, response.status_code, response.content[:300]))
    case = api_schema["/api/availability"]["GET"].Case(query={"service": str(records["service"].pk)})
    response = case.call(headers={"Authorization": f"Token {staff_token}"})
    case.validate_response(response, checks=CHECKS)
    answered.append(("availability", response.status_code, response.content[:300]))
    assert [status for _, status, _ in answered] == [200] * len(answered), answered
