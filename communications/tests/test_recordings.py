"""Staff listen to a call's recording: served in byte ranges to staff only, audited, in the API, removed by retention.

The recordings are real stereo FLAC files, as the recorder writes them (soundfile), saved through the "recordings" storage, which each
test points at its own folder.
"""

import re
from datetime import timedelta

import numpy as np
import pytest
import soundfile as sf
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.test import Client
from django.utils import timezone

from communications.models import CallRecording, Channel, Message
from communications.services import (
    REDACTED,
    add_message,
    end_conversation,
    forget_customer,
    redact_expired_transcripts,
    start_conversation,
)
from communications.tasks import remove_expired_recordings as remove_task
from communications.tests.factories import CustomerFactory
from conventions.access import OWNERS_GROUP
from conventions.models import AuditEntry
from housekeeping.models import PeriodicJob

pytestmark = pytest.mark.django_db
RATE = 24000


@pytest.fixture(autouse=True)
def recordings_folder(tmp_path, settings):
    folder = tmp_path / "recordings"
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": folder, "base_url": None}}}
    return folder


def flac(seconds, tmp_path):
    """A real stereo FLAC file: a tone on the caller's side, another on Ava's."""
    t = np.arange(int(seconds * RATE)) / RATE
    audio = np.stack([0.3 * np.sin(2 * np.pi * 330 * t), 0.3 * np.sin(2 * np.pi * 550 * t)], axis=1)
    path = tmp_path / f"call-{seconds}.flac"
    sf.write(path, audio, RATE, format="FLAC", subtype="PCM_16")
    return path.read_bytes()


def a_recorded_call(tmp_path, *, customer=None, seconds=6, ended_days_ago=0, state=CallRecording.State.COMPLETE):
    """An ended voice call whose two lines know where they are in its recording."""
    started = timezone.now() - timedelta(days=ended_days_ago, minutes=5)
    call = start_conversation(channel=Channel.VOICE, customer=customer, at=started)
    add_message(conversation_id=call.pk, author="assistant", content="Lumière Med Spa, this is Ava.", position=0,
                sent_at=started)
    add_message(conversation_id=call.pk, author="customer", content="I'd like a HydraFacial on Friday.", position=1,
                sent_at=started + timedelta(seconds=3))
    Message.objects.filter(conversation=call, position=0).update(recording_start_ms=0, recording_end_ms=2400)
    Message.objects.filter(conversation=call, position=1).update(recording_start_ms=3100, recording_end_ms=5600)
    end_conversation(conversation_id=call.pk, at=started + timedelta(seconds=seconds))
    data = flac(seconds, tmp_path)
    name = storages["recordings"].save(f"calls/{started:%Y/%m/%d}/{call.pk}.flac", ContentFile(data))
    recording = CallRecording.objects.create(
        conversation=call, state=state, file=name, duration_ms=seconds * 1000, size_bytes=len(data),
        started_at=started, finished_at=started + timedelta(seconds=seconds))
    return call, recording, data


def url(call):
    return f"/dashboard/conversations/{call.pk}/recording/"


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def listens():
    return list(AuditEntry.objects.filter(object_type="recording").order_by("id").values_list("action", "object_id"))


@pytest.fixture
def owner_client(django_user_model):
    owner = django_user_model.objects.create_user("maria", password="a-long-test-password", is_staff=True)
    owner.groups.add(Group.objects.get_or_create(name=OWNERS_GROUP)[0])
    client = Client()
    client.force_login(owner)
    return client


# --- Serving: whole, ranges, refusals ----------------------------------------------------------------------
def test_staff_get_the_whole_recording(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    response = staff_client.get(url(call))
    assert response.status_code == 200
    assert body(response) == data
    assert response["Content-Type"] == "audio/flac"
    assert response["Content-Length"] == str(len(data))
    assert response["Accept-Ranges"] == "bytes"
    # Patients' voices: no shared cache keeps them.
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline")


def test_a_range_is_answered_206_with_exactly_those_bytes(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    size = len(data)

    response = staff_client.get(url(call), HTTP_RANGE="bytes=100-1099")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{size}"
    assert response["Content-Length"] == "1000"
    assert body(response) == data[100:1100]

    response = staff_client.get(url(call), HTTP_RANGE="bytes=2000-")  # what a player asks when it seeks
    assert (response.status_code, response["Content-Range"]) == (206, f"bytes 2000-{size - 1}/{size}")
    assert body(response) == data[2000:]

    response = staff_client.get(url(call), HTTP_RANGE="bytes=-500")  # the last 500 bytes (a suffix range)
    assert (response.status_code, response["Content-Range"]) == (206, f"bytes {size - 500}-{size - 1}/{size}")
    assert body(response) == data[-500:]

    response = staff_client.get(url(call), HTTP_RANGE=f"bytes={size - 10}-{size + 5000}")  # past the end: cut there
    assert (response.status_code, body(response)) == (206, data[-10:])


def test_a_range_past_the_end_is_416(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    for header in (f"bytes={len(data)}-", f"bytes={len(data) + 100}-{len(data) + 200}", "bytes=-0"):
        response = staff_client.get(url(call), HTTP_RANGE=header)
        assert response.status_code == 416, header
        assert response["Content-Range"] == f"bytes */{len(data)}"
        assert body(response) == b""
    assert listens() == []


def test_a_range_it_does_not_understand_gets_the_whole_file(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    for header in ("bytes=0-10,20-30", "items=0-10", "bytes=50-10"):
        response = staff_client.get(url(call), HTTP_RANGE=header)
        assert (response.status_code, body(response)) == (200, data), header
    # A range of a version the client no longer holds: the whole (current) file.
    response = staff_client.get(url(call), HTTP_RANGE="bytes=10-20", HTTP_IF_RANGE='"an-older-version"')
    assert (response.status_code, body(response)) == (200, data)
    response = staff_client.get(url(call), HTTP_RANGE="bytes=10-20", HTTP_IF_RANGE=response["ETag"])
    assert (response.status_code, body(response)) == (206, data[10:21])


def test_anonymous_visitors_and_non_staff_accounts_are_refused(client, django_user_model, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    response = client.get(url(call), HTTP_RANGE="bytes=0-")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert data not in body(response)

    django_user_model.objects.create_user("patient", password="a-long-test-password")  # an account, not staff
    client.login(username="patient", password="a-long-test-password")
    response = client.get(url(call))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert listens() == []


def test_only_owners_download_it_and_the_download_is_audited(staff_client, owner_client, tmp_path, settings):
    call, recording, data = a_recorded_call(tmp_path)
    response = staff_client.get(url(call) + "?download=1")
    assert response.status_code == 403
    assert listens() == []

    response = owner_client.get(url(call) + "?download=1")
    assert response.status_code == 200
    assert body(response) == data
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert re.search(r'filename="call-\d{4}-\d{2}-\d{2}-\d{4}-%s\.flac"' % str(call.pk)[:8], disposition)
    assert listens() == [("export", str(call.pk))]
    entry = AuditEntry.objects.get(object_type="recording")
    assert (entry.username, entry.description) == ("maria", "Recording downloaded")


def test_one_listen_is_one_audit_entry_however_many_ranges_the_player_asks_for(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    # A player opens the file from its first byte, reads the end for the length, then seeks twice.
    for header in ("bytes=0-", f"bytes={len(data) - 4000}-", "bytes=3000-", "bytes=5000-6000"):
        assert staff_client.get(url(call), HTTP_RANGE=header).status_code == 206
    assert staff_client.head(url(call)).status_code == 200  # headers only: nothing was sent
    assert listens() == [("view", str(call.pk))]
    entry = AuditEntry.objects.get(object_type="recording")
    assert (entry.username, entry.description, entry.path) == ("frontdesk", "Recording played", url(call))

    # Playing it again from the start is another listen.
    staff_client.get(url(call), HTTP_RANGE="bytes=0-")
    assert listens() == [("view", str(call.pk))] * 2


def test_a_request_that_skips_the_first_byte_is_still_audited_when_nobody_listened_lately(
        pinned_now, staff_client, owner_client, tmp_path, time_machine):
    call, recording, data = a_recorded_call(tmp_path)
    # All but the first byte (the rest of the file) with no listen before it: it is a listen, not a seek.
    response = staff_client.get(url(call), HTTP_RANGE="bytes=1-")
    assert response.status_code == 206 and body(response) == data[1:]
    assert listens() == [("view", str(call.pk))]
    staff_client.get(url(call), HTTP_RANGE="bytes=3000-")  # the same listen seeking
    assert listens() == [("view", str(call.pk))]
    # A download resumed past the first byte is an export on record too.
    assert owner_client.get(url(call) + "?download=1", HTTP_RANGE="bytes=1-").status_code == 206
    assert listens() == [("view", str(call.pk)), ("export", str(call.pk))]
    # Long after, a seek is a new listen.
    time_machine.shift(timedelta(minutes=11))
    assert staff_client.get(url(call), HTTP_RANGE="bytes=3000-").status_code == 206
    assert listens() == [("view", str(call.pk)), ("export", str(call.pk)), ("view", str(call.pk))]


def test_head_gives_the_length_and_no_body(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    response = staff_client.head(url(call), HTTP_RANGE="bytes=0-99")
    assert (response.status_code, response["Content-Length"], response["Content-Range"]) == (
        206, "100", f"bytes 0-99/{len(data)}")
    assert body(response) == b""


def test_a_removed_or_missing_recording_is_a_404_that_says_why(staff_client, tmp_path):
    removed, recording, _ = a_recorded_call(tmp_path)
    CallRecording.objects.filter(pk=recording.pk).update(state=CallRecording.State.REMOVED, file="",
                                                         removed_at=timezone.now())
    response = staff_client.get(url(removed))
    assert response.status_code == 404
    assert "removed" in body(response).decode()

    unrecorded = start_conversation(channel=Channel.VOICE)
    response = staff_client.get(url(unrecorded))
    assert (response.status_code, body(response).decode()) == (404, "This call was not recorded.")

    live = start_conversation(channel=Channel.VOICE)
    CallRecording.objects.create(conversation=live, spool_path="/tmp/spool.flac")
    response = staff_client.get(url(live))
    assert response.status_code == 404
    assert "being recorded" in body(response).decode()

    lost, recording, _ = a_recorded_call(tmp_path)
    storages["recordings"].delete(recording.file.name)
    response = staff_client.get(url(lost))
    assert response.status_code == 404
    assert "missing" in body(response).decode()
    assert listens() == []


# --- The conversation page -----------------------------------------------------------------------------
def test_the_page_has_a_player_and_lines_that_play_from_where_they_start(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    page = staff_client.get(f"/dashboard/conversations/{call.pk}/").content.decode()
    assert re.search(r'<audio controls preload="metadata" src="%s"' % re.escape(url(call)), page)
    assert 'data-start-ms="0" data-end-ms="2400"' in page
    assert 'data-start-ms="3100" data-end-ms="5600"' in page
    assert "Play the recording from 0:03" in page
    assert "js/recording.js" in page
    # Downloading is for owners.
    assert "?download=1" not in page


def test_owners_see_a_download_link(owner_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    page = owner_client.get(f"/dashboard/conversations/{call.pk}/").content.decode()
    assert f'href="{url(call)}?download=1"' in page


@pytest.mark.parametrize("state, says", [
    (CallRecording.State.RECORDING, "being recorded"),
    (CallRecording.State.FAILED, "could not be written"),
    (CallRecording.State.REMOVED, "was removed on"),
    (None, "This call was not recorded."),
])
def test_the_page_says_plainly_why_there_is_nothing_to_play(staff_client, state, says):
    call = start_conversation(channel=Channel.VOICE)
    add_message(conversation_id=call.pk, author="customer", content="Hello?")
    if state == CallRecording.State.REMOVED:
        CallRecording.objects.create(conversation=call, state=state, removed_at=timezone.now(), duration_ms=61000)
    elif state:
        CallRecording.objects.create(conversation=call, state=state)
    page = staff_client.get(f"/dashboard/conversations/{call.pk}/").content.decode()
    assert says in page
    assert "<audio" not in page and "data-start-ms" not in page and "js/recording.js" not in page
    if state == CallRecording.State.REMOVED:
        assert "It was 1:01 long." in page


def test_a_partial_recording_plays_and_says_it_stops_early(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path, state=CallRecording.State.PARTIAL)
    page = staff_client.get(f"/dashboard/conversations/{call.pk}/").content.decode()
    assert "<audio" in page and "Partial: the call's process ended before the call did" in page
    assert staff_client.get(url(call)).status_code == 200


def test_a_text_conversation_has_no_recording_section(staff_client):
    text = start_conversation(channel=Channel.SMS)
    page = staff_client.get(f"/dashboard/conversations/{text.pk}/").content.decode()
    assert "recording-heading" not in page
    assert staff_client.get(url(text)).status_code == 404


# --- API ---------------------------------------------------------------------------------------------------
def test_the_api_gives_the_recording_and_where_each_line_is_in_it(staff_client, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    for path in (f"/api/admin/communications/{call.pk}", f"/api/admin/calls/{call.pk}"):
        response = staff_client.get(path)
        assert response.status_code == 200
        answer = response.json()
        assert answer["recording"] == {"url": f"http://testserver{url(call)}", "duration_ms": 6000,
                                       "state": "complete", "content_type": "audio/flac"}
        assert [(m["recording_start_ms"], m["recording_end_ms"]) for m in answer["messages"]] == [
            (0, 2400), (3100, 5600)]
    # The address it gives plays.
    assert body(staff_client.get(answer["recording"]["url"].removeprefix("http://testserver"))) == data


def test_the_api_says_when_there_is_nothing_to_play(staff_client, tmp_path):
    text = start_conversation(channel=Channel.SMS)
    add_message(conversation_id=text.pk, author="customer", content="Open Saturday?")
    answer = staff_client.get(f"/api/admin/communications/{text.pk}").json()
    assert answer["recording"] is None
    assert answer["messages"][0]["recording_start_ms"] is None

    call, recording, data = a_recorded_call(tmp_path)
    CallRecording.objects.filter(pk=recording.pk).update(state=CallRecording.State.REMOVED, file="")
    assert staff_client.get(f"/api/admin/calls/{call.pk}").json()["recording"] == {
        "url": None, "duration_ms": 6000, "state": "removed", "content_type": "audio/flac"}


# --- Retention and forgetting ------------------------------------------------------------------------------
def test_retention_removes_the_recording_with_the_words_and_keeps_its_figures(
        pinned_now, tmp_path, recordings_folder, django_capture_on_commit_callbacks):
    old, old_recording, old_data = a_recorded_call(tmp_path, ended_days_ago=400)
    recent, recent_recording, recent_data = a_recorded_call(tmp_path, ended_days_ago=300)
    old_file = recordings_folder / old_recording.file.name
    assert old_file.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert redact_expired_transcripts() == 1

    assert not old_file.exists()
    old_recording.refresh_from_db()
    assert old_recording.state == CallRecording.State.REMOVED
    assert abs(old_recording.removed_at - timezone.now()) < timedelta(minutes=1)
    # The figures stay: how long the call's recording was and how big.
    assert (old_recording.duration_ms, old_recording.file.name) == (6000, "")
    assert old_recording.size_bytes == len(old_data)
    assert set(Message.objects.filter(conversation=old).values_list("content", flat=True)) == {REDACTED}
    # Inside the retention: words and recording stay.
    recent_recording.refresh_from_db()
    assert recent_recording.state == CallRecording.State.COMPLETE
    assert (recordings_folder / recent_recording.file.name).read_bytes() == recent_data


def test_forgetting_a_customer_deletes_their_recordings(tmp_path, recordings_folder, django_capture_on_commit_callbacks):
    jane, other = CustomerFactory(name="Jane Doe"), CustomerFactory()
    theirs, recording, _ = a_recorded_call(tmp_path, customer=jane)
    not_theirs, other_recording, _ = a_recorded_call(tmp_path, customer=other)
    path = recordings_folder / recording.file.name

    with django_capture_on_commit_callbacks(execute=True):
        forget_customer(customer=jane)

    assert not path.exists()
    recording.refresh_from_db()
    assert (recording.state, recording.file.name, recording.duration_ms) == ("removed", "", 6000)
    assert recording.removed_at is not None
    assert (recordings_folder / other_recording.file.name).exists()
    assert CallRecording.objects.get(pk=other_recording.pk).state == "complete"


def test_a_rolled_back_redaction_keeps_the_file(tmp_path, recordings_folder):
    """Files are deleted only once the removal is committed: a redaction that fails loses nothing."""
    jane = CustomerFactory()
    call, recording, data = a_recorded_call(tmp_path, customer=jane)
    # No commit happens inside the test's transaction, so the deletion waits for one that never comes.
    forget_customer(customer=jane)
    assert (recordings_folder / recording.file.name).read_bytes() == data


def test_recording_retention_removes_recordings_sooner_than_the_words(
        pinned_now, tmp_path, recordings_folder, settings):
    settings.RECORDING_RETENTION_DAYS = 30
    old, old_recording, _ = a_recorded_call(tmp_path, ended_days_ago=31)
    young, young_recording, _ = a_recorded_call(tmp_path, ended_days_ago=29)

    remove_task.delay()

    old_recording.refresh_from_db()
    assert (old_recording.state, old_recording.file.name, old_recording.duration_ms) == ("removed", "", 6000)
    assert not any(recordings_folder.rglob(f"{old.pk}.flac"))
    # The words stay (TRANSCRIPT_RETENTION_DAYS is longer), and so does the younger call's recording.
    assert "HydraFacial" in Message.objects.get(conversation=old, position=1).content
    assert CallRecording.objects.get(pk=young_recording.pk).state == "complete"
    assert (recordings_folder / young_recording.file.name).exists()
    # It runs nightly and says what it did in the periodic jobs' record.
    entry = settings.CELERY_BEAT_SCHEDULE["communications-remove-expired-recordings"]
    assert entry["task"] == "communications.tasks.remove_expired_recordings"
    assert len(entry["schedule"].hour) == 1 and len(entry["schedule"].minute) == 1
    job = PeriodicJob.objects.get(task="communications.tasks.remove_expired_recordings")
    assert job.last_summary == "recordings removed: 1, files deleted: 1"


def test_zero_days_keeps_recordings_as_long_as_the_words(pinned_now, tmp_path, settings):
    settings.RECORDING_RETENTION_DAYS = 0
    call, recording, _ = a_recorded_call(tmp_path, ended_days_ago=300)
    assert remove_task.delay().get() == {"removed": 0, "files_deleted": 0}
    assert CallRecording.objects.get(pk=recording.pk).state == "complete"


class RefusingStorage(FileSystemStorage):
    """The recordings storage as an object store that is down: it refuses deletions while `refusing`."""

    refusing = True

    def delete(self, name):
        if self.refusing:
            raise OSError("503 Slow Down")
        super().delete(name)


def test_a_file_that_could_not_be_deleted_is_deleted_by_the_next_nightly_run(
        pinned_now, staff_client, tmp_path, recordings_folder, settings, django_capture_on_commit_callbacks):
    call, recording, _ = a_recorded_call(tmp_path, ended_days_ago=400)
    path = recordings_folder / recording.file.name
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": f"{__name__}.RefusingStorage", "OPTIONS": {"location": recordings_folder, "base_url": None}}}
    with django_capture_on_commit_callbacks(execute=True):
        redact_expired_transcripts()
    recording.refresh_from_db()
    # Removed for staff at once; the file waits, its name kept so it is not forgotten.
    assert recording.state == "removed" and recording.file.name and path.exists()
    assert staff_client.get(url(call)).status_code == 404

    RefusingStorage.refusing = False
    try:
        assert remove_task.delay().get() == {"removed": 0, "files_deleted": 1}
    finally:
        RefusingStorage.refusing = True
    assert not path.exists()
    assert CallRecording.objects.get(pk=recording.pk).file.name == ""


# --- Admin ---------------------------------------------------------------------------------------------------
def test_owners_read_recordings_in_admin_and_cannot_add_change_or_delete_them(admin_client_owner, tmp_path):
    call, recording, data = a_recorded_call(tmp_path)
    listing = admin_client_owner.get("/admin/communications/callrecording/")
    assert listing.status_code == 200 and str(call) in listing.content.decode()
    page = admin_client_owner.get(f"/admin/communications/callrecording/{recording.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert recording.file.name in html and f"/dashboard/conversations/{call.pk}/" in html
    assert 'type="file"' not in html and 'name="_save"' not in html
    assert admin_client_owner.get("/admin/communications/callrecording/add/").status_code == 403
    assert admin_client_owner.post(f"/admin/communications/callrecording/{recording.pk}/delete/",
                                   {"post": "yes"}).status_code == 403
    assert CallRecording.objects.filter(pk=recording.pk).exists()


# --- S3: the same view and removal against an S3 server (moto's, on a local port) ---------------------------
@pytest.fixture
def s3_recordings(settings, monkeypatch):
    """The recordings storage as S3 through django-storages, talking HTTP to a local S3 server."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    bucket = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket.create_bucket(Bucket="clinic-recordings")
    settings.STORAGES = {**settings.STORAGES, "recordings": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": "clinic-recordings", "endpoint_url": endpoint, "region_name": "us-east-1",
        "location": "recordings", "default_acl": "private", "querystring_auth": True, "file_overwrite": False}}}
    yield bucket
    server.stop()


def test_with_s3_staff_play_ranges_and_retention_deletes_the_object(
        pinned_now, s3_recordings, staff_client, tmp_path, django_capture_on_commit_callbacks):
    call, recording, data = a_recorded_call(tmp_path, ended_days_ago=400)
    key = f"recordings/{recording.file.name}"
    assert s3_recordings.get_object(Bucket="clinic-recordings", Key=key)["Body"].read() == data

    response = staff_client.get(url(call), HTTP_RANGE="bytes=1000-1999")
    assert (response.status_code, response["Content-Range"]) == (206, f"bytes 1000-1999/{len(data)}")
    assert body(response) == data[1000:2000]
    assert body(staff_client.get(url(call))) == data

    # An object that went missing from the bucket is a 404 that says so, not an error.
    s3_recordings.delete_object(Bucket="clinic-recordings", Key=key)
    response = staff_client.get(url(call))
    assert (response.status_code, body(response)) == (404, b"This call's recording file is missing from the storage.")

    s3_recordings.put_object(Bucket="clinic-recordings", Key=key, Body=data)
    with django_capture_on_commit_callbacks(execute=True):
        redact_expired_transcripts()
    assert s3_recordings.list_objects_v2(Bucket="clinic-recordings").get("KeyCount") == 0
    recording.refresh_from_db()
    assert (recording.state, recording.file.name, recording.duration_ms) == ("removed", "", 6000)
