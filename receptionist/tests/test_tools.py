"""The tool registry on its own: what each tool answers, what it refuses, and what it records."""

import json
from datetime import datetime, timedelta

import pytest

from communications.models import CommunicationEvent, Conversation
from communications.services import start_conversation
from receptionist.tools import TOOL_NAMES, ToolContext, run_tool, tool_schemas
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(spa):
    return start_conversation(channel="sms")


def call(tool_name, conversation=None, /, **arguments):
    context = ToolContext(channel="sms", conversation_id=conversation.pk if conversation else None)
    return run_tool(tool_name, json.dumps(arguments), context=context, call_id="call_1"), context


def test_the_registry_offers_exactly_the_contracted_tools_with_strict_schemas():
    schemas = tool_schemas()
    assert [s["name"] for s in schemas] == list(TOOL_NAMES)
    for schema in schemas:
        assert schema["type"] == "function" and schema["description"]
        assert schema["parameters"]["additionalProperties"] is False
        assert set(schema["parameters"]["required"]) <= set(schema["parameters"]["properties"])


def test_business_info_answers_from_the_clinic_and_its_faq(spa, conversation):
    result, _ = call("get_business_info", conversation, topic="parking")
    assert result.ok
    assert result.output["clinic"]["name"] == "Glow Med Spa"
    assert result.output["faq"] == [{"question": "Where do I park?",
                                     "answer": "Free parking is behind the building on Mercer Street.",
                                     "category": "parking"}]
    assert result.output["hours"][0] == {"day": "Monday", "hours": "9:00 AM to 5:00 PM"}
    (event,) = CommunicationEvent.objects.filter(conversation=conversation, type="tool_call")
    assert event.data["name"] == "get_business_info" and event.data["arguments"] == {"topic": "parking"}
    assert event.data["call_id"] == "call_1" and event.data["result"]["ok"] is True
    assert isinstance(event.data["duration_ms"], int)


def test_service_info_finds_a_service_by_a_loose_name_and_lists_all_otherwise(spa):
    result, _ = call("get_service_info", service="hydra facial")
    assert [s["name"] for s in result.output["services"]] == ["HydraFacial"]
    assert result.output["services"][0]["price"] == "$199" and result.output["services"][0]["providers"] == ["Dana Reyes"]
    result, _ = call("get_service_info", service="tattoo removal")
    assert result.output["matched"] is False
    assert sorted(s["name"] for s in result.output["services"]) == ["Botox", "HydraFacial"]


def test_provider_info_filters_by_service(spa):
    result, _ = call("get_provider_info", service="Botox")
    assert [p["name"] for p in result.output["providers"]] == ["Dana Reyes"]
    assert result.output["providers"][0]["working_days"][0] == "Monday"


def test_availability_lists_local_start_times_nearest_a_time_asked_for(spa):
    result, _ = call("check_availability", service="botox", date=spa.tomorrow.isoformat(), time="14:00")
    starts = [o["start"] for o in result.output["openings"]]
    assert f"{spa.tomorrow}T14:00" in [s[:16] for s in starts]
    assert all(s.endswith(("-04:00", "-05:00")) for s in starts)  # the clinic's wall clock
    assert result.output["openings_total"] > len(starts)
    assert result.output["summary"]


def test_booking_identifies_the_caller_and_books_the_slot(spa, conversation):
    result, context = call("book_appointment", conversation, service="Botox", start=f"{spa.tomorrow}T11:00",
                           name="Jane Doe", phone="212-555-0199")
    assert result.ok, result.output
    appointment = Appointment.objects.get()
    assert appointment.conversation == conversation and appointment.booked_by == "ai"
    assert appointment.start.astimezone(spa.clinic.tz).hour == 11
    conversation.refresh_from_db()
    assert conversation.customer.phone == "+12125550199"
    assert {"kind": "booked", "appointment_id": appointment.pk} in context.effects


def test_a_booking_refused_by_the_clinic_rules_is_a_plain_error_result(spa, conversation):
    result, _ = call("book_appointment", conversation, service="Botox", start=f"{spa.tomorrow}T21:00",
                     name="Jane Doe", phone="2125550199")
    assert not result.ok
    assert result.output["code"] in {"outside_hours", "provider_unavailable"} and result.output["error"]
    assert not Appointment.objects.exists()


def test_no_one_can_cancel_an_appointment_with_someone_elses_phone(spa, conversation):
    appointment = AppointmentFactory(service=spa.botox, provider=spa.dana,
                                     start=datetime.now(spa.clinic.tz) + timedelta(days=3))
    result, _ = call("cancel_appointment", conversation, appointment_id=appointment.pk, phone="646 555 0000")
    assert result.output["code"] == "not_found"
    appointment.refresh_from_db()
    assert appointment.status == "scheduled"
    result, _ = call("cancel_appointment", conversation, appointment_id=appointment.pk, phone=appointment.customer.phone)
    assert result.ok and result.output["late_cancellation"] is False
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_find_appointments_lists_the_callers_upcoming_visits(spa, conversation):
    appointment = AppointmentFactory(service=spa.botox, provider=spa.dana,
                                     start=datetime.now(spa.clinic.tz) + timedelta(days=2))
    result, _ = call("find_appointments", conversation, phone=appointment.customer.phone)
    assert [a["appointment_id"] for a in result.output["appointments"]] == [appointment.pk]
    assert Conversation.objects.get(pk=conversation.pk).customer == appointment.customer


def test_transfer_to_staff_escalates_and_leaves_a_callback_task(spa, conversation):
    result, context = call("transfer_to_staff", conversation, reason="Wants to talk about a refund")
    assert result.ok and result.output["what_happens_next"].startswith("A member of our team will call you back")
    conversation.refresh_from_db()
    assert conversation.escalated
    task = CommunicationEvent.objects.get(conversation=conversation, type="staff_task")
    assert task.data["kind"] == "callback" and task.data["urgent"] is False
    assert context.effects == [{"kind": "transfer", "urgent": False, "reason": "Wants to talk about a refund"}]


def test_bad_calls_are_error_results_not_exceptions(spa, conversation):
    result, _ = call("teleport", conversation)
    assert result.output == {"ok": False, "code": "unknown_tool", "error": "There is no tool called teleport."}
    result, _ = call("get_service_info", conversation, colour="blue")
    assert result.output["code"] == "invalid_arguments"
    result, _ = call("book_appointment", conversation, service="Botox")
    assert result.output["code"] == "invalid_arguments" and "start" in result.output["error"]
    bad_json = run_tool("get_service_info", "{not json", context=ToolContext(channel="sms"), call_id="c")
    assert bad_json.output["code"] == "invalid_arguments"
    unknown_phone, _ = call("find_appointments", conversation, phone="not a number")
    assert unknown_phone.output["code"] == "invalid_phone"
