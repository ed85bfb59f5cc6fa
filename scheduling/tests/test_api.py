"""The staff API: /api/appointments (list, book, cancel, reschedule) and /api/availability."""

from datetime import datetime, time, timedelta

import pytest

from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.conftest import at
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def future_clinic(clinic):
    """Booking through the API uses the real clock: open the clinic for the coming days."""
    ClinicSettings.objects.filter(pk=1).update(min_booking_notice_minutes=0, booking_horizon_days=400)
    return clinic


@pytest.fixture
def botox(future_clinic):
    return ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)


@pytest.fixture
def dana(botox):
    return ProviderFactory(name="Dana Lee", services=[botox], weekly_hours=[(d, "09:00", "17:00") for d in range(7)])


@pytest.fixture
def slot():
    """10:00 clinic time, three days from now."""
    tz = ClinicSettings.load().tz
    return datetime.combine(datetime.now(tz).date() + timedelta(days=3), time(10), tzinfo=tz)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/appointments"),
        ("post", "/api/appointments"),
        ("post", "/api/appointments/1/cancel"),
        ("post", "/api/appointments/1/reschedule"),
        ("get", "/api/availability?service=1"),
    ],
)
def test_it_refuses_anonymous_callers_and_non_staff(client, django_user_model, method, url):
    anonymous = getattr(client, method)(url)
    client.force_login(django_user_model.objects.create_user("customer", "c@example.com"))
    not_staff = getattr(client, method)(url)

    assert anonymous.status_code in (401, 403) and not_staff.status_code == 403
    assert set(anonymous.json()) == {"error"}


def test_staff_book_an_appointment(staff_client, botox, dana, slot):
    response = staff_client.post(
        "/api/appointments",
        {"service": botox.pk, "start": slot.isoformat(), "phone": "(212) 555-0142", "name": "Ana Ruiz"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    appointment = Appointment.objects.get()
    assert response.json()["id"] == appointment.pk
    assert response.json()["start"] == slot.isoformat()
    assert response.json()["provider"] == {"id": dana.pk, "name": "Dana Lee"}
    assert appointment.booked_by == "staff" and appointment.customer.phone == "+12125550142"


def test_a_start_without_an_offset_is_the_clinics_wall_clock(staff_client, botox, dana, slot):
    response = staff_client.post(
        "/api/appointments",
        {"service": botox.pk, "start": slot.strftime("%Y-%m-%dT%H:%M:%S"), "phone": "2125550142"},
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert Appointment.objects.get().start == slot


def test_a_taken_slot_answers_409_with_alternatives(staff_client, botox, dana, slot):
    AppointmentFactory(service=botox, provider=dana, start=slot)

    response = staff_client.post(
        "/api/appointments", {"service": botox.pk, "start": slot.isoformat(), "phone": "2125550142"},
        content_type="application/json",
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "slot_taken" and error["message"] == "That time was just taken."
    alternatives = error["details"]["alternatives"]
    assert len(alternatives) == 3 and all(a["provider"]["id"] == dana.pk for a in alternatives)
    assert slot.isoformat() not in [a["start"] for a in alternatives]
    assert Appointment.objects.count() == 1


def test_a_refusal_answers_400_with_its_code(staff_client, botox, dana, slot):
    botox.requires_consultation = True
    botox.save()
    newcomer = CustomerFactory(is_new_client=True)

    response = staff_client.post(
        "/api/appointments", {"service": botox.pk, "start": slot.isoformat(), "customer": newcomer.pk},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "consultation_required"


def test_a_booking_needs_someone_to_book_for(staff_client, botox, dana, slot):
    response = staff_client.post("/api/appointments", {"service": botox.pk, "start": slot.isoformat()},
                                  content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and "phone" in response.json()["error"]["details"]


def test_staff_list_appointments_with_filters(staff_client, botox, dana):
    alex = ProviderFactory(name="Alex Kim", services=[botox])
    maya = CustomerFactory(phone="+12125550100")
    first = AppointmentFactory(service=botox, provider=dana, customer=maya, start=at(2026, 3, 2, 10))
    AppointmentFactory(service=botox, provider=alex, start=at(2026, 3, 2, 11))
    AppointmentFactory(service=botox, provider=dana, start=at(2026, 3, 3, 0, 30))  # still 3 March in New York
    AppointmentFactory(service=botox, provider=dana, start=at(2026, 3, 2, 15), status="cancelled")

    def ids(query):
        response = staff_client.get(f"/api/appointments?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    everything = staff_client.get("/api/appointments").json()
    assert everything["count"] == 4 and everything["results"][0]["start"] == "2026-03-02T10:00:00-05:00"
    assert len(ids("start_date=2026-03-02&end_date=2026-03-02")) == 3
    assert len(ids(f"provider={dana.pk}&status=scheduled")) == 2
    assert ids(f"customer={maya.pk}") == [first.pk] == ids("phone=(212) 555-0100")
    assert len(ids("page_size=2")) == 2
    assert staff_client.get("/api/appointments?status=lost").status_code == 400
    assert staff_client.get("/api/appointments?start_date=tuesday").status_code == 400


def test_staff_cancel_and_reschedule(staff_client, botox, dana, slot):
    appointment = AppointmentFactory(service=botox, provider=dana, start=slot)
    later = slot.replace(hour=14)

    moved = staff_client.post(f"/api/appointments/{appointment.pk}/reschedule", {"start": later.isoformat()},
                              content_type="application/json")
    cancelled = staff_client.post(f"/api/appointments/{appointment.pk}/cancel", {"reason": "Called in"},
                                  content_type="application/json")

    assert moved.status_code == 200 and moved.json()["start"] == later.isoformat()
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    appointment.refresh_from_db()
    assert appointment.start == later and appointment.cancellation_reason == "Called in"
    assert appointment.cancelled_by == "staff"


def test_reschedule_into_a_taken_slot_answers_409(staff_client, botox, dana, slot):
    appointment = AppointmentFactory(service=botox, provider=dana, start=slot)
    AppointmentFactory(service=botox, provider=dana, start=slot.replace(hour=14))

    response = staff_client.post(f"/api/appointments/{appointment.pk}/reschedule",
                                 {"start": slot.replace(hour=14).isoformat(), "provider": dana.pk},
                                 content_type="application/json")

    assert response.status_code == 409 and response.json()["error"]["details"]["alternatives"]
    appointment.refresh_from_db()
    assert appointment.start == slot


def test_an_unknown_appointment_is_404(staff_client, future_clinic):
    response = staff_client.post("/api/appointments/999/cancel", {}, content_type="application/json")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_staff_ask_for_availability(staff_client, botox, dana, slot):
    response = staff_client.get(f"/api/availability?service={botox.slug}&date={slot.date()}&provider={dana.pk}")

    assert response.status_code == 200
    data = response.json()
    assert data["openings"][0]["start"] == slot.replace(hour=9).isoformat()
    assert data["openings"][0]["provider"] == {"id": dana.pk, "name": "Dana Lee"}
    assert data["summary"].startswith("Botox")
    assert staff_client.get(f"/api/availability?service={botox.pk}&part_of_day=brunch").status_code == 400
    assert staff_client.get("/api/availability").status_code == 400
    assert staff_client.get("/api/availability?service=nope").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "service=%C2%A4%00x&start_date=%C3%BF",  # a NUL and junk: PostgreSQL refuses NUL in a string
        "service=1&provider=99999999999999999999999",
        "service=%C2%B2",  # "²".isdigit() is True, int("²") is not
        "service=1&start_date=0001-01-01&end_date=9999-12-31",
        "service=1&date=2026-02-30",
    ],
)
def test_junk_availability_queries_are_answered_400_or_404_not_500(staff_client, botox, dana, query):
    response = staff_client.get(f"/api/availability?{query}")

    assert response.status_code in (400, 404) and set(response.json()) == {"error"}


def test_junk_appointment_filters_and_ids_are_not_server_errors(staff_client, botox, dana):
    assert staff_client.get("/api/appointments?end_date=9999-12-31").status_code == 400
    assert staff_client.get("/api/appointments?provider=%C2%B2").status_code == 400
    assert staff_client.post("/api/appointments/99999999999999999999999/cancel").status_code == 404
    response = staff_client.post("/api/appointments", {"service": botox.pk, "start": "0001-01-01T00:00:00Z",
                                                       "phone": "2125550100"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_datetime"
