"""However a call ends, the page lets go of the microphone (every track ends, so the browser's recording
indicator goes out) and closes its audio context. And the page's test hook is there only when asked for.

What the page holds is read from window.__media (the `call_page` fixture notes every track and audio
context the page makes), not from the page's own account of itself.
"""

import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from communications.models import VoiceCallDetail
from tests.browser.conftest import _Server
from tests.browser.test_call_page import (  # noqa: F401 (fixtures)
    _call_slots_free, call_page, clinic, debug, media, quiet_microphone, start_upstream, wait_until,
)
from tests.fakes.realtime_server import Call, Say

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HELD = "m => [m.tracks.map(t => t.readyState), m.contexts.map(c => c.state)]"


def microphone_in_use(page):
    """Waits until the call is listening to the microphone; the browser then holds one live track."""
    wait_until(page, "c => c.captureStartedAt !== null", timeout=10)
    assert media(page, HELD) == [["live"], ["running"]]


def microphone_stopped(page, timeout=5.0):
    try:
        page.wait_for_function("() => window.__media.tracks.every(t => t.readyState === 'ended')",
                               timeout=timeout * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"the microphone is still on: {media(page, HELD)}") from None


def audio_closed(page, timeout=5.0):
    try:
        page.wait_for_function("() => window.__media.contexts.every(c => c.state === 'closed')",
                               timeout=timeout * 1000)
    except PlaywrightTimeout:
        raise AssertionError(f"the audio is still open: {media(page, HELD)}") from None


def released(page, timeout=5.0):
    microphone_stopped(page, timeout)
    audio_closed(page, timeout)
    assert media(page, HELD) == [["ended"], ["closed"]]


def test_hanging_up_stops_the_microphone_and_closes_the_audio(clinic, start_upstream, call_page):
    start_upstream(greeting_audio_ms=400)
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    page.get_by_role("button", name="End call").click()
    page.get_by_text("You ended the call.").wait_for()
    released(page)


def test_when_ava_ends_the_call_the_microphone_stops_at_once_and_the_audio_closes_after_her_goodbye(
        clinic, start_upstream, call_page):
    upstream = start_upstream(greeting_audio_ms=400)
    upstream.fake.reply(Call("end_call", {"reason": "caller is done"}))
    upstream.fake.reply(Say("Thank you for calling Glow Med Spa. Goodbye!", audio_ms=1500))
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    page.get_by_label("Type instead of speaking").fill("That's all, thanks")
    page.get_by_role("button", name="Send").click()
    wait_until(page, "c => c.ended === 'assistant_ended'", timeout=10)
    microphone_stopped(page, timeout=1)
    # Her goodbye plays out in full on the still-open audio, then the audio closes.
    goodbye = page.locator("#call-transcript li.assistant").last
    goodbye.get_by_text("Goodbye!").wait_for()
    wait_until(page, f"c => c.played['{goodbye.get_attribute('data-item-id')}'] === 1500", timeout=5)
    released(page)
    assert page.locator("#call-state").text_content() == "Call ended"


def test_when_the_server_ends_the_call_the_microphone_stops_and_the_audio_closes(
        clinic, settings, start_upstream, call_page):
    settings.VOICE_MAX_CALL_SECONDS = 3
    start_upstream(greeting_audio_ms=400)
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    wait_until(page, "c => c.ended === 'time_limit'", timeout=10)
    released(page)


def test_when_the_connection_is_lost_the_microphone_stops_and_the_audio_closes(clinic, start_upstream, call_page):
    start_upstream(greeting_audio_ms=400)
    server = _Server()  # a server of its own, stopped mid-call
    server.start()
    page = call_page(quiet_microphone(), base_url=server.url)
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    server.stop()
    wait_until(page, "c => c.ended === 'lost'", timeout=10)
    assert "connection to the call service was lost" in page.get_by_role("alert").text_content()
    released(page)


def test_when_the_page_goes_away_the_call_hangs_up_and_lets_go_of_the_microphone(
        clinic, start_upstream, call_page):
    start_upstream(greeting_audio_ms=400)
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    # The event the browser fires when the caller leaves (or the page goes into the back/forward cache).
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    released(page)
    assert debug(page, "c => c.ended") == "caller_hung_up"
    assert debug(page, "c => c.messagesSent.at(-1)") == "hangup"
    # …and the server heard the caller go: the call is kept as one the caller hung up.
    conversation_id = debug(page, "c => c.session.conversation_id")
    deadline = time.monotonic() + 5
    while VoiceCallDetail.objects.filter(conversation_id=conversation_id, end_reason="caller_hung_up").count() == 0:
        assert time.monotonic() < deadline, "the server never heard the caller hang up"
        time.sleep(0.05)


def test_a_page_leaving_while_ava_says_goodbye_closes_the_audio_at_once(clinic, start_upstream, call_page):
    upstream = start_upstream(greeting_audio_ms=400)
    upstream.fake.reply(Call("end_call", {"reason": "caller is done"}))
    upstream.fake.reply(Say("Thank you for calling Glow Med Spa. Goodbye!", audio_ms=8000))
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    microphone_in_use(page)
    page.get_by_label("Type instead of speaking").fill("That's all, thanks")
    page.get_by_role("button", name="Send").click()
    wait_until(page, "c => c.ended === 'assistant_ended'", timeout=10)
    microphone_stopped(page, timeout=1)
    assert media(page, "m => m.contexts.map(c => c.state)") == ["running"]  # eight seconds of goodbye to play
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}))")
    released(page, timeout=2)


def test_the_test_hook_is_off_unless_a_setting_asks_for_it(clinic, settings, start_upstream, call_page):
    upstream = start_upstream(greeting_audio_ms=400)
    upstream.fake.reply(Say("Free parking is behind the building.", audio_ms=400))
    settings.VOICE_CALL_PAGE_TEST_HOOK = 0  # the default
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()
    page.get_by_label("Type instead of speaking").fill("Where do I park?")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Free parking is behind the building.").wait_for()
    assert page.evaluate("() => '__avaCall' in window") is False
    page.get_by_role("button", name="End call").click()
    page.get_by_text("You ended the call.").wait_for()
    released(page)


def test_the_test_hook_keeps_only_the_last_entries_it_is_allowed(clinic, settings, start_upstream, call_page):
    start_upstream(greeting_audio_ms=400)
    settings.VOICE_CALL_PAGE_TEST_HOOK = 2
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()
    for text in ("Hello?", "Are you there?", "Hello again"):
        page.get_by_label("Type instead of speaking").fill(text)
        page.get_by_role("button", name="Send").click()
    page.locator("#call-transcript li.assistant[data-final]").nth(3).wait_for(timeout=15_000)
    page.get_by_role("button", name="End call").click()
    page.get_by_text("You ended the call.").wait_for()
    hook = debug(page)
    assert hook["messagesSent"] == ["text", "hangup"]
    assert hook["states"][-1] == "ended" and len(hook["states"]) == 2
    # Four answers were spoken; how many finished playing before the hang-up depends on timing.
    assert 1 <= len(hook["played"]) <= 2 and len(hook["itemStarts"]) <= 2
    assert hook["ended"] == "caller_hung_up"
