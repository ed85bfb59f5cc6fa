"""Staff open the server's address, find a customer by the number they were given, and read it as they dial it.

Times are relative to now (a conversation an hour ago, an appointment three days ahead), so what
the page shows does not depend on the hour the suite runs.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.models import Channel, Customer
from communications.services import add_message, record_event, start_conversation
from communications.tests.factories import CustomerFactory
from scheduling.tests.factories import AppointmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_a_customer_by_phone_from_the_server_address(page, live_asgi, staff_login):
    dana = Customer.objects.create(name="Dana Whitfield", phone="+12015550107", email="dana@example.com")
    conversation = start_conversation(channel=Channel.SMS, customer=dana, at=timezone.now() - timedelta(hours=1))
    add_message(conversation_id=conversation.pk, author="customer", content="Can I come Friday?", position=0)
    appointment = AppointmentFactory(customer=dana, start=timezone.now() + timedelta(days=3),
                                     service__name="HydraFacial")
    for _ in range(3):
        CustomerFactory()

    # The bare address sends a visitor to sign in; signed in, staff land on the dashboard.
    page.goto(f"{live_asgi}/")
    page.wait_for_url("**/accounts/login/?next=/")
    page.get_by_role("link", name="call page").wait_for()  # callers are one click from the call page
    staff_login(page, live_asgi)
    page.goto(f"{live_asgi}/")
    page.wait_for_url(f"{live_asgi}/dashboard/")
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Call page").get_attribute("href") == "/call/"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    page.wait_for_url("**/dashboard/customers/")
    assert page.locator("#results tbody tr").count() == 4
    assert page.locator("#results tbody tr").first.get_attribute("data-customer") == str(dana.pk)  # last in touch

    # Typed as it was said on the phone; htmx narrows the list in place and the address keeps the search.
    page.get_by_label("Search").fill("201 555 0107")
    page.wait_for_url("**q=201*555*0107*")
    row = page.locator("#results tbody tr")
    row.first.get_by_text("Dana Whitfield").wait_for()
    assert row.count() == 1
    assert row.get_by_role("link", name="(201) 555-0107").get_attribute("href") == "tel:+12015550107"
    assert row.get_by_role("link", name="1 conversation").get_attribute("href") == f"/dashboard/conversations/{conversation.pk}/"
    assert row.locator(f"a[href='/dashboard/appointments/{appointment.pk}/']").count() == 1
    assert "HydraFacial" in row.inner_text()

    row.get_by_role("link", name="Dana Whitfield").click()
    page.wait_for_url(f"**/dashboard/customers/{dana.pk}/")
    assert page.locator("dl.facts").get_by_text("(201) 555-0107").count() == 1
    assert "+12015550107" not in page.locator("main").inner_text()


def test_a_transcript_s_tool_chip_starts_with_an_icon_the_page_ships(page, live_asgi, staff_login):
    customer = Customer.objects.create(phone="+12015550107")
    conversation = start_conversation(channel=Channel.VOICE, customer=customer, at=timezone.now() - timedelta(minutes=3))
    add_message(conversation_id=conversation.pk, author="customer", content="When do you open?", position=0)
    record_event(conversation_id=conversation.pk, type="tool_call", data={"name": "get_business_info"})
    staff_login(page, live_asgi)

    page.goto(f"{live_asgi}/dashboard/conversations/{conversation.pk}/")
    chip = page.locator(".event", has_text="get_business_info")
    chip.wait_for()
    # The icon is an inline SVG drawn at its size; no character that a missing font turns into a box.
    icon = chip.locator("svg[data-icon='tool']")
    box = icon.bounding_box()
    assert box and box["width"] >= 10 and box["height"] >= 10
    text = chip.inner_text()
    assert text.strip().startswith("get_business_info")
    assert all(ord(character) < 0x2000 for character in text), text
    # The caller without a name is shown by the number staff would dial.
    assert page.get_by_role("heading", level=1).inner_text().count("(201) 555-0107") == 1
