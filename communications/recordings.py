"""Call recordings for staff: what a recording's state means, serving its file in byte ranges, removing it.

The file lives in the "recordings" storage (settings.STORAGES: a private folder, or S3 through
django-storages). Everything here goes through `recordings_storage()`, the storage as configured now,
and only through the storage API (open, seek, read, size, delete), so S3 works like the filesystem.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import content_disposition_header

from communications.models import CallRecording, Conversation, recordings_storage

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
PLAYABLE_STATES = (CallRecording.State.COMPLETE, CallRecording.State.PARTIAL)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def is_playable(recording):
    """A finished recording (whole, or partial up to where its process died) whose file is stored."""
    return recording is not None and recording.state in PLAYABLE_STATES and bool(recording.file.name)


def why_not_playable(recording, conversation):
    """A sentence for staff: why there is nothing to play. Empty when it plays."""
    if recording is None:
        return "This call was not recorded."
    if recording.state == CallRecording.State.REMOVED:
        when = date_format(timezone.localtime(recording.removed_at), "F j, Y") if recording.removed_at else "earlier"
        return f"This call's recording was removed on {when} (retention or a customer's request to be forgotten)."
    if recording.state == CallRecording.State.RECORDING:
        if conversation.is_active:
            return "This call is being recorded; the recording plays here once the call ends."
        return "The recording is being saved; reload in a moment."
    if recording.state == CallRecording.State.FAILED:
        return "This call's recording could not be written."
    if not recording.file.name:
        return "This call's recording has no file."
    return ""


# --- Serving: whole, or one byte range ----------------------------------------------------------------
class RangeNotSatisfiable(Exception):
    pass


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as HTTP counts

    @property
    def length(self):
        return self.end - self.start + 1


def requested_range(header, size):
    """The one byte range a Range header asks for, or None to send the whole file.

    A header we do not understand, or several ranges, is ignored (HTTP allows it: the answer is the
    whole file). A range that starts past the end raises RangeNotSatisfiable (416).
    """
    match = _RANGE.match((header or "").strip().replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def _chunks(file, start, length):
    try:
        file.seek(start)
        while length > 0:
            data = file.read(min(CHUNK_BYTES, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        file.close()


async def _async_chunks(file, start, length):
    # Under ASGI a synchronous iterator would be read whole into memory first (Django's handler);
    # reading chunk by chunk in a worker thread streams the file instead.
    try:
        await sync_to_async(file.seek, thread_sensitive=False)(start)
        while length > 0:
            data = await sync_to_async(file.read, thread_sensitive=False)(min(CHUNK_BYTES, length))
            if not data:
                break
            length -= len(data)
            yield data
    finally:
        await sync_to_async(file.close, thread_sensitive=False)()


class RecordingFileMissing(Exception):
    pass


def file_response(request, recording, *, filename, as_attachment=False):
    """The recording's file for this request: 200 whole, 206 one range, 416 a range past the end.

    Returns (response, starts_at_zero): whether this request reads the file from its first byte, which
    is how a listen (or a download) begins; the requests that follow it are the player seeking.
    Raises RecordingFileMissing when the storage has no such file.
    """
    storage = recordings_storage()
    name = recording.file.name
    try:
        size = storage.size(name)
    except Exception as error:  # each storage says "no such file" its own way (OSError, botocore's 404)
        if storage.exists(name):
            raise
        raise RecordingFileMissing(name) from error
    etag = f'"rec-{recording.pk}-{size}"'
    headers = {
        "Accept-Ranges": "bytes",
        # Patients' voices: never kept by a shared cache (or on disk by the browser).
        "Cache-Control": "private, no-store",
        "ETag": etag,
        "Content-Disposition": content_disposition_header(as_attachment, filename),
    }
    byte_range = None
    if request.method in ("GET", "HEAD"):
        # If-Range names the version the client holds: another version means "send it whole".
        if_range = request.headers.get("If-Range")
        if if_range is None or if_range == etag:
            try:
                byte_range = requested_range(request.headers.get("Range"), size)
            except RangeNotSatisfiable:
                response = HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
                return response, False
    if byte_range is None:
        byte_range, status, extra = ByteRange(0, size - 1), 200, {}
    else:
        status, extra = 206, {"Content-Range": f"bytes {byte_range.start}-{byte_range.end}/{size}"}
    headers = {**headers, **extra, "Content-Length": str(byte_range.length)}
    if request.method == "HEAD" or size == 0:
        return HttpResponse(status=status, content_type=recording.content_type, headers=headers), False
    try:
        file = storage.open(name, "rb")
    except (FileNotFoundError, OSError) as error:
        raise RecordingFileMissing(name) from error
    stream = _async_chunks if isinstance(request, ASGIRequest) else _chunks
    response = StreamingHttpResponse(stream(file, byte_range.start, byte_range.length), status=status,
                                     content_type=recording.content_type, headers=headers)
    return response, byte_range.start == 0


def download_name(conversation):
    """call-2026-12-02-1500-6f1c2b9e.flac: the clinic's date and time, and the conversation's short id; the
    extension is the stored file's (the recorder writes FLAC)."""
    started = timezone.localtime(conversation.started_at)
    suffix = Path(conversation.recording.file.name).suffix or ".flac"
    return f"call-{started:%Y-%m-%d-%H%M}-{str(conversation.pk)[:8]}{suffix}"


# --- Retention and forgetting -------------------------------------------------------------------------
def remove_recordings(*, conversation_ids, at, delete_files=True):
    """Mark these conversations' recordings removed (in the caller's transaction); files go after the commit.

    The row keeps its duration, size and times (the figures); only the audio goes. Deleting the files
    after the commit means a rolled-back redaction never loses a recording its row still promises.
    `delete_files=False` leaves the files to the caller's own delete_removed_files().
    Returns how many recordings were marked.
    """
    ids = list(CallRecording.objects.filter(conversation_id__in=conversation_ids)
               .exclude(state=CallRecording.State.REMOVED).values_list("pk", flat=True))
    if ids:
        CallRecording.objects.filter(pk__in=ids).update(state=CallRecording.State.REMOVED, removed_at=at)
    if ids and delete_files:
        transaction.on_commit(partial(delete_removed_files, recording_ids=ids))
    return len(ids)


def delete_removed_files(*, recording_ids=None):
    """Delete the stored (and leftover spool) files of removed recordings; returns how many were deleted.

    A row keeps its file's name until the storage has deleted it, so a file that could not be deleted
    now (the object store was down) is tried again by the next run of the nightly job.
    """
    rows = CallRecording.objects.filter(state=CallRecording.State.REMOVED).exclude(file="").only("pk", "file")
    if recording_ids is not None:
        rows = rows.filter(pk__in=recording_ids)
    storage = recordings_storage()
    deleted = 0
    for recording in rows:
        try:
            storage.delete(recording.file.name)
        except Exception:  # any storage's error: keep the name, try again tomorrow
            log.exception("Could not delete the recording file of recording %s; the nightly job tries again",
                          recording.pk)
            continue
        CallRecording.objects.filter(pk=recording.pk).update(file="")
        deleted += 1
    _delete_spool_files(recording_ids)
    return deleted


def _delete_spool_files(recording_ids):
    # A spool file left by a process that died belongs to an ended call. A live call's spool is still
    # being written by its recorder, which moves or deletes it at the end.
    rows = CallRecording.objects.filter(state=CallRecording.State.REMOVED).exclude(spool_path="").exclude(
        conversation__status=Conversation.Status.ACTIVE)
    if recording_ids is not None:
        rows = rows.filter(pk__in=recording_ids)
    for pk, spool_path in rows.values_list("pk", "spool_path"):
        try:
            Path(spool_path).unlink(missing_ok=True)
        except OSError:
            log.exception("Could not delete the spool file of recording %s", pk)
            continue
        CallRecording.objects.filter(pk=pk).update(spool_path="")


def remove_expired_recordings(*, now=None, batch_size=None):
    """Nightly: remove recordings of calls that ended more than RECORDING_RETENTION_DAYS ago.

    0 days: recordings go with the transcript's words (redact_expired_transcripts) and not before.
    Either way, files whose deletion failed on an earlier night are deleted now. Batched like the
    transcripts' job: one transaction per batch. Returns {"removed": …, "files_deleted": …}.
    """
    days = settings.RECORDING_RETENTION_DAYS
    now = now or timezone.now()
    batch_size = batch_size or settings.RETENTION_BATCH_SIZE
    removed = 0
    while days:
        with transaction.atomic():
            conversation_ids = list(
                CallRecording.objects.filter(conversation__ended_at__lt=now - timedelta(days=days))
                .exclude(state=CallRecording.State.REMOVED).order_by("conversation__ended_at")
                .values_list("conversation_id", flat=True)[:batch_size]
            )
            if not conversation_ids:
                break
            removed += remove_recordings(conversation_ids=conversation_ids, at=now, delete_files=False)
    # Tonight's, and any an earlier night could not delete.
    return {"removed": removed, "files_deleted": delete_removed_files()}
