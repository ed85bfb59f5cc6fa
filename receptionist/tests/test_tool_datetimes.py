"""Every tool that takes a date or a time takes back what check_availability hands out, and says what it expected."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from receptionist.tools import ToolContext, run_tool
from scheduling.models import Appointment
from scheduling.tests.factories import AppointmentFactory, ClosureFactory, glow_med_spa

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=NY)  # a Monday morning, before the clinic opens
TUESDAY = "2026-12-01"


@pytest.fixture
def spa(db):
    with time_machine.travel(NOW, tick=False):
        yield glow_med_spa()


def call(tool_name, **arguments):
    return run_tool(tool_name, json.dumps(arguments), context=ToolContext(channel="sms"), call_id="call_1").output


def starts(output, key="openings"):
    return [opening["start"] for opening in output[key]]


def test_an_opening_passed_back_as_the_time_names_its_day_and_its_hour(spa):
    offered = call("check_availability", service="Botox", date=TUESDAY)
    afternoon = next(s for s in starts(offered) if s.startswith(f"{TUESDAY}T14:"))
    assert afternoon.endswith("-05:00")  # handed out as an ISO datetime in the clinic's zone

    nearest = call("check_availability", service="Botox", time=afternoon)
    assert nearest["ok"], nearest
    assert nearest["start_date"] == nearest["end_date"] == TUESDAY
    assert afternoon in starts(nearest)
    assert min(abs(int(s[11:13]) - 14) for s in starts(nearest)) == 0 and max(int(s[11:13]) for s in starts(nearest)) >= 15


def test_an_opening_passed_back_as_a_date_or_a_range_reads_as_its_day(spa):
    opening = starts(call("check_availability", service="Botox", date=TUESDAY))[0]

    assert call("check_availability", service="Botox", date=opening)["start_date"] == TUESDAY
    ranged = call("check_availability", service="Botox", start_date=opening, end_date="2026-12-03T16:00-05:00")
    assert (ranged["start_date"], ranged["end_date"]) == (TUESDAY, "2026-12-03")


def test_a_time_in_another_zone_is_read_on_the_clinics_clock(spa):
    # 19:00 UTC is 2 PM in New York in December.
    output = call("check_availability", service="Botox", date=TUESDAY, time="2026-12-01T19:00Z")
    assert output["ok"] and f"{TUESDAY}T14:00-05:00" in starts(output)
    assert f"{TUESDAY}T14:00-05:00" in starts(call("check_availability", service="Botox", date=TUESDAY,
                                                   time="2:00 PM"))


def test_a_start_from_check_availability_books_as_handed_out(spa):
    opening = next(s for s in starts(call("check_availability", service="HydraFacial", date=TUESDAY))
                   if s.startswith(f"{TUESDAY}T11:"))

    booked = call("book_appointment", service="HydraFacial", start=opening, name="Dana Whitfield",
                  phone="917 555 0142")

    assert booked["ok"], booked
    appointment = Appointment.objects.get()
    assert appointment.start == datetime.fromisoformat(opening)
    assert booked["appointment"]["start"] == opening


def test_a_start_said_as_a_date_and_a_twelve_hour_time_books_on_the_clinics_clock(spa):
    booked = call("book_appointment", service="Botox", start=f"{TUESDAY} 2:30 PM", name="Sam Lee",
                  phone="646 555 0123")
    assert booked["ok"], booked
    assert Appointment.objects.get().start == datetime(2026, 12, 1, 14, 30, tzinfo=NY)


def test_a_reschedule_takes_an_opening_as_handed_out(spa):
    appointment = AppointmentFactory(service=spa.botox, provider=spa.dana, start=datetime(2026, 12, 2, 10, tzinfo=NY))
    opening = starts(call("check_availability", service="Botox", date="2026-12-03", time="15:00"))[0]

    moved = call("reschedule_appointment", appointment_id=appointment.pk, phone=appointment.customer.phone,
                 start=opening)

    assert moved["ok"], moved
    appointment.refresh_from_db()
    assert appointment.start == datetime.fromisoformat(opening)


@pytest.mark.parametrize(("tool_name", "arguments", "code", "expected"), [
    ("check_availability", {"service": "Botox", "date": "next week"}, "invalid_date", "use YYYY-MM-DD"),
    ("check_availability", {"service": "Botox", "start_date": "2026-13-01"}, "invalid_date", "use YYYY-MM-DD"),
    ("check_availability", {"service": "Botox", "date": TUESDAY, "time": "half past two"}, "invalid_time",
     "use HH:MM on a 24-hour clock"),
    ("check_availability", {"service": "Botox", "date": TUESDAY, "time": "25:00"}, "invalid_time", "use HH:MM"),
    ("book_appointment", {"service": "Botox", "start": TUESDAY, "name": "Sam Lee", "phone": "6465550123"},
     "invalid_start", "is a date without a time; use YYYY-MM-DDTHH:MM"),
    ("book_appointment", {"service": "Botox", "start": "Tuesday at 2", "name": "Sam Lee", "phone": "6465550123"},
     "invalid_start", "is not a date and time; use YYYY-MM-DDTHH:MM"),
    ("book_appointment", {"service": "Botox", "start": "0001-01-01T09:00-05:00", "name": "Sam Lee",
                          "phone": "6465550123"}, "invalid_date", "not in a year we can book"),
])
def test_what_a_tool_cannot_read_is_refused_with_what_it_expected(spa, tool_name, arguments, code, expected):
    output = call(tool_name, **arguments)
    assert output["ok"] is False and output["code"] == code, output
    assert expected in output["error"]
    if code != "invalid_date" or tool_name == "check_availability":
        assert "2026-12-01T09:00-05:00" in output["error"]  # an example of the form the tools hand out
    assert not Appointment.objects.exists()


def test_a_day_with_nothing_carries_the_nearest_openings_and_says_them(spa):
    ClosureFactory(date=datetime(2026, 12, 1).date(), reason="Staff training")

    output = call("check_availability", service="HydraFacial", date=TUESDAY, part_of_day="afternoon")

    assert output["ok"] and output["openings"] == []
    assert starts(output, "nearest_openings") == ["2026-11-30T12:00-05:00", "2026-12-02T12:00-05:00",
                                                  "2026-12-03T12:00-05:00"]
    assert output["summary"] == (
        "There are no openings for HydraFacial tomorrow in the afternoon. The nearest: today at 12 PM, "
        "Wednesday, December 2 at 12 PM and Thursday, December 3 at 12 PM with Dana Reyes."
    )
    # The nearest openings book as handed out.
    booked = call("book_appointment", service="HydraFacial", start=starts(output, "nearest_openings")[1],
                  name="Dana Whitfield", phone="917 555 0142")
    assert booked["ok"] and Appointment.objects.get().start == datetime(2026, 12, 2, 12, tzinfo=NY)


def test_the_nearest_openings_are_those_nearest_the_time_asked_for(spa):
    ClosureFactory(date=datetime(2026, 12, 1).date(), reason="Staff training")
    AppointmentFactory(service=spa.hydrafacial, provider=spa.dana, start=datetime(2026, 12, 2, 15, tzinfo=NY))

    output = call("check_availability", service="HydraFacial", date=TUESDAY, time="15:00")

    # Wednesday's 3 PM is taken (to 4:15 PM with its buffer): 2 PM is the nearest that day.
    assert starts(output, "nearest_openings") == ["2026-11-30T15:00-05:00", "2026-12-02T14:00-05:00",
                                                  "2026-12-03T15:00-05:00"]
    assert output["summary"].endswith("The nearest: today at 3 PM, Wednesday, December 2 at 2 PM and Thursday, "
                                      "December 3 at 3 PM with Dana Reyes.")


def test_the_instructions_tell_the_model_to_offer_the_nearest_openings(spa):
    from receptionist.prompt import build_instructions

    assert "offer its nearest_openings" in build_instructions(channel="voice")
