"""A deleted conversation takes its call recording's file with it, after the commit: in code, by a queryset
(the demo's reset), and in Django admin. Nothing is left in the recordings storage that no row names.

The recordings are real FLAC files (as the recorder writes them) saved through the "recordings" storage (each test's own folder).
"""

from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.db import transaction

from communications.models import CallRecording, Channel, Conversation, Customer
from communications.services import start_conversation
from communications.tests.test_recordings import a_recorded_call
from conventions.models import AuditEntry

pytestmark = pytest.mark.django_db


def stored(recording):
    return Path(storages["recordings"].path(recording.file.name))


def test_deleting_a_conversation_deletes_its_recording_once_the_deletion_is_committed(
        tmp_path, django_capture_on_commit_callbacks):
    call, recording, _ = a_recorded_call(tmp_path)
    assert stored(recording).is_file()

    with django_capture_on_commit_callbacks() as callbacks:
        call.delete()
        # Not before the commit: a deletion rolled back must still find its file.
        assert stored(recording).is_file()
    for callback in callbacks:
        callback()

    assert not CallRecording.objects.filter(pk=recording.pk).exists()
    assert not stored(recording).exists()


def test_a_deletion_that_is_rolled_back_keeps_the_recording(tmp_path, django_capture_on_commit_callbacks):
    call, recording, data = a_recorded_call(tmp_path)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            call.delete()
            raise RuntimeError("the request failed after the delete")

    assert CallRecording.objects.filter(pk=recording.pk).exists()
    assert stored(recording).read_bytes() == data


def test_deleting_conversations_in_bulk_deletes_their_recordings_and_no_other(
        tmp_path, django_capture_on_commit_callbacks):
    # As the demo's reset deletes its conversations: one queryset, the recordings by cascade.
    (first, first_recording, _), (second, second_recording, _) = a_recorded_call(tmp_path), a_recorded_call(tmp_path)
    kept, kept_recording, kept_data = a_recorded_call(tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        Conversation.objects.filter(pk__in=[first.pk, second.pk]).delete()

    assert not stored(first_recording).exists() and not stored(second_recording).exists()
    assert stored(kept_recording).read_bytes() == kept_data
    assert CallRecording.objects.filter(pk=kept_recording.pk).exists()


def test_an_owner_deletes_a_recorded_call_in_admin_and_its_recording_goes_with_it(
        admin_client_owner, tmp_path, django_capture_on_commit_callbacks):
    call, recording, _ = a_recorded_call(tmp_path)
    page = f"/admin/communications/conversation/{call.pk}/delete/"

    confirm = admin_client_owner.get(page)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    # The confirmation lists the recording among what goes, and asks for no permission the owner lacks.
    assert "Call recording" in html and "permission to delete" not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_owner.post(page, {"post": "yes"})

    assert response.status_code == 302
    assert not Conversation.objects.filter(pk=call.pk).exists()
    assert not CallRecording.objects.filter(pk=recording.pk).exists()
    assert not stored(recording).exists()
    assert AuditEntry.objects.filter(action="delete", object_type="conversation", object_id=str(call.pk)).exists()


def test_the_admin_action_deleting_several_calls_deletes_their_recordings(
        admin_client_owner, tmp_path, django_capture_on_commit_callbacks):
    (first, first_recording, _), (second, second_recording, _) = a_recorded_call(tmp_path), a_recorded_call(tmp_path)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_owner.post("/admin/communications/conversation/", {
            "action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"})

    assert response.status_code == 302
    assert not Conversation.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert not stored(first_recording).exists() and not stored(second_recording).exists()


def test_a_failed_recordings_leftover_spool_file_goes_with_its_conversation(
        tmp_path, django_capture_on_commit_callbacks):
    call = start_conversation(channel=Channel.VOICE)
    spool = tmp_path / "spool" / f"{call.pk}.flac"
    spool.parent.mkdir()
    spool.write_bytes(b"fLaC what was written before the disk filled up")
    CallRecording.objects.create(conversation=call, state=CallRecording.State.FAILED, spool_path=str(spool),
                                 error="No space left on device")

    with django_capture_on_commit_callbacks(execute=True):
        call.delete()

    assert not spool.exists()


def test_a_live_calls_spool_file_is_left_to_its_recorder(tmp_path, django_capture_on_commit_callbacks):
    # The recorder is still writing it; at the call's end it finds no row and keeps nothing (recording_spool).
    call = start_conversation(channel=Channel.VOICE)
    spool = tmp_path / "spool" / f"{call.pk}.flac"
    spool.parent.mkdir()
    spool.write_bytes(b"fLaC the call so far")
    CallRecording.objects.create(conversation=call, state=CallRecording.State.RECORDING, spool_path=str(spool))

    with django_capture_on_commit_callbacks(execute=True):
        call.delete()

    assert spool.read_bytes() == b"fLaC the call so far"


def test_deleting_a_customer_keeps_their_calls_and_recordings(tmp_path, django_capture_on_commit_callbacks):
    # A customer's conversations outlive their record (customer becomes empty); forgetting is what erases words
    # and recordings (test_recordings).
    customer = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    call, recording, data = a_recorded_call(tmp_path, customer=customer)

    with django_capture_on_commit_callbacks(execute=True):
        customer.delete()

    call.refresh_from_db()
    assert call.customer_id is None
    assert stored(recording).read_bytes() == data


def test_a_storage_that_fails_to_delete_does_not_undo_the_deletion(
        tmp_path, settings, django_capture_on_commit_callbacks, caplog):
    call, recording, _ = a_recorded_call(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "communications.tests.test_recordings.RefusingStorage", "OPTIONS": {"location": tmp_path / "recordings", "base_url": None}}}

    with django_capture_on_commit_callbacks(execute=True):
        call.delete()

    assert not Conversation.objects.filter(pk=call.pk).exists()
    # Nothing names the file any more: the log says which one to remove by hand.
    assert recording.file.name in caplog.text
    assert stored(recording).exists()
