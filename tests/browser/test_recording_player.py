"""Staff listen to a call in a real browser: Chromium plays the real FLAC file (as the recorder writes it) through the staff view,
a transcript line plays from where it starts, and the line being spoken is highlighted while it plays."""

from datetime import timedelta

import numpy as np
import pytest
import soundfile as sf
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from communications.models import CallRecording, Channel, Message
from communications.services import add_message, end_conversation, start_conversation
from conventions.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
RATE = 24000
# (author, words, start ms, end ms): where each line is in the recording.
LINES = [
    ("assistant", "Lumière Med Spa, this is Ava. How can I help?", 0, 2400),
    ("customer", "I'd like a HydraFacial on Friday afternoon.", 3100, 5600),
    ("assistant", "Friday at three with Maya is open. Shall I book it?", 6000, 9500),
]
SEEKS = """
window.__seeks = [];
document.addEventListener("seeked", (event) => window.__seeks.push(event.target.currentTime), true);
"""


@pytest.fixture
def recorded_call(tmp_path, settings, pinned_now):
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path / "recordings", "base_url": None}}}
    seconds = 10
    t = np.arange(seconds * RATE) / RATE
    audio = np.stack([0.2 * np.sin(2 * np.pi * 330 * t), 0.2 * np.sin(2 * np.pi * 550 * t)], axis=1)
    sf.write(tmp_path / "call.flac", audio, RATE, format="FLAC", subtype="PCM_16")  # as the recorder writes

    started = timezone.now() - timedelta(minutes=10)
    call = start_conversation(channel=Channel.VOICE, at=started)
    for position, (author, words, start_ms, end_ms) in enumerate(LINES):
        message = add_message(conversation_id=call.pk, author=author, content=words, position=position,
                              sent_at=started + timedelta(milliseconds=start_ms))
        Message.objects.filter(pk=message.pk).update(recording_start_ms=start_ms, recording_end_ms=end_ms)
    end_conversation(conversation_id=call.pk, at=started + timedelta(seconds=seconds))
    name = storages["recordings"].save(f"calls/{call.pk}.flac", ContentFile((tmp_path / "call.flac").read_bytes()))
    CallRecording.objects.create(conversation=call, state=CallRecording.State.COMPLETE, file=name,
                                 duration_ms=seconds * 1000, size_bytes=storages["recordings"].size(name))
    return call


def line(page, start_ms):
    return page.locator(f"#transcript [data-start-ms='{start_ms}']")


def test_a_transcript_line_plays_the_recording_from_where_it_starts(page, live_asgi, staff_login, recorded_call):
    ranges = []
    page.on("request", lambda request: "/recording/" in request.url and ranges.append(request.headers.get("range")))
    page.context.add_init_script(SEEKS)
    staff_login(page, live_asgi)
    page.goto(f"{live_asgi}/dashboard/conversations/{recorded_call.pk}/")

    # The browser reads the real file through the staff view: its length is the call's.
    page.wait_for_function("() => document.querySelector('[data-recording-player]').readyState >= 1")
    assert page.evaluate("() => document.querySelector('[data-recording-player]').duration") == pytest.approx(10, abs=0.1)

    # Clicking the caller's line plays from where they started speaking, and highlights it.
    line(page, 3100).get_by_role("button").click()
    page.wait_for_function("() => window.__seeks.length > 0")
    assert page.evaluate("() => window.__seeks[0]") == pytest.approx(3.1, abs=0.05)
    page.wait_for_function("() => !document.querySelector('[data-recording-player]').paused")
    page.wait_for_function("() => document.querySelector('[data-recording-player]').currentTime > 3.3")
    assert "speaking" in line(page, 3100).get_attribute("class")
    assert line(page, 3100).get_attribute("aria-current") == "true"
    assert "speaking" not in line(page, 0).get_attribute("class")

    # As it plays on into Ava's answer, the highlight moves to her line.
    page.wait_for_function("() => document.querySelector('[data-recording-player]').currentTime > 6.3", timeout=10000)
    page.wait_for_function("() => document.querySelector(\"[data-start-ms='6000']\").classList.contains('speaking')")
    assert "speaking" not in line(page, 3100).get_attribute("class")

    # A click anywhere on a line does the same, and the keyboard reaches each line's button.
    line(page, 0).get_by_text("this is Ava").click()
    page.wait_for_function("() => window.__seeks.length > 1")
    assert page.evaluate("() => window.__seeks[1]") == pytest.approx(0, abs=0.05)
    line(page, 6000).get_by_role("button").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__seeks.length > 2")
    assert page.evaluate("() => window.__seeks[2]") == pytest.approx(6.0, abs=0.05)
    page.wait_for_function("() => document.querySelector(\"[data-start-ms='6000']\").classList.contains('speaking')")
    assert "speaking" not in line(page, 0).get_attribute("class")

    # The player asked for ranges; listening was written to the audit log once per read from the start.
    assert any(r and r.startswith("bytes=") for r in ranges), ranges
    listens = AuditEntry.objects.filter(object_type="recording", object_id=str(recorded_call.pk))
    from_the_start = [r for r in ranges if r in (None, "bytes=0-")]
    assert listens.count() == len(from_the_start) >= 1
    assert set(listens.values_list("action", flat=True)) == {"view"}
