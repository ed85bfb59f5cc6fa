"""The call page in a real browser: a caller's call with Ava, against the fake Realtime upstream.

Chromium's microphone is a WAV the test builds (tests/browser/audio.py); Ava's server is the real
application under uvicorn (live_asgi), pointed at the fake OpenAI Realtime server
(tests/fakes/realtime_server.py), which records every event the server sends it with its time of
arrival. So the commit delays are measured where OpenAI would see them: from the end of the
caller's speech in the audio it received to the arrival of input_audio_buffer.commit.

The helpers at the top are shared with test_call_failures.py.
"""

import asyncio
import base64
import re
import threading
import time

import pytest
from django.core.cache import cache

from receptionist.prompt import line_to_say
from scheduling.tests.factories import open_clinic
from tests.browser import audio
from tests.browser.conftest import ARTIFACTS
from tests.fakes.realtime_server import FakeRealtimeServer, Say

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LONG_WAIT = 1.0  # Ava's audio plays at 24 kHz in real time; most waits are bounded by that


# --- the fake upstream, on its own event loop (Playwright's sync API owns this thread) -------------
class VoiceSource:
    """Ava's voice for the fake server: successive slices of real speech instead of its test tone."""

    def __init__(self, pcm):
        self.pcm = pcm
        self.at = 0

    def __call__(self, ms):
        size = ms * audio.BYTES_PER_MS
        chunk = self.pcm[self.at:self.at + size]
        self.at += size
        return chunk + b"\0" * (size - len(chunk))


class ScriptedRealtime(FakeRealtimeServer):
    """The fake Realtime server, plus: Ava's own voice, a greeting the test releases, reply times."""

    def __init__(self, *, voice=None, **kwargs):
        super().__init__(**kwargs)
        self.voice = voice
        self.greeting_gate = threading.Event()
        self.greeting_gate.set()
        self.responses = []  # (perf_counter at its start, said exactly: greeting/goodbye, or None)

    async def _respond(self, session, response):
        line = line_to_say(response.instructions)
        if line is not None and not self.responses:
            while not self.greeting_gate.is_set():
                await asyncio.sleep(0.001)
        self.responses.append((time.perf_counter(), line))
        if self.voice is not None:
            session.simulator.audio_chunk = VoiceSource(self.voice)
        await super()._respond(session, response)


class Upstream:
    """A ScriptedRealtime served from a thread of its own; the test reads what it received."""

    def __init__(self, **kwargs):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = self.run(ScriptedRealtime(**kwargs).start())

    def run(self, coroutine, timeout=10):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self):
        self.run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def received(self):
        """(arrival time, event) of everything the server sent, in order."""
        return [pair for session in list(self.fake.sessions) for pair in list(session.received)]

    def events(self, kind):
        return [event for _, event in self.received() if event.get("type") == kind]

    def wait_for(self, kind, *, count=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.events(kind)) < count:
            if time.monotonic() > deadline:
                kinds = [event["type"] for _, event in self.received() if event["type"] != "input_audio_buffer.append"]
                raise AssertionError(f"Timed out waiting for {count} × {kind}; the upstream got {kinds}")
            time.sleep(0.01)
        return self.events(kind)

    def commits(self):
        """For each commit: the audio it committed, and the arrival time of each append of it."""
        turns, chunks = [], []
        for at, event in self.received():
            if event["type"] == "input_audio_buffer.append":
                chunks.append((at, base64.b64decode(event["audio"])))
            elif event["type"] == "input_audio_buffer.commit":
                turns.append(Turn(chunks, at))
                chunks = []
        return turns


class Turn:
    """One committed turn as the upstream received it."""

    def __init__(self, chunks, committed_at):
        self.chunks = chunks
        self.committed_at = committed_at
        self.pcm = b"".join(pcm for _, pcm in chunks)

    def onset_ms(self):
        """Where the speech begins in the committed audio (its attack is sharp)."""
        return audio.voiced_frames(self.pcm, threshold_dbfs=-40)[0] * audio.FRAME_MS

    def commit_delay_ms(self, speech_ms):
        """Milliseconds from the end of the speech to the commit, both timed by the upstream.

        The speech ends `speech_ms` (its length in the WAV) after its onset in the received audio. The
        append holding that instant arrived when its last sample had been captured (plus transport,
        which the commit pays too), so the end happened that many samples before the append arrived.
        """
        end = (self.onset_ms() + speech_ms) * audio.BYTES_PER_MS
        offset = 0
        for at, pcm in self.chunks:
            if offset + len(pcm) >= end:
                after_end_ms = (offset + len(pcm) - end) / audio.BYTES_PER_MS
                return (self.committed_at - at) * 1000 + after_end_ms
            offset += len(pcm)
        raise AssertionError(f"The committed audio ({len(self.pcm) // audio.BYTES_PER_MS} ms) ends before the speech")


@pytest.fixture(autouse=True)
def _call_slots_free():
    cache.clear()  # the per-address call counts live in the cache
    yield
    cache.clear()


@pytest.fixture
def clinic(transactional_db):
    return open_clinic(name="Glow Med Spa", phone="+1 212 555 0100", assistant_name="Ava")


@pytest.fixture
def start_upstream(settings):
    """start_upstream(**fake_options) -> Upstream; Ava's server calls it for the rest of the test."""
    started = []

    def start(**kwargs):
        upstream = Upstream(**kwargs)
        started.append(upstream)
        settings.OPENAI_API_KEY = "test-key"
        settings.OPENAI_BASE_URL = upstream.fake.base_url
        settings.OPENAI_REALTIME_MODEL = "gpt-realtime"
        settings.ANALYTICS_SCORING_MAX_RETRIES = 0  # scoring after the call finds no HTTP API here
        return upstream

    yield start
    for upstream in started:
        upstream.stop()


# Runs in every call page before its own scripts: notes each microphone track and audio context the
# page makes, so a test can see what the browser holds whatever the page's code does with them.
WATCH_MEDIA = """
window.__media = {tracks: [], contexts: []};
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    window.__media.tracks.push(...stream.getTracks());
    return stream;
  };
}
if (window.AudioContext) {
  window.AudioContext = class extends window.AudioContext {
    constructor(...args) {
      super(...args);
      window.__media.contexts.push(this);
    }
  };
}
"""


@pytest.fixture
def call_page(launch_browser, live_asgi, request, settings):
    """call_page(microphone) -> the call page open in Chromium, its microphone a WAV (a Timeline or path).

    Like the `page` fixture it fails the test on console errors and leaves screenshots behind. The page
    exposes its view of the call (window.__avaCall, read with `debug`), and `media` reads the tracks and
    audio contexts it made.
    """
    settings.VOICE_CALL_PAGE_TEST_HOOK = 1000
    opened = []

    def open_page(microphone=None, *, viewport=DESKTOP, browser=None, mobile=False, base_url=None):
        if isinstance(microphone, audio.Timeline):
            microphone = microphone.write(request.getfixturevalue("tmp_path") / f"mic-{len(opened)}.wav")
        browser = browser or launch_browser(microphone_wav=str(microphone) if microphone else None)
        context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
        context.add_init_script(WATCH_MEDIA)
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        page.goto(f"{base_url or live_asgi}/call/")
        page.locator("#call[data-ready]").wait_for()
        opened.append(page)
        return page

    yield open_page
    ARTIFACTS.mkdir(exist_ok=True)
    for n, page in enumerate(opened):
        try:
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-{n}.png"), full_page=True)
        except Exception:
            pass  # already closed
        page.context.close()
    for page in opened:
        assert page.console_errors == [], f"console errors: {page.console_errors}"


def debug(page, expression="c => c"):
    """The page's own view of the call (window.__avaCall), through `expression`."""
    return page.evaluate(f"({expression})(window.__avaCall)")


def wait_until(page, expression, timeout=10.0):
    # A function, not an expression: Playwright evals a bare expression in the page, which the CSP refuses.
    page.wait_for_function(f"() => ({expression})(window.__avaCall)", timeout=timeout * 1000)


def media(page, expression="m => m"):
    """The microphone tracks and audio contexts the page made (window.__media), through `expression`."""
    return page.evaluate(f"({expression})(window.__media)")


def quiet_microphone():
    return audio.Timeline().pause(1000)


def transcript(page):
    """The transcript as (speaker, words) pairs, in the page's order."""
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('#call-transcript li')).map(
        li => [li.classList.contains('caller') ? 'caller' : 'assistant', li.querySelector('.words').textContent])""")
    return [tuple(row) for row in rows]


def shoot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# --- the tests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("commit_ms, short_commit_ms", [(300, 120), (500, 250)])
def test_a_call_greets_hears_the_caller_commits_each_turn_on_time_and_answers(
        clinic, settings, start_upstream, call_page, commit_ms, short_commit_ms):
    # The defaults, and other values: the page takes its delays from the session, not from its own code.
    settings.VOICE_COMMIT_SILENCE_MS = commit_ms
    settings.VOICE_SHORT_COMMIT_SILENCE_MS = short_commit_ms
    # Phrases without pauses inside their first second: a pause there would end a short turn, by design.
    long_words = audio.speech("Do you have any openings on Tuesday afternoon?")
    short_words = audio.speech("Yes.")
    assert audio.duration_ms(long_words) > 1500 and audio.duration_ms(short_words) < 700
    microphone = (audio.Timeline().until(3000).add("long", long_words).pause(3500).add("short", short_words))
    upstream = start_upstream(greeting_audio_ms=1500)
    upstream.fake.transcript_delay_responses = 1  # the caller's words land after Ava has answered
    upstream.fake.hear("Do you have any openings on Tuesday afternoon?", "Yes.")
    upstream.fake.reply(Say("I have Tuesday at two or at four. Which would you like?", audio_ms=1500))
    upstream.fake.reply(Say("Lovely, you're booked for Tuesday at two.", audio_ms=1000))

    page = call_page(microphone)
    assert page.get_by_text("This call is recorded and transcribed.").is_visible()
    assert page.locator("#call-state").text_content() == "Ready to call"
    page.get_by_role("button", name="Start call").click()

    # The greeting plays, and its words (with the recording notice) show.
    greeting = page.locator("#call-transcript li.assistant").first
    greeting.get_by_text(re.compile("recorded and transcribed")).wait_for()
    assert page.get_by_role("button", name="End call").is_visible()
    greeting_id = greeting.get_attribute("data-item-id")
    wait_until(page, f"c => c.played['{greeting_id}'] >= 1480", timeout=5)

    # Both turns are committed once each, the long one 300 ms after its end, the short one 120 ms (by default).
    upstream.wait_for("input_audio_buffer.commit", count=2, timeout=15)
    page.locator("#call-transcript li.assistant[data-final]").nth(2).wait_for(timeout=10_000)
    turns = upstream.commits()
    assert len(turns) == 2
    long_delay = turns[0].commit_delay_ms(audio.duration_ms(long_words))
    short_delay = turns[1].commit_delay_ms(audio.duration_ms(short_words))
    print(f"commit delays ({commit_ms}/{short_commit_ms} ms): long {long_delay:.0f} ms, short {short_delay:.0f} ms")
    # Allowed: one frame late (40 ms), plus 30 ms for the microphone's processing tail and scheduling.
    assert commit_ms - 20 <= long_delay <= commit_ms + 40 + 30, long_delay
    assert short_commit_ms - 20 <= short_delay <= short_commit_ms + 40 + 30, short_delay
    # What was committed is the caller's turn: the pre-roll, all of the speech, the silence before the commit.
    for turn, words in ((turns[0], long_words), (turns[1], short_words)):
        assert 240 <= turn.onset_ms() <= 340, turn.onset_ms()  # the page's onset may be a soft consonant earlier
        spoken = audio.voiced_frames(turn.pcm, threshold_dbfs=-40)
        assert abs((spoken[-1] - spoken[0] + 1) * audio.FRAME_MS - audio.duration_ms(words)) <= 60
    assert debug(page, "c => c.commits.length") == 2

    # Ava's replies play, and the transcript is in the conversation's order, not the order words came.
    wait_until(page, "c => c.state === 'listening'", timeout=5)
    assert transcript(page) == [
        ("assistant", greeting.locator(".words").text_content()),
        ("caller", "Do you have any openings on Tuesday afternoon?"),
        ("assistant", "I have Tuesday at two or at four. Which would you like?"),
        ("caller", "Yes."),
        ("assistant", "Lovely, you're booked for Tuesday at two."),
    ]
    reply = page.locator("#call-transcript li.assistant").nth(1).get_attribute("data-item-id")
    assert debug(page, f"c => c.played['{reply}']") >= 1480
    assert debug(page, "c => c.interrupts.length") == 0
    # The greeting is spoken, then Ava listens (the microphone may open before or while she speaks).
    states = debug(page, "c => c.states")
    assert states[0] == "connecting" and "speaking" in states and states[-1] == "listening", states
    assert "thinking" in states
    shoot(page, f"call-page-desktop-{commit_ms}")


def test_the_caller_barges_in_ava_stops_at_once_and_the_upstream_truncates_to_what_was_played(
        clinic, start_upstream, call_page):
    question = audio.speech("Can you tell me about your facials?")
    interruption = audio.speech("How much is Botox?")
    microphone = audio.Timeline().until(2500).add("question", question).until(7000).add("barge", interruption)
    upstream = start_upstream(greeting_audio_ms=1000)
    upstream.fake.hear("Can you tell me about your facials?", "How much is Botox?")
    # A long answer, generated at twice real time: still being generated when the caller cuts in.
    upstream.fake.reply(Say("Our HydraFacial cleanses, exfoliates and hydrates in one hour, and our chemical peels "
                            "brighten the skin over a few sessions; we also offer dermaplaning and LED therapy.",
                            audio_ms=8000, pace=0.05))
    upstream.fake.reply(Say("Botox is twelve dollars a unit.", audio_ms=1000))

    page = call_page(microphone)
    page.get_by_role("button", name="Start call").click()
    truncate = upstream.wait_for("conversation.item.truncate", timeout=15)[0]
    answer = page.locator(f'#call-transcript li.assistant[data-item-id="{truncate["item_id"]}"]')

    # The page stopped Ava and said how much of her answer was heard.
    interrupts = debug(page, "c => c.interrupts")
    assert len(interrupts) == 1 and interrupts[0]["id"] == truncate["item_id"] and interrupts[0]["reason"] == "caller"
    played = interrupts[0]["played_ms"]
    assert abs(truncate["audio_end_ms"] - played) <= 60, (truncate["audio_end_ms"], played)
    # The counter is what the speakers got: the audio clock from the answer's first sample to the barge-in.
    started = debug(page, f"c => c.itemStarts['{truncate['item_id']}']")
    barge_in = debug(page, "c => c.speechStarts.find(s => s.bargeIn).at")
    assert abs(played - (barge_in - started) * 1000) <= 30, (played, barge_in, started)
    # …which is where the caller's words are in the microphone file: 7 s in, plus the speech-start debounce.
    assert 1500 <= played <= 3500, played
    print(f"barge-in: played {played} ms, audio_end_ms {truncate['audio_end_ms']}")

    # Upstream: cancel, then truncate, then the caller's pre-roll and speech; one commit for it.
    upstream.wait_for("input_audio_buffer.commit", count=2, timeout=10)
    kinds = [event["type"] for _, event in upstream.received()]
    cancel_at = kinds.index("response.cancel")
    truncate_at = kinds.index("conversation.item.truncate")
    second_commit = [n for n, kind in enumerate(kinds) if kind == "input_audio_buffer.commit"][1]
    assert cancel_at < truncate_at < second_commit
    assert "input_audio_buffer.append" in kinds[truncate_at:second_commit]
    assert "input_audio_buffer.append" not in kinds[cancel_at - 1:truncate_at]
    turn = upstream.commits()[1]
    assert 240 <= turn.onset_ms() <= 340, turn.onset_ms()  # the pre-roll (300 ms) came first
    heard = audio.voiced_frames(turn.pcm, threshold_dbfs=-40)
    assert abs((heard[-1] - heard[0] + 1) * audio.FRAME_MS - audio.duration_ms(interruption)) <= 60

    # Playback stays stopped: no more of the cut answer plays, though its late audio kept coming.
    time.sleep(0.3)
    assert debug(page, f"c => c.played['{truncate['item_id']}']") == played
    answer.and_(page.locator(".interrupted")).wait_for()
    page.locator("#call-transcript li.assistant[data-final]").get_by_text("Botox is twelve dollars a unit.").wait_for()
    assert [speaker for speaker, _ in transcript(page)] == ["assistant", "caller", "assistant", "caller", "assistant"]
    assert len(upstream.events("input_audio_buffer.commit")) == 2


def release_greeting_before(page, upstream, at_ms, *, lead_ms=150):
    """Let Ava's greeting go so it starts playing about `lead_ms` before `at_ms` of the microphone file.

    Echo comes back a little after the sound that caused it; the page's audio clock says where the
    microphone file is (Chromium starts the file when getUserMedia opens the microphone).
    """
    wait_until(page, "c => c.microphoneOpenedAt !== null", timeout=10)
    started = debug(page, "c => c.microphoneOpenedAt")
    while (debug(page, "c => c.audioTime()") - started) * 1000 < at_ms - lead_ms:
        time.sleep(0.002)
    upstream.fake.greeting_gate.set()


def test_avas_own_voice_coming_back_through_the_microphone_does_not_interrupt_her(clinic, start_upstream, call_page):
    voice = audio.speech("Thank you for calling Glow Med Spa. I'm Ava. How can I help you today?", voice="en-us+f3")
    voice_ms = audio.duration_ms(voice)
    echo_at = 2000
    # The microphone hears only Ava: her greeting coming back, then (Ava silent) the very same sound again.
    again = voice[:1600 * audio.BYTES_PER_MS]
    microphone = audio.Timeline().until(echo_at).add("echo", voice).pause(1500).add("again", again)
    upstream = start_upstream(voice=voice, greeting_audio_ms=voice_ms)
    upstream.fake.greeting_gate.clear()
    upstream.fake.hear("Thank you for calling Glow Med Spa.")

    page = call_page(microphone)
    page.get_by_role("button", name="Start call").click()
    release_greeting_before(page, upstream, echo_at)
    greeting = page.locator("#call-transcript li.assistant").first
    greeting.wait_for()
    greeting_id = greeting.get_attribute("data-item-id")
    wait_until(page, f"c => c.played['{greeting_id}'] === {voice_ms} || c.interrupts.length", timeout=voice_ms / 1000 + 3)
    # The echo really lagged the playback a little, as a loudspeaker's would.
    state = debug(page, f"c => [c.microphoneOpenedAt, c.itemStarts['{greeting_id}'], c.speechStarts, c.interrupts, c.echo]")
    print(f"echo: {state}")
    assert state[1] is not None, f"Ava never played: {state}"
    lag_ms = (state[0] + echo_at / 1000 - state[1]) * 1000
    assert 0 <= lag_ms <= 250, f"the test's echo did not follow the playback ({lag_ms:.0f} ms)"

    # Ava was not interrupted: she played to the end and nothing went upstream while she spoke…
    assert debug(page, "c => c.interrupts") == [], debug(page, "c => c.echo")
    assert debug(page, f"c => c.played['{greeting_id}']") == voice_ms
    echo = debug(page, "c => c.echo")
    assert echo["framesAboveBase"] >= 100  # …although her echo was loud enough to pass for speech
    # …and the same sound with Ava silent is the caller speaking: heard, sent and committed once.
    upstream.wait_for("input_audio_buffer.commit", timeout=10)
    assert debug(page, "c => c.speechStarts.map(s => s.bargeIn)") == [False]
    assert upstream.events("response.cancel") == [] and upstream.events("conversation.item.truncate") == []
    turn = upstream.commits()[0]
    heard = audio.voiced_frames(turn.pcm, threshold_dbfs=-40)
    assert abs((heard[-1] - heard[0] + 1) * audio.FRAME_MS - audio.duration_ms(again)) <= 60


def test_the_caller_can_type_instead_of_speaking(clinic, start_upstream, call_page):
    upstream = start_upstream(greeting_audio_ms=600)
    upstream.fake.reply(Say("Free parking is behind the building on Mercer Street.", audio_ms=800))
    page = call_page(quiet_microphone())
    box = page.get_by_label("Type instead of speaking")
    assert box.is_disabled()  # nothing to type to before the call
    page.get_by_role("button", name="Start call").click()
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()

    box.fill("  Where do I park?  ")
    box.press("Enter")
    page.locator("#call-transcript li.assistant[data-final]").nth(1).wait_for()
    assert [text for _, text in transcript(page)][1:] == [
        "Where do I park?", "Free parking is behind the building on Mercer Street."]
    assert box.input_value() == ""
    created = upstream.events("conversation.item.create")
    assert [item["item"]["content"] for item in created] == [[{"type": "input_text", "text": "Where do I park?"}]]
    reply = page.locator("#call-transcript li.assistant").nth(1).get_attribute("data-item-id")
    wait_until(page, f"c => c.played['{reply}'] === 800", timeout=5)
    assert upstream.events("input_audio_buffer.commit") == []  # a quiet line: nothing spoken, nothing committed

    page.get_by_role("button", name="End call").click()
    page.get_by_text("You ended the call.").wait_for()
    assert page.locator("#call-state").text_content() == "Call ended"
    assert page.get_by_role("button", name="Start a new call").is_visible()
    assert box.is_disabled()


def test_the_offline_demo_says_so_and_answers_typed_messages_on_a_phone(clinic, settings, call_page):
    settings.OPENAI_API_KEY = ""  # the built-in engine: typed turns only, answers without audio
    page = call_page(viewport=PHONE, mobile=True)
    start = page.get_by_role("button", name="Start call")
    box = start.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 300  # a thumb's target, across the screen
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("nav").count() == 0  # the caller sees none of the staff's pages
    shoot(page, "call-page-phone-before")
    start.tap()

    offline = page.locator("#call-offline")
    offline.wait_for()
    assert "Offline demo." in offline.text_content() and "typed messages only" in offline.text_content()
    assert page.locator("#call-meter-wrap").is_hidden()  # no microphone is asked for
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()
    page.get_by_label("Type instead of speaking").fill("What are your opening hours?")
    page.get_by_role("button", name="Send").tap()
    answer = page.locator("#call-transcript li.assistant[data-final]").nth(1)
    answer.wait_for()
    assert answer.text_content().strip() != ""
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    shoot(page, "call-page-phone")
    assert debug(page, "c => c.microphoneOpenedAt") is None


def test_the_page_shows_ava_reconnecting_and_she_carries_on(clinic, start_upstream, call_page):
    upstream = start_upstream(greeting_audio_ms=400)
    page = call_page(quiet_microphone())
    page.get_by_role("button", name="Start call").click()
    page.locator("#call-transcript li.assistant[data-final]").first.wait_for()
    wait_until(page, "c => c.state === 'listening'")
    upstream.run(upstream.fake.session.drop())  # the line to OpenAI drops
    upstream.wait_for("session.update", count=2)
    # The server re-seeds a new session; Ava apologises (the fake's default reply) and listens again.
    page.locator("#call-transcript li.assistant[data-final]").nth(1).wait_for()
    wait_until(page, "c => c.state === 'listening'")
    assert "reconnecting" in debug(page, "c => c.states")
    assert debug(page, "c => c.ended") is None
    page.get_by_label("Type instead of speaking").fill("Are you still there?")
    page.get_by_role("button", name="Send").click()
    page.locator("#call-transcript li.assistant[data-final]").nth(2).wait_for()
