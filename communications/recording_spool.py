"""A call recording while it is written: opened at consent, moved from the spool into the storage when the call
ends, or recovered from the spool by the closer when the call's process died.

The voice bridge writes the audio (receptionist/bridge/recording); this module is what is kept of it: the
CallRecording row, the file moved from the local spool into the "recordings" storage (filesystem or S3,
never under a public URL), and each message's place in the file. Nothing here runs on a call's event loop:
the file work runs on the recorder's thread, the database work through the call's writer. Serving the
file and removing it (retention, forgetting) are recordings.py.
"""

import logging
import os
import tempfile
from pathlib import Path

import numpy as np

from django.core.files import File
from django.db import transaction
from django.utils import timezone

from communications.models import CallRecording, Message, recordings_storage
from communications.services import record_event

log = logging.getLogger(__name__)
# How recordings are encoded (libsndfile through soundfile): FLAC, stereo, 16-bit. It is the one codec cheap
# enough to run beside the relay (0.035 s of CPU per call-minute at 24 kHz; Ogg Vorbis 0.23 s, Ogg Opus 1-2.5 s,
# which took the relay down at 100 calls on two cores), and lossless; a call-minute is 1.4 MB at 24 kHz, 0.55 MB
# at 8 kHz. bench/README.md, "Call recordings", has the figures.
ENCODING = {"format": "FLAC", "subtype": "PCM_16"}
CONTENT_TYPE, EXTENSION = "audio/flac", ".flac"
# A spool file untouched this long has no writer (a live one grows every tick, twice a second).
ABANDONED_AFTER_SECONDS = 120
# A call taken back after an unanswered transfer continues its recording after the time it rang, up to this.
MAX_RING_GAP_MS = 120_000


def storage_name(*, conversation_id, started_at):
    """Where a call's file lives in the recordings storage: calls/YYYY/MM/DD/<conversation id>.flac."""
    return f"calls/{started_at:%Y/%m/%d}/{conversation_id}{EXTENSION}"


def open_call_recording(*, conversation_id, spool_path, sample_rate, channels):
    """The caller consented: the call's recording exists from now on (state "recording").

    A conversation keeps one recording; a second stream on it (a call resumed after a transfer) is not
    recorded over the first, and its finish finds nothing of its own to update.
    """
    _, created = CallRecording.objects.get_or_create(conversation_id=conversation_id, defaults={
        "spool_path": str(spool_path), "sample_rate": sample_rate, "channels": channels,
        "content_type": CONTENT_TYPE})
    return created


def store_spool_file(*, spool_path, name):
    """Copy a finished spool file into the recordings storage and delete it: (stored name, size in bytes).

    File work only, no database: the recorder's thread runs it (an S3 upload takes time).
    """
    storage = recordings_storage()
    with open(spool_path, "rb") as handle:
        stored = storage.save(name, File(handle, name=Path(name).name))
    size = storage.size(stored)
    Path(spool_path).unlink(missing_ok=True)
    return stored, size


def finish_call_recording(*, conversation_id, spool_path, name, size_bytes, duration_ms, offsets,
                          state=CallRecording.State.COMPLETE):
    """The call ended and its file is stored: the row says so, and each message gets its place in the file.

    `offsets`: upstream item id -> (start ms, end ms). Returns False when the row is not this spool's: the
    conversation's recording was made by an earlier stream of the call (continue_call_recording).
    """
    with transaction.atomic():
        updated = CallRecording.objects.filter(
            conversation_id=conversation_id, spool_path=str(spool_path), state=CallRecording.State.RECORDING,
        ).update(state=state, file=name, duration_ms=duration_ms, size_bytes=size_bytes, finished_at=timezone.now(),
                 spool_path="")
        if updated:
            save_recording_offsets(conversation_id=conversation_id, offsets=offsets)
    return bool(updated)


def continue_call_recording(*, conversation_id, name, size_bytes, duration_ms, offsets, started_at):
    """A call taken back after nobody at the front desk answered: its new stream's file `name` (started at
    `started_at`) joins the conversation's recording, after the time the caller spent ringing (silence, up to
    MAX_RING_GAP_MS), as one file; its messages' places count from the recording's start.

    The earlier part is decoded and encoded again with the new one (a second generation of the codec for
    it). Without an earlier recording to join (it failed, or was removed) the new part is not kept.
    Returns True when it joined.
    """
    import soundfile

    storage = recordings_storage()
    earlier = (CallRecording.objects.filter(conversation_id=conversation_id, state__in=(
        CallRecording.State.COMPLETE, CallRecording.State.PARTIAL)).exclude(file="").first())
    if earlier is None:
        log.warning("Recording %s joins no earlier recording in conversation %s; not kept", name, conversation_id)
        storage.delete(name)
        return False
    parts = []
    for part in (earlier.file.name, name):
        with storage.open(part, "rb") as handle:
            parts.append(soundfile.read(handle, dtype="int16", always_2d=True))
    (first, rate), (second, second_rate) = parts
    if second_rate != rate or second.shape[1] != first.shape[1]:
        log.warning("Recording %s (%s Hz) cannot join %s (%s Hz); not kept", name, second_rate,
                    earlier.file.name, rate)
        storage.delete(name)
        return False
    gap_ms = (started_at - earlier.finished_at).total_seconds() * 1000 if earlier.finished_at else 0
    gap = int(min(max(gap_ms, 0), MAX_RING_GAP_MS) * rate // 1000)
    joined = CallRecording.objects.filter(pk=earlier.pk, file=earlier.file.name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"joined{EXTENSION}"
        with soundfile.SoundFile(str(path), "w", samplerate=rate, channels=first.shape[1], **ENCODING) as sound:
            sound.write(first)
            sound.write(np.zeros((gap, first.shape[1]), dtype=np.int16))
            sound.write(second)
        stored, size = store_spool_file(spool_path=path, name=storage_name(
            conversation_id=conversation_id, started_at=earlier.started_at))
    frames = len(first) + gap + len(second)
    shift = (len(first) + gap) * 1000 // rate
    with transaction.atomic():
        if not joined.update(file=stored, duration_ms=frames * 1000 // rate, size_bytes=size,
                             finished_at=timezone.now()):
            storage.delete(stored)  # retention removed it meanwhile
            storage.delete(name)
            return False
        save_recording_offsets(conversation_id=conversation_id, offsets={
            item_id: (start + shift, end + shift) for item_id, (start, end) in offsets.items()})
    for old in (earlier.file.name, name):
        storage.delete(old)
    return True


def save_recording_offsets(*, conversation_id, offsets):
    """Each message's start and end in the recording (ms), found by its upstream item id."""
    for item_id, (start_ms, end_ms) in offsets.items():
        if item_id:
            Message.objects.filter(conversation_id=conversation_id, upstream_item_id=item_id).update(
                recording_start_ms=max(0, int(start_ms)), recording_end_ms=max(0, int(end_ms)))


def fail_call_recording(*, conversation_id, spool_path, error):
    """The recording could not be written: the row says why, and an event records the loss. The spool file,
    if any, is left where it is (what was written is not thrown away)."""
    error = str(error)[:300]
    updated = CallRecording.objects.filter(
        conversation_id=conversation_id, spool_path=str(spool_path), state=CallRecording.State.RECORDING,
    ).update(state=CallRecording.State.FAILED, error=error, finished_at=timezone.now())
    if updated:
        record_event(conversation_id=conversation_id, type="recording_failed",
                     data={"error": error, "spool_path": str(spool_path)})
    return bool(updated)


def finish_abandoned_recording(*, conversation_id, writer_gone, now=None):
    """A call closed by the closer (its process died, or nobody ended it): keep its recording as `partial`.

    The spool file holds every FLAC frame written before the process died; what decodes of it is kept, as a
    whole file. When the writer may still be alive (`writer_gone` False: the call was only idle), a spool
    file written to lately is left alone. Returns the recording's new state, or None when there was nothing
    to do.
    """
    recording = CallRecording.objects.filter(conversation_id=conversation_id,
                                             state=CallRecording.State.RECORDING).first()
    if recording is None:
        return None
    spool = Path(recording.spool_path) if recording.spool_path else None
    exists = spool is not None and spool.is_file()
    if exists and not writer_gone and (now or _filesystem_now(spool.parent)) - spool.stat().st_mtime \
            < ABANDONED_AFTER_SECONDS:
        return None
    audio, rate = _readable_audio(spool) if exists else (None, 0)
    if audio is None or not len(audio):
        error = ("the call's process ended before any audio was written" if not exists
                 else "the call's process ended and its spool file holds no playable audio")
        fail_call_recording(conversation_id=conversation_id, spool_path=recording.spool_path, error=error)
        return CallRecording.State.FAILED
    duration_ms = len(audio) * 1000 // rate
    with tempfile.TemporaryDirectory() as folder:
        whole = Path(folder) / f"partial{EXTENSION}"
        import soundfile

        soundfile.write(str(whole), audio, rate, **ENCODING)
        name, size = store_spool_file(spool_path=whole, name=storage_name(conversation_id=conversation_id,
                                                                             started_at=recording.started_at))
    spool.unlink(missing_ok=True)
    if not finish_call_recording(conversation_id=conversation_id, spool_path=recording.spool_path, name=name,
                                 size_bytes=size, duration_ms=duration_ms, offsets={},
                                 state=CallRecording.State.PARTIAL):
        return None
    record_event(conversation_id=conversation_id, type="recording_partial",
                 data={"duration_ms": duration_ms, "reason": "server_gone" if writer_gone else "inactive"})
    return CallRecording.State.PARTIAL


def _filesystem_now(folder):
    """Now, by the clock that stamps the spool's files (a file's mtime is compared with it, and a faked or
    skewed process clock must not make a live recording look abandoned)."""
    with tempfile.NamedTemporaryFile(dir=folder) as probe:
        return os.stat(probe.name).st_mtime


def _readable_audio(path):
    """Everything that decodes of a file cut off mid-write (its header never finished): (int16 frames, rate),
    or (None, 0) when nothing does."""
    import soundfile

    blocks = []
    try:
        with soundfile.SoundFile(str(path)) as sound:
            rate = sound.samplerate
            while True:
                try:
                    block = sound.read(rate, dtype="int16", always_2d=True)
                except (RuntimeError, soundfile.LibsndfileError):
                    break  # the frame the process was writing when it died
                if not len(block):
                    break
                blocks.append(block)
    except (RuntimeError, soundfile.LibsndfileError):
        return None, 0
    return (np.concatenate(blocks), rate) if blocks else (None, 0)
