"""The call page says plainly what went wrong: the microphone, the network, the assistant, the server's limits."""

import pytest

from tests.browser.conftest import CHROMIUM, _Server
from tests.browser.test_call_ends import audio_closed, microphone_stopped
from tests.browser.test_call_page import (  # noqa: F401 (fixtures)
    _call_slots_free, call_page, clinic, debug, quiet_microphone, start_upstream, transcript, wait_until,
)
from tests.fakes.realtime_server import Say

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


def message(page):
    alert = page.get_by_role("alert")
    alert.wait_for()
    return alert.text_content()


@pytest.fixture
def chromium(request):
    """chromium(*flags) -> a Chromium with only these media flags (the usual launcher always grants a fake mic)."""
    playwright = request.getfixturevalue("_playwright")
    browsers = []

    def launch(*flags):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS + list(flags))
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


def test_a_refused_microphone_is_explained_and_the_caller_can_still_type(clinic, start_upstream, chromium, call_page):
    upstream = start_upstream(greeting_audio_ms=500)
    upstream.fake.reply(Say("Of course. What day suits you?", audio_ms=500))
    # No fake permission prompt: headless Chromium refuses the microphone, as a caller pressing "Block" would.
    page = call_page(browser=chromium("--use-fake-device-for-media-stream"))
    page.get_by_role("button", name="Start call").click()
    assert "blocked the microphone" in message(page)
    assert debug(page, "c => c.microphone") == "refused"
    # The call goes on: Ava greets, and a typed message is answered.
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()
    page.get_by_label("Type instead of speaking").fill("I'd like to book a facial")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Of course. What day suits you?").wait_for()
    assert page.locator("#call-state").text_content() in {"Listening", "Speaking"}


def test_no_microphone_is_explained(clinic, start_upstream, chromium, call_page):
    start_upstream(greeting_audio_ms=500)
    # The permission is granted, but this machine has no audio input (no fake device either).
    page = call_page(browser=chromium("--use-fake-ui-for-media-stream"))
    page.get_by_role("button", name="Start call").click()
    assert "No microphone was found" in message(page)
    assert debug(page, "c => c.microphone") == "missing"
    assert page.get_by_label("Type instead of speaking").is_enabled()


def test_an_unreachable_server_is_explained(clinic, call_page):
    server = _Server()  # a server of its own, stopped once the page has loaded
    server.start()
    page = call_page(quiet_microphone(), base_url=server.url)
    server.stop()
    page.get_by_role("button", name="Start call").click()
    assert "can't reach the call service" in message(page)
    assert page.locator("#call-state").text_content() == "Call ended"
    assert page.get_by_role("button", name="Start a new call").is_visible()
    # Chromium itself logs the refused websocket; that line is the browser's, not the page's.
    page.console_errors[:] = [e for e in page.console_errors if not e.startswith("WebSocket connection to")]


def test_an_unavailable_assistant_is_explained(clinic, start_upstream, call_page):
    upstream = start_upstream()
    upstream.fake.refuse_connections = 5  # OpenAI answers 503
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    text = message(page)
    assert text.startswith("Our assistant is not available right now. Please call the clinic at +1 212 555 0100")
    assert page.locator("#call-state").text_content() == "Call ended"
    assert debug(page, "c => c.ended") == "upstream_unavailable"
    # The server could not speak the apology, so the page shows it (and says it with the browser's voice).
    assert transcript(page)[-1] == ("assistant", text)
    # Whether or not the microphone had opened by then, nothing is left on.
    microphone_stopped(page)
    audio_closed(page)


def test_a_call_ended_by_the_server_is_explained_after_avas_last_words_play(clinic, settings, start_upstream, call_page):
    settings.VOICE_MAX_CALL_SECONDS = 2
    start_upstream(greeting_audio_ms=600)
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    assert "reached its time limit" in message(page)
    assert debug(page, "c => c.ended") == "time_limit"
    goodbye = page.locator("#call-transcript li.assistant").last
    goodbye.get_by_text("We've reached the time limit for this call.").wait_for()
    # Ava's goodbye arrived just before the end, and still plays out in full.
    wait_until(page, f"c => c.played['{goodbye.get_attribute('data-item-id')}'] === 600", timeout=5)
    assert page.locator("#call-state").text_content() == "Call ended"


def test_too_many_calls_from_one_address_is_explained(clinic, settings, start_upstream, call_page, launch_browser):
    settings.VOICE_MAX_CONCURRENT_CALLS_PER_IP = 1
    start_upstream(greeting_audio_ms=300)
    first = call_page(quiet_microphone())
    first.get_by_role("button", name="Start call").click()
    first.locator("#call-transcript li.assistant[data-final]").first.wait_for()

    second = call_page(quiet_microphone())
    second.get_by_role("button", name="Start call").click()
    assert "Too many calls are open from your network" in message(second)
    assert debug(second, "c => c.ended") == "too_many_calls"
    assert debug(first, "c => c.ended") is None  # the first call goes on
