"""The offline demo keeps a booking's thread: a day with nothing offers the nearest openings, and "the first one",
"the 2:30", a name and a phone, said in later turns, book what was offered."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from communications.models import Channel, Conversation, Message
from communications.tests.messaging_fixtures import post_signed, text_params, twilio, twilio_webhooks  # noqa: F401
from demo.catalogue import ensure_catalogue
from scheduling.models import Appointment, Service

from .conftest import db

NY = ZoneInfo("America/New_York")
# A Thursday morning. The demo clinic's only HydraFacial provider, Hannah Cole, is off on Tuesdays.
NOW = datetime(2026, 10, 1, 9, 40, tzinfo=NY)


@pytest.fixture
def offline(settings):
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


@pytest.fixture
def demo_clinic():
    # The clock runs on from NOW (the call's timeouts and tokens need it to move).
    with time_machine.travel(NOW, tick=True):
        ensure_catalogue(today=NOW.date(), overwrite_clinic=True)
        yield


@pytest.mark.django_db(transaction=True)
async def test_the_offline_demo_offers_the_nearest_openings_and_books_the_first_one(demo_clinic, offline,
                                                                                   open_call):
    page = await open_call()
    await page.said()

    await page.send(type="text", text="I'd like to book a HydraFacial next Tuesday afternoon")
    assert await page.said() == (
        "I'm sorry, there are no openings for HydraFacial on Tuesday, October 6 in the afternoon. The nearest I have "
        "are Monday, October 5 at 12 PM, Wednesday, October 7 at 12 PM and Thursday, October 8 at 12 PM. "
        "Would one of those work?")
    await page.send(type="text", text="The first one works. My name is Dana Whitfield, phone 917 555 0142")
    assert await page.said() == ("You're booked: HydraFacial with Hannah Cole on Monday, October 5 at 12 PM. We look "
                                 "forward to seeing you! Is there anything else I can help with?")
    await page.hang_up()

    appointment = await db(lambda: Appointment.objects.select_related("customer", "service", "provider").get())
    assert appointment.start == datetime(2026, 10, 5, 12, tzinfo=NY)
    assert (appointment.service.name, appointment.provider.name) == ("HydraFacial", "Hannah Cole")
    assert (appointment.customer.name, appointment.customer.phone) == ("Dana Whitfield", "+19175550142")
    assert appointment.booked_by == Appointment.BookedBy.AI
    assert str(appointment.conversation_id) == page.session["conversation_id"]


@pytest.mark.django_db(transaction=True)
async def test_the_offline_demo_books_a_day_picked_from_the_nearest_ones_in_later_turns(demo_clinic, offline,
                                                                                       open_call):
    page = await open_call()
    await page.said()

    await page.send(type="text", text="Can I book a HydraFacial on Tuesday?")
    assert (await page.said()).endswith("Monday, October 5 at 10 AM, Wednesday, October 7 at 9 AM and Thursday, "
                                        "October 8 at 10 AM. Would one of those work?")
    await page.send(type="text", text="Wednesday is good")
    assert await page.said() == "And what name and phone number should I put the booking under?"
    await page.send(type="text", text="I'm Sam Lee")
    assert await page.said() == "And what phone number should I put the booking under?"
    await page.send(type="text", text="646 555 0123")
    assert (await page.said()).startswith("You're booked: HydraFacial with Hannah Cole on Wednesday, October 7 at 9 AM.")
    await page.hang_up()

    appointment = await db(lambda: Appointment.objects.select_related("customer").get())
    assert appointment.start == datetime(2026, 10, 7, 9, tzinfo=NY)
    assert appointment.customer.phone == "+16465550123"


@pytest.mark.django_db
def test_an_sms_thread_books_the_230_it_asks_for_after_the_offer(client, twilio, demo_clinic, offline,  # noqa: F811
                                                                django_capture_on_commit_callbacks):
    def text_in(body, n):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_signed(client, "/webhooks/twilio/sms", text_params(body, sid=f"SM{n:032d}")).status_code == 200
        return Message.objects.filter(author=Message.Author.ASSISTANT).order_by("position").last().content

    offer = text_in("Could I book a HydraFacial on Wednesday afternoon?", 1)
    assert offer == "On Wednesday, October 7 I have 12 PM, 12:15 PM and 12:45 PM. Which time would you like?"
    # The number is the one they text from; only the name is asked for, and a bare name answers it.
    assert text_in("Do you have the 2:30 instead?", 2) == "And what name should I put the booking under?"
    booked = text_in("Maya Patel", 3)
    assert booked.startswith("You're booked: HydraFacial with Hannah Cole on Wednesday, October 7 at 2:30 PM.")

    appointment = Appointment.objects.get()
    assert appointment.start == datetime(2026, 10, 7, 14, 30, tzinfo=NY)
    assert appointment.service == Service.objects.get(slug="hydrafacial")
    assert appointment.conversation == Conversation.objects.get(channel=Channel.SMS)
    assert (appointment.customer.name, appointment.customer.phone) == ("Maya Patel", "+12125550142")
