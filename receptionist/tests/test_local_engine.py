"""The embedded default: no OPENAI_API_KEY, the built-in engine answers typed turns through the same relay and tools."""

import pytest

from communications.models import CommunicationEvent, Conversation, Message
from receptionist.engines.local_brain import OFFLINE_AUDIO_LINE, parse_date, parse_time
from scheduling.models import Appointment

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def offline(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


async def test_the_offline_demo_greets_says_it_cannot_hear_and_answers_typed_questions(spa, offline, open_call):
    page = await open_call()
    assert page.session["offline_demo"] is True and page.session["engine"] == "local"
    assert (await page.said()).startswith("Thank you for calling Glow Med Spa. I'm Ava.")

    await page.speak(600)
    await page.send(type="commit")
    assert await page.said() == OFFLINE_AUDIO_LINE

    await page.send(type="text", text="What are your opening hours?")
    hours = await page.said()
    assert hours.startswith("We're open Monday 9:00 AM to 5:00 PM")
    await page.send(type="text", text="How much is a HydraFacial?")
    assert await page.said() == "HydraFacial takes about 60 minutes and is $199. Would you like to book it?"
    await page.send(type="text", text="Where do I park?")
    assert await page.said() == "Free parking is behind the building on Mercer Street."
    await page.send(type="text", text="Are you ChatGPT?")
    assert (await page.said()).startswith("I'm Ava, the virtual receptionist at Glow Med Spa.")
    await page.hang_up()

    messages = await db(lambda: list(Message.objects.filter(conversation_id=page.session["conversation_id"])))
    assert [m.author for m in messages] == ["assistant", "assistant", "customer", "assistant", "customer",
                                            "assistant", "customer", "assistant", "customer", "assistant"]
    names = await db(lambda: sorted({e.data["name"] for e in CommunicationEvent.objects.filter(type="tool_call")}))
    assert names == ["get_business_info", "get_current_datetime", "get_service_info"]


async def test_the_offline_demo_books_through_the_same_tools(spa, offline, open_call):
    page = await open_call()
    await page.said()
    await page.send(type="text", text="I'd like to book Botox tomorrow")
    offer = await page.said()
    assert offer.startswith(f"On {spa.tomorrow:%A, %B} {spa.tomorrow.day} I have 9 AM, ")
    await page.send(type="text", text="10am please")
    assert await page.said() == "And what name and phone number should I put the booking under?"
    await page.send(type="text", text="My name is Jane Doe, 212 555 0199")
    confirmation = await page.said()
    assert confirmation.startswith(f"You're booked: Botox with Dana Reyes on {spa.tomorrow:%A, %B} {spa.tomorrow.day} at 10 AM.")
    await page.hang_up()

    appointment = await db(lambda: Appointment.objects.select_related("customer").get())
    local = appointment.start.astimezone(spa.clinic.tz)
    assert (local.date(), local.hour) == (spa.tomorrow, 10)
    assert appointment.customer.name == "Jane Doe" and appointment.customer.phone == "+12125550199"
    conversation = await db(lambda: Conversation.objects.get(pk=page.session["conversation_id"]))
    assert conversation.customer_id == appointment.customer_id
    calls = await db(lambda: [e.data["name"] for e in CommunicationEvent.objects.filter(type="tool_call")])
    assert calls[-2:] == ["check_availability", "book_appointment"]


async def test_the_offline_demo_cancels_and_hands_emergencies_to_staff(spa, offline, open_call):
    page = await open_call()
    await page.said()
    await page.send(type="text", text=f"Book a HydraFacial on {spa.tomorrow:%B} {spa.tomorrow.day} at 2pm, "
                                      "I'm Sam Lee, 646 555 0123")
    assert (await page.said()).startswith("You're booked: HydraFacial")
    await page.send(type="text", text="Actually please cancel my appointment, my number is 646 555 0123")
    assert (await page.said()).startswith("Done: your HydraFacial on")
    await page.send(type="text", text="Also I had filler last week and now I have trouble breathing")
    assert await page.said() == "If this is urgent, please call 911 now. I'm passing this to our staff right away."
    assert (await page.said()).startswith("If this is an emergency, call 911 now. A member of our team will call")
    await page.hang_up()

    appointment = await db(Appointment.objects.get)
    assert appointment.status == "cancelled" and appointment.late_cancellation is True
    conversation = await db(lambda: Conversation.objects.get(pk=page.session["conversation_id"]))
    assert conversation.escalated


def test_the_local_brain_reads_days_and_times_the_way_callers_say_them():
    from datetime import date

    wednesday = date(2025, 6, 4)
    assert parse_date("tomorrow please", wednesday) == date(2025, 6, 5)
    assert parse_date("on Monday", wednesday) == date(2025, 6, 9)
    assert parse_date("this wednesday", wednesday) == date(2025, 6, 11)
    assert parse_date("June 20th", wednesday) == date(2025, 6, 20)
    assert parse_date("3rd of March", wednesday) == date(2026, 3, 3)
    assert parse_date("2025-07-01", wednesday) == date(2025, 7, 1)
    assert parse_date("whenever", wednesday) is None
    assert parse_time("10am") == (10, 0)
    assert parse_time("at 3") == (15, 0)
    assert parse_time("2:30 p.m.") == (14, 30)
    assert parse_time("15:45") == (15, 45)
    assert parse_time("noon") == (12, 0)
    assert parse_time("no time here") is None
