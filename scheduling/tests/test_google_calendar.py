"""The Google Calendar backend, against a local server speaking Calendar v3 (scheduling/tests/fake_google.py).

Nothing of ours is patched: settings point the real google-api-python-client and google-auth
at the fake, exactly as GOOGLE_CALENDAR_API_URL and the credentials' token_uri would in production.
"""

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ImproperlyConfigured

from communications.tests.factories import CustomerFactory
from scheduling.availability import find_availability
from scheduling.calendars import get_calendar
from scheduling.calendars.google import GoogleCalendar
from scheduling.exceptions import CalendarUnavailable, SlotTaken
from scheduling.models import Appointment
from scheduling.services import book_appointment, cancel_appointment, reschedule_appointment
from scheduling.tests.conftest import at
from scheduling.tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 1, 8)
MONDAY_10 = at(2026, 3, 2, 10)
CLINIC_CALENDAR = "clinic@example.com"


@pytest.fixture
def botox(clinic):
    return ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)


@pytest.fixture
def dana(botox):
    return ProviderFactory(name="Dana Lee", services=[botox])


@pytest.fixture
def maya(db):
    return CustomerFactory(name="Maya Patel", phone="+12125550100", is_new_client=False)


def book(service, start, **kwargs):
    return book_appointment(service=service, start=start, booked_by="ai", now=NOW, **kwargs)


def test_the_client_builds_from_the_bundled_discovery_document_without_network(google_backend):
    calendar = get_calendar()

    assert isinstance(calendar, GoogleCalendar)
    assert google_backend.requests == []  # building asked nothing of the network
    assert get_calendar() is calendar  # one client per thread, reused


def test_booking_creates_one_event_carrying_the_appointment_id(google_backend, botox, dana, maya):
    appointment = book(botox, MONDAY_10, customer=maya)

    appointment.refresh_from_db()
    [event] = google_backend.events_in(CLINIC_CALENDAR)
    assert appointment.calendar_event_id == event["id"]
    assert event["extendedProperties"]["private"]["ava_appointment_id"] == str(appointment.pk)
    assert event["start"]["dateTime"] == "2026-03-02T10:00:00-05:00"
    assert event["end"]["dateTime"] == "2026-03-02T10:45:00-05:00"  # the provider is taken through the buffer
    assert event["start"]["timeZone"] == "America/New_York"
    assert event["summary"] == "Botox: Maya Patel"
    assert google_backend.requests[0][1] == "insert"  # the token file's token was sent (the fake checks it)


def test_reschedule_moves_the_event_and_cancel_deletes_it(google_backend, botox, dana, maya):
    appointment = book(botox, MONDAY_10, customer=maya)

    reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), by="ai", now=NOW)
    [event] = google_backend.events_in(CLINIC_CALENDAR)
    assert event["start"]["dateTime"] == "2026-03-02T14:00:00-05:00"

    cancel_appointment(appointment=appointment, by="ai", now=NOW)
    assert google_backend.events_in(CLINIC_CALENDAR) == []


def test_a_retried_insert_finds_its_own_event_instead_of_making_a_second(google_backend, botox, dana, maya):
    # Google stores the event, but its answer is lost (a 503 after the change landed).
    google_backend.fail("insert", status=503, after_change=True)

    appointment = book(botox, MONDAY_10, customer=maya)

    events = google_backend.events_in(CLINIC_CALENDAR)
    assert len(events) == 1
    assert len(google_backend.operations("insert")) == 1  # it looked it up, it did not insert again
    assert google_backend.operations("list")
    appointment.refresh_from_db()
    assert appointment.calendar_event_id == events[0]["id"]


def test_an_insert_that_failed_cleanly_is_tried_once_more(google_backend, botox, dana, maya):
    google_backend.fail("insert", status=500)

    appointment = book(botox, MONDAY_10, customer=maya)

    assert len(google_backend.events_in(CLINIC_CALENDAR)) == 1
    assert Appointment.objects.get().calendar_event_id == appointment.calendar_event_id != ""


def test_when_google_fails_mid_booking_nothing_is_left_half_made(google_backend, botox, dana, maya):
    google_backend.fail("insert", status=503, times=2)

    with pytest.raises(CalendarUnavailable) as failed:
        book(botox, MONDAY_10, customer=maya)

    assert failed.value.code == "calendar_unavailable"
    assert not Appointment.objects.exists()
    assert google_backend.events_in(CLINIC_CALENDAR) == []
    # And the time is still there for the next try.
    assert book(botox, MONDAY_10, customer=maya).start == MONDAY_10


def test_a_lost_answer_then_a_failed_retry_removes_the_event_that_landed(google_backend, botox, dana, maya):
    google_backend.fail("insert", status=503, after_change=True)  # landed, answer lost
    google_backend.fail("list", status=503, times=2)  # the lookup fails, so it cannot know

    with pytest.raises(CalendarUnavailable):
        book(botox, MONDAY_10, customer=maya)

    # The caller heard "not booked", so Google must not show it either: the clean-up found it by the id.
    assert not Appointment.objects.exists()
    assert google_backend.events_in(CLINIC_CALENDAR) == []
    assert google_backend.operations("delete")


def test_a_failed_reschedule_leaves_the_appointment_and_its_event_where_they_were(google_backend, botox, dana, maya):
    appointment = book(botox, MONDAY_10, customer=maya)
    google_backend.fail("patch", status=503, times=2)

    with pytest.raises(CalendarUnavailable):
        reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 14), by="ai", now=NOW)

    appointment.refresh_from_db()
    assert appointment.start == MONDAY_10
    [event] = google_backend.events_in(CLINIC_CALENDAR)
    assert event["start"]["dateTime"] == "2026-03-02T10:00:00-05:00"


def test_a_failed_cancel_keeps_the_appointment(google_backend, botox, dana, maya):
    appointment = book(botox, MONDAY_10, customer=maya)
    google_backend.fail("delete", status=500, times=2)

    with pytest.raises(CalendarUnavailable):
        cancel_appointment(appointment=appointment, by="ai", now=NOW)

    appointment.refresh_from_db()
    assert appointment.status == "scheduled"
    assert len(google_backend.events_in(CLINIC_CALENDAR)) == 1


def test_busy_times_on_a_providers_own_calendar_block_openings(google_backend, botox, dana, maya):
    dana.calendar_id = "dana@example.com"
    dana.save()
    google_backend.busy["dana@example.com"].append({"start": "2026-03-02T15:00:00Z", "end": "2026-03-02T16:00:00Z"})

    result = find_availability(service=botox, date=MONDAY_10.date(), now=NOW)

    times = {o.start.strftime("%H:%M") for o in result.openings}
    assert "09:15" in times and "09:30" not in times and "10:45" not in times and "11:00" in times
    with pytest.raises(SlotTaken):
        book(botox, MONDAY_10, customer=maya)
    appointment = book(botox, at(2026, 3, 2, 11), customer=maya)
    assert [e["id"] for e in google_backend.events_in("dana@example.com")] == [appointment.calendar_event_id]


def test_an_appointment_can_move_within_its_own_busy_time_on_google(google_backend, botox, dana, maya):
    dana.calendar_id = "dana@example.com"
    dana.save()
    appointment = book(botox, MONDAY_10, customer=maya)
    # Google now reports the appointment's own event as busy, as it would.
    google_backend.busy["dana@example.com"].append({"start": "2026-03-02T15:00:00Z", "end": "2026-03-02T15:45:00Z"})

    moved = reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 10, 15), by="ai", now=NOW)

    assert moved.start == at(2026, 3, 2, 10, 15)


def test_when_free_busy_fails_availability_says_the_calendar_is_unavailable(google_backend, botox, dana):
    dana.calendar_id = "dana@example.com"
    dana.save()
    google_backend.fail("freebusy", status=500, times=2)

    with pytest.raises(CalendarUnavailable):
        find_availability(service=botox, date=MONDAY_10.date(), now=NOW)


def test_a_calendar_google_will_not_read_is_an_error_not_an_empty_calendar(google_backend, botox, dana):
    dana.calendar_id = "missing@example.com"
    dana.save()
    google_backend.unreadable.add("missing@example.com")

    with pytest.raises(CalendarUnavailable):
        find_availability(service=botox, date=MONDAY_10.date(), now=NOW)


def test_service_account_credentials_work_too(google_backend, settings, tmp_path, botox, dana, maya):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    account = tmp_path / "service-account.json"
    account.write_text(json.dumps({
        "type": "service_account", "project_id": "ava-test", "private_key_id": "k1", "private_key": pem.decode(),
        "client_email": "ava@ava-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": f"{google_backend.url}/token",
    }))
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = str(account)
    settings.GOOGLE_OAUTH_TOKEN_FILE = ""

    book(botox, MONDAY_10, customer=maya)

    assert google_backend.tokens_issued == 1
    assert len(google_backend.events_in(CLINIC_CALENDAR)) == 1


def test_missing_credentials_are_a_configuration_error(settings):
    settings.CALENDAR_BACKEND = "google"
    settings.GOOGLE_CALENDAR_ID = CLINIC_CALENDAR
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    settings.GOOGLE_OAUTH_TOKEN_FILE = ""

    with pytest.raises(ImproperlyConfigured):
        get_calendar()


def test_an_unreachable_google_is_calendar_unavailable(settings, google_backend, botox, dana, maya):
    google_backend.stop()

    with pytest.raises(CalendarUnavailable):
        book(botox, MONDAY_10 + timedelta(hours=1), customer=maya)
    assert not Appointment.objects.exists()


def test_moving_to_a_provider_on_another_calendar_moves_the_event_there(google_backend, botox, dana, maya):
    dana.calendar_id = "dana@example.com"
    dana.save()
    alex = ProviderFactory(name="Alex Kim", services=[botox])
    appointment = book(botox, MONDAY_10, provider=dana, customer=maya)

    moved = reschedule_appointment(appointment=appointment, start=MONDAY_10, provider=alex, by="staff", now=NOW)

    assert google_backend.events_in("dana@example.com") == []
    [event] = google_backend.events_in(CLINIC_CALENDAR)
    moved.refresh_from_db()
    assert moved.provider == alex and moved.calendar_event_id == event["id"]


def test_forgetting_a_customer_takes_their_name_and_phone_out_of_the_calendar(
        google_backend, botox, dana, maya, django_capture_on_commit_callbacks):
    from communications.services import forget_customer

    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(botox, MONDAY_10, customer=maya)
    [event] = google_backend.events_in(CLINIC_CALENDAR)
    assert "Maya Patel" in event["summary"] and "+12125550100" in event["description"]

    with django_capture_on_commit_callbacks(execute=True):
        forget_customer(customer=maya)

    [event] = google_backend.events_in(CLINIC_CALENDAR)
    assert "Maya" not in event["summary"] + event["description"]
    assert "5550100" not in event["description"]
    assert event["extendedProperties"]["private"]["ava_appointment_id"] == str(appointment.pk)
