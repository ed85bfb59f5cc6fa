"""The messaging console in a real browser: Ava's reply arrives pushed over the console's socket, and
the page makes no requests while it waits (it used to poll the thread every 2 s and the outbox every 5 s)."""

import threading

import pytest
from django.db import connections

from communications.messaging import sms
from communications.models import OutboundMessage
from scheduling.tests.factories import glow_med_spa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "+12125550142"


@pytest.fixture
def offline_assistant(settings):
    # The built-in engine (no OpenAI), as on the embedded default.
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


def text_from_another_tab(body):
    """The customer writes again while the page is open, as a second staff tab would; Ava answers at once
    (tasks run eagerly in tests). In a thread of its own: Playwright's event loop owns this one."""
    def write():
        try:
            sms.receive_sms(message_sid=None, from_number=PHONE, body=body, console=True)
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=30)
    assert not writer.is_alive()


def test_avas_reply_appears_in_the_console_without_polling(page, live_asgi, staff_login, offline_assistant):
    glow_med_spa()
    staff_login(page, live_asgi)
    page.goto(f"{live_asgi}/dashboard/console/")
    page.get_by_label("Phone").fill("(212) 555-0142")
    page.get_by_label("Message").fill("Where do I park?")
    page.get_by_role("button", name="Send as the customer").click()
    page.wait_for_url("**/dashboard/console/?conversation=*")
    thread = page.locator("#thread")
    assert thread.locator(".bubble.assistant").count() == 1
    page.locator("[data-live-connected]").wait_for()

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    text_from_another_tab("What time do you open on Saturday?")

    thread.get_by_text("What time do you open on Saturday?").wait_for()
    page.locator("#thread .bubble.assistant").nth(1).wait_for()
    reply = OutboundMessage.objects.latest("id")
    top_row = page.locator("#outbox tbody tr").first
    top_row.locator(f'xpath=self::tr[@data-outbound="{reply.pk}"]').wait_for()
    assert "Kept in the outbox" in top_row.text_content()
    assert page.locator("#outbox tbody tr").count() == 2
    assert not page.get_by_text("Ava is writing").is_visible()

    # Longer than either old polling period: still not one request, the socket carried it all.
    page.wait_for_timeout(5500)
    assert requests == []
    assert page.locator("[hx-trigger*=every]").count() == 0
