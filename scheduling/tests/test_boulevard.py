"""The Boulevard backend, against a local Boulevard Client API (tests/fakes/boulevard_server.py).

Nothing of ours is patched: settings point the real gql client at the fake, which validates every
document against a schema written from the SDK's types. Each test ends by checking that no
document Ava sent was invalid.
"""

from datetime import date

import pytest
import requests
import time_machine
from celery.exceptions import Retry
from django.core.cache import cache
from django.core.management import call_command

from communications.models import OutboundMessage
from communications.tests.factories import CustomerFactory
from scheduling.availability import find_availability
from scheduling.exceptions import BookingRefused, CalendarUnavailable, SlotTaken
from scheduling.models import Appointment, ClinicSettings, Provider, Service
from scheduling.services import book_appointment, cancel_appointment, reschedule_appointment
from scheduling.tests.conftest import at
from tests.fakes.boulevard_server import API_KEY, BUSINESS_ID, LOCATION_ID, FakeBoulevard

pytestmark = pytest.mark.django_db

NOW = at(2026, 3, 1, 8)  # a Sunday morning in New York
MONDAY = date(2026, 3, 2)
BOOKING_URL = "https://book.example.com/glow"


@pytest.fixture
def fake_boulevard():
    fake = FakeBoulevard().start()
    fake.add_staff("staff-dana", "Dana", "Lee", bio="Nurse injector")
    fake.add_staff("staff-ken", "Ken", "Obi")
    fake.add_item("item-botox", "Botox", duration=30, price=30000, category="Injectables",
                  staff={"var-botox-dana": "staff-dana", "var-botox-ken": "staff-ken"})
    fake.add_item("item-laser", "Laser Hair Removal", duration=60, price=20000, category="Laser",
                  staff={"var-laser-ken": "staff-ken"}, deposit=True)
    fake.open("staff-dana", at(2026, 3, 2, 9), at(2026, 3, 2, 12))
    fake.open("staff-ken", at(2026, 3, 2, 13), at(2026, 3, 2, 17))
    yield fake
    fake.stop()
    assert fake.invalid == [], "Ava sent a document Boulevard's schema refuses"


@pytest.fixture
def boulevard(settings, clinic, fake_boulevard):
    settings.CALENDAR_BACKEND = "boulevard"
    settings.BOULEVARD_API_KEY = API_KEY
    settings.BOULEVARD_BUSINESS_ID = BUSINESS_ID
    settings.BOULEVARD_LOCATION_ID = LOCATION_ID
    settings.BOULEVARD_API_URL = fake_boulevard.api_url
    settings.BOULEVARD_TIMEOUT_SECONDS = 5.0
    settings.BOULEVARD_BOOKING_URL = BOOKING_URL
    cache.clear()
    with time_machine.travel(NOW):
        yield fake_boulevard
    cache.clear()


@pytest.fixture
def synced(boulevard):
    call_command("sync_boulevard", stdout=open("/dev/null", "w"))
    return boulevard


def botox():
    return Service.objects.get(boulevard_id="item-botox")


def provider(staff_id):
    return Provider.objects.get(boulevard_id=staff_id)


def book(service, start, **kwargs):
    kwargs.setdefault("name", "Maya Patel")
    kwargs.setdefault("phone", "+12125550100")
    return book_appointment(service=service, start=start, booked_by="ai", now=NOW, **kwargs)


# --- the fake is strict ---------------------------------------------------------------------------

def test_the_fake_refuses_a_misspelled_field_as_boulevard_would(boulevard):
    answer = requests.post(f"{boulevard.api_url}/{BUSINESS_ID}/client", auth=(API_KEY, ""), timeout=5,
                           json={"query": 'query Cart { cart(id: "x") { idd } }', "operationName": "Cart"})

    assert answer.status_code == 200
    assert "Cannot query field 'idd'" in answer.json()["errors"][0]["message"]
    boulevard.invalid.clear()


# --- catalogue sync -------------------------------------------------------------------------------

def test_the_sync_brings_services_staff_and_the_location_with_boulevard_ids(synced):
    service = botox()
    dana = provider("staff-dana")

    assert (service.name, service.duration_minutes, service.price_min, service.category) == (
        "Botox", 30, 300, Service.Category.INJECTABLES)
    assert service.boulevard_staff_variants == {"staff-dana": "var-botox-dana", "staff-ken": "var-botox-ken"}
    assert (dana.name, dana.bio) == ("Dana Lee", "Nurse injector")
    assert list(dana.services.all()) == [service]
    assert set(provider("staff-ken").services.values_list("name", flat=True)) == {"Botox", "Laser Hair Removal"}
    clinic = ClinicSettings.load()
    assert (clinic.name, clinic.phone, clinic.time_zone) == ("Glow Med Spa", "+12125550199", "America/New_York")


def test_syncing_again_updates_in_place_and_deactivates_what_boulevard_dropped(synced):
    del synced.items["item-laser"]
    synced.items["item-botox"]["price"] = 32000

    call_command("sync_boulevard", stdout=open("/dev/null", "w"))

    assert Service.objects.filter(boulevard_id="item-botox").count() == 1
    assert botox().price_min == 320
    assert Service.objects.get(boulevard_id="item-laser").is_active is False


def test_the_beat_task_syncs_and_a_boulevard_outage_changes_nothing(boulevard):
    from scheduling.tasks import sync_boulevard_catalogue

    sync_boulevard_catalogue.apply()
    assert Service.objects.filter(boulevard_id="item-botox").exists()

    boulevard.fail("CartAvailableCategories", status=503, times=10)
    boulevard.items["item-botox"]["name"] = "Renamed"
    with pytest.raises(Retry):  # tried again later, with backoff
        sync_boulevard_catalogue.apply()
    assert botox().name == "Botox"


# --- availability -------------------------------------------------------------------------------

def test_availability_comes_from_boulevard_and_is_spoken_as_before(synced):
    result = find_availability(service=botox(), date=MONDAY, now=NOW)

    starts = [(o.start.strftime("%H:%M"), o.provider.name) for o in result.openings]
    assert starts[0] == ("09:00", "Dana Lee") and starts[-1] == ("16:30", "Ken Obi")
    assert ("12:00", "Dana Lee") not in starts and ("11:30", "Dana Lee") in starts
    assert result.summary.startswith("Botox: tomorrow: morning from 9 to 11:30 AM; afternoon from 1 to 4:30 PM.")


def test_a_named_provider_gets_only_their_times(synced):
    result = find_availability(service=botox(), date=MONDAY, provider=provider("staff-ken"), now=NOW)

    assert {o.provider.name for o in result.openings} == {"Ken Obi"}
    assert result.openings[0].start == at(2026, 3, 2, 13)


def test_availability_is_cached_briefly(synced):
    find_availability(service=botox(), date=MONDAY, now=NOW)
    asked = len(synced.requests)

    find_availability(service=botox(), date=MONDAY, now=NOW)

    assert len(synced.requests) == asked


def test_a_day_with_nothing_offers_the_nearest_openings(synced):
    result = find_availability(service=botox(), date=date(2026, 3, 3), now=NOW)

    assert result.openings == []
    assert result.nearest_openings[0].start == at(2026, 3, 2, 9)
    assert "The nearest: tomorrow at 9 AM" in result.summary


def test_boulevard_down_while_reading_availability_is_a_clear_error(synced):
    synced.fail("CartBookableDates", status=503, times=2)

    with pytest.raises(CalendarUnavailable):
        find_availability(service=botox(), date=MONDAY, now=NOW)


# --- booking ----------------------------------------------------------------------------------------

def test_booking_checks_out_a_cart_and_mirrors_the_appointment(synced):
    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    remote = synced.appointments[appointment.calendar_event_id]
    assert (remote["staff_id"], remote["start"]) == ("staff-dana", at(2026, 3, 2, 10))
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
    assert appointment.metadata["boulevard"]["client_id"] == remote["client_id"]
    assert synced.clients[remote["client_id"]]["phoneNumber"] == "+12125550100"
    for operation in ("CreateCart", "AddCartBookableItem", "ReserveCartBookableItems", "CheckoutCart"):
        assert operation in synced.operations()
    # The booked time is no longer offered (the cached times were dropped).
    result = find_availability(service=botox(), date=MONDAY, provider=provider("staff-dana"), now=NOW)
    assert at(2026, 3, 2, 10) not in [o.start for o in result.openings]


def test_an_existing_boulevard_client_is_booked_as_themselves(synced):
    synced.clients["urn:blvd:Client:known"] = {"firstName": "Maya", "phoneNumber": "+12125550100"}
    maya = CustomerFactory(name="Maya Patel", phone="+12125550100", is_new_client=False)

    appointment = book(botox(), at(2026, 3, 2, 10), customer=maya)

    assert synced.appointments[appointment.calendar_event_id]["client_id"] == "urn:blvd:Client:known"


def test_a_time_taken_meanwhile_is_slot_taken_with_alternatives(synced):
    dana = provider("staff-dana")
    find_availability(service=botox(), date=MONDAY, provider=dana, now=NOW)  # 10:00 looks free, and is cached
    synced.book_elsewhere("staff-dana", "item-botox", at(2026, 3, 2, 10))

    with pytest.raises(SlotTaken) as taken:
        book(botox(), at(2026, 3, 2, 10), provider=dana)

    assert taken.value.alternatives
    assert at(2026, 3, 2, 10) not in [o.start for o in taken.value.alternatives if o.provider == dana]
    assert not Appointment.objects.exists()


def test_a_time_taken_between_reading_and_reserving_is_slot_taken_and_nothing_is_left(synced):
    original = synced.reserveCartBookableItems

    def someone_else_first(info, input):
        synced.book_elsewhere("staff-dana", "item-botox", at(2026, 3, 2, 10))
        return original(info, input)

    synced.reserveCartBookableItems = someone_else_first
    with pytest.raises(SlotTaken):
        book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    assert not Appointment.objects.exists()
    assert len(synced.appointments) == 1  # only the other booking


def test_a_lost_checkout_answer_is_asked_again_and_books_once(synced):
    synced.fail("CheckoutCart", lose_answer=True)

    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    assert synced.operations().count("CheckoutCart") == 2
    assert list(synced.appointments) == [appointment.calendar_event_id]
    assert Appointment.objects.count() == 1


def test_a_retried_booking_returns_the_first_one(synced):
    first = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))
    again = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    assert again.pk == first.pk
    assert len(synced.appointments) == 1


def test_boulevard_down_while_booking_is_a_clear_error_and_nothing_is_half_booked(synced):
    synced.fail("ReserveCartBookableItems", status=503)

    with pytest.raises(CalendarUnavailable) as down:
        book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    assert "nothing was changed" in down.value.message
    assert not Appointment.objects.exists()
    assert synced.appointments == {}


def test_a_card_required_booking_texts_the_link_and_books_nothing(synced):
    laser = Service.objects.get(boulevard_id="item-laser")

    with pytest.raises(BookingRefused) as refused:
        book(laser, at(2026, 3, 2, 13), provider=provider("staff-ken"))

    assert refused.value.code == "card_required"
    assert "texted you a link" in refused.value.message and "can't take card details" in refused.value.message
    text = OutboundMessage.objects.get()
    assert text.to == "+12125550100" and BOOKING_URL in text.body
    assert not Appointment.objects.exists()
    assert synced.appointments == {}
    assert "CheckoutCart" not in synced.operations()


# --- moving and cancelling ---------------------------------------------------------------------------

def test_rescheduling_moves_the_boulevard_appointment(synced):
    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))

    moved = reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 11), by="ai", now=NOW)

    assert moved.start == at(2026, 3, 2, 11)
    assert synced.appointments[appointment.calendar_event_id]["start"] == at(2026, 3, 2, 11)
    assert "AppointmentReschedule" in synced.operations()


def test_rescheduling_to_a_taken_time_is_slot_taken_and_changes_nothing(synced):
    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))
    synced.book_elsewhere("staff-dana", "item-botox", at(2026, 3, 2, 11))

    with pytest.raises(SlotTaken):
        reschedule_appointment(appointment=appointment, start=at(2026, 3, 2, 11), by="ai", now=NOW)

    appointment.refresh_from_db()
    assert appointment.start == at(2026, 3, 2, 10)
    assert synced.appointments[appointment.calendar_event_id]["start"] == at(2026, 3, 2, 10)


def test_cancelling_cancels_in_boulevard_and_takes_its_late_cancellation_verdict(synced):
    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))
    synced.late_cancel_hours = 48  # Boulevard's policy is stricter than the clinic's 24 hours in Ava

    cancelled = cancel_appointment(appointment=appointment, reason="Feeling unwell", by="ai", now=NOW)

    assert cancelled.status == Appointment.Status.CANCELLED
    assert cancelled.late_cancellation is True
    remote = synced.appointments[appointment.calendar_event_id]
    assert remote["cancelled"] and remote["cancellation"]["reason"] == "CLIENT_LATE_CANCEL"


def test_a_boulevard_outage_while_cancelling_leaves_the_appointment_booked(synced):
    appointment = book(botox(), at(2026, 3, 2, 10), provider=provider("staff-dana"))
    synced.fail("CancelAppointment", status=503)
    synced.fail("Appointment", status=503, times=2)

    with pytest.raises(CalendarUnavailable):
        cancel_appointment(appointment=appointment, by="ai", now=NOW)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED
