"""Staff use the dashboard in a real browser: sign in, filter the inbox, read a conversation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.models import Channel, Customer
from communications.services import add_message, start_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_conversation(name, channel, line):
    customer = Customer.objects.create(name=name)
    conversation = start_conversation(channel=channel, customer=customer, at=timezone.now() - timedelta(minutes=5))
    add_message(conversation_id=conversation.pk, author="customer", content=line, position=0)
    return conversation


def test_staff_filter_the_inbox_and_open_a_conversation(page, live_asgi, staff_login):
    make_conversation("Dana Reyes", Channel.VOICE, "I would like a HydraFacial on Friday")
    make_conversation("Sam Ortiz", Channel.SMS, "What are your Saturday hours?")

    staff_login(page, live_asgi)
    page.goto(f"{live_asgi}/dashboard/inbox/")
    assert page.get_by_role("link", name="Dana Reyes").is_visible()
    assert page.get_by_role("link", name="Sam Ortiz").is_visible()

    # Choosing a channel swaps the results in place and keeps the address bar true.
    page.get_by_label("Channel").select_option("sms")
    page.wait_for_url("**/dashboard/inbox/?*channel=sms*")
    page.get_by_role("link", name="Dana Reyes").wait_for(state="detached")
    assert page.get_by_role("link", name="Sam Ortiz").is_visible()

    # Words from the transcript find the conversation.
    page.get_by_label("Channel").select_option("")
    page.get_by_label("Search").fill("hydrafacial")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**q=hydrafacial*")
    page.get_by_role("link", name="Sam Ortiz").wait_for(state="detached")

    # The back button returns to the previous filter.
    page.go_back()
    page.wait_for_url("**channel=*")

    page.goto(f"{live_asgi}/dashboard/inbox/?q=hydrafacial")
    page.locator("#results tbody tr a").first.click()
    page.wait_for_url("**/dashboard/conversations/*/")
    assert page.get_by_text("I would like a HydraFacial on Friday").is_visible()
    assert page.get_by_role("heading", name="Transcript").is_visible()
