"""The overview in a real browser: figures that switch period, and a call that appears on Live now while it runs.

The call runs through the real voice consumer (/ws/voice/…) with the built-in local engine, driven
from a second tab the way the call page drives it (docs/voice-protocol.md), typed turns only.
"""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from communications.models import Conversation
from communications.services import add_message, end_conversation, start_conversation
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_cached_figures():
    """The overview keeps a week's and a month's figures for a minute; each test starts without them."""
    cache.clear()
    yield
    cache.clear()

# The call page's side of a call, in the browser: open the socket, consent, then say things by typing.
CALL_JS = """
(path) => fetch("/call/token/").then((response) => response.json()).then(({token}) => new Promise((resolve, reject) => {
  // A caller's page carries a call token; this test's tab asks for one as an old call page would.
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path + "?token=" + encodeURIComponent(token));
  window.callSocket = socket;
  window.callSaid = [];
  socket.addEventListener("message", (event) => {
    if (typeof event.data !== "string") return;
    const message = JSON.parse(event.data);
    if (message.type === "session") { socket.send(JSON.stringify({type: "start", consent: true})); resolve(message.conversation_id); }
    if (message.type === "transcript" && message.final) window.callSaid.push(message.text);
  });
  socket.addEventListener("error", () => reject(new Error("the call socket failed")));
}))
"""


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def offline_assistant(settings):
    # The built-in engine (no OpenAI), as on the embedded default.
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


def test_staff_see_the_overview_and_switch_the_period(page, live_asgi, staff_login):
    clinic_now = timezone.now()
    for days, channel in ((0, "voice"), (1, "sms"), (2, "email")):
        conversation = start_conversation(channel=channel, at=clinic_now - timedelta(days=days, minutes=10))
        add_message(conversation_id=conversation.pk, author="customer", content="Hello", sent_at=conversation.started_at)
        end_conversation(conversation_id=conversation.pk, at=conversation.started_at + timedelta(minutes=3))

    staff_login(page, live_asgi)
    assert page.url == f"{live_asgi}/dashboard/"
    assert page.get_by_role("heading", name="Overview", level=1).is_visible()
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() == 3
    assert page.locator("#chart-conversations-title").text_content() == "Conversations per day, by channel"
    assert page.get_by_role("table", name=re.compile("Conversations started per weekday")).is_visible()
    shoot(page, "dashboard-overview-today")

    page.get_by_role("link", name="This month").click()
    page.wait_for_url("**/dashboard/?period=month")
    page.get_by_role("heading", name="This month", level=2, exact=True).wait_for()
    assert page.locator('#period a[aria-current="true"]').text_content().strip() == "This month"
    assert page.get_by_role("heading", name="This month: where, how and when").is_visible()
    # Live now was not reloaded by the swap: its socket stays open.
    page.locator("[data-live-connected]").wait_for()
    shoot(page, "dashboard-overview-month")

    page.go_back()
    page.wait_for_url(f"{live_asgi}/dashboard/")
    page.get_by_role("heading", name="Today", level=2, exact=True).wait_for()


def test_a_call_appears_on_live_now_while_it_runs_and_leaves_when_it_ends(page, live_asgi, staff_login, offline_assistant):
    staff_login(page, live_asgi)
    page.locator("[data-live-connected]").wait_for()
    assert page.get_by_text("No conversations in progress.").is_visible()

    # The call runs from this same tab (another tab's timers would be throttled in the background).
    caller = page
    conversation_id = caller.evaluate(CALL_JS, "/ws/voice/browser-test-call-01")

    row = page.locator(f'[data-live-id="{conversation_id}"]')
    row.wait_for()
    assert row.get_by_text("Web call").is_visible()  # the call page, not the phone
    assert page.locator("[data-live-count]").text_content() == "1"
    # Ava's greeting is the last utterance; then the caller types a question and it replaces it.
    row.get_by_text(re.compile("Thank you for calling")).wait_for()
    caller.evaluate("() => window.callSocket.send(JSON.stringify({type: 'text', text: 'Where do I park, please?'}))")
    row.locator("[data-live-last]").get_by_text(re.compile("^(Customer: Where do I park|Assistant: )")).first.wait_for()
    # The length ticks in the browser, with no request to the server.
    first = row.locator(".live-length").text_content()
    page.wait_for_function("([id, first]) => document.querySelector(`[data-live-id='${id}'] .live-length`).textContent !== first",
                           arg=[conversation_id, first], timeout=5000)
    shoot(page, "dashboard-live-now")

    # Following the transcript opens the conversation, live.
    transcript = page.context.new_page()
    transcript.goto(f"{live_asgi}/dashboard/conversations/{conversation_id}/")
    transcript.locator("[data-live-status]").get_by_text("connected").wait_for()
    caller.evaluate("() => window.callSocket.send(JSON.stringify({type: 'text', text: 'What are your opening hours?'}))")
    transcript.locator("#transcript").get_by_text("What are your opening hours?").wait_for()
    shoot(transcript, "dashboard-conversation-live")

    caller.evaluate("() => window.callSocket.send(JSON.stringify({type: 'hangup'}))")
    row.wait_for(state="detached")
    assert page.get_by_text("No conversations in progress.").is_visible()
    transcript.get_by_text("The conversation has ended.").wait_for()
    assert Conversation.objects.get(pk=conversation_id).status != "active"
    transcript.close()

