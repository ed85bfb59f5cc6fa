"""Recording a call: the relay loop only notes what happened; one writer thread per process writes the files.

On the loop each note is one append to a deque (a monotonic time and the bytes): no decoding, numpy, file or
database work. The writer thread (shared by every call of the process, so the loop contends for the GIL with
one thread, not one per call) wakes every TICK_SECONDS, places each call's notes on its timeline (timeline.py) and
encodes to FLAC with soundfile (libsndfile), stereo (the caller left, Ava right) at the line's rate, appending
to a spool file under RECORDINGS_SPOOL_DIR (the codec and why: communications/recording_spool.ENCODING). Each
FLAC frame is written as it is encoded, so if the process dies what was written decodes (the closer keeps it
as `partial`). Encoding releases the GIL; the thread's own Python work is about 0.6 ms a tick. Ava's audio is
encoded HOLDBACK_SECONDS behind "now": her audio comes faster than it plays, and a barge-in must still be able
to cut what the caller never heard.

At the end the thread encodes the rest and moves the file into the recordings storage; the row and each
message's place in the file are then saved through the database (communications/recording_spool.py). A writer
that fails never breaks the call: the recording becomes `failed` and a `recording_failed` event says why.
"""

import asyncio
import collections
import logging
import secrets
import threading
import time
from pathlib import Path

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.conf import settings
from django.utils import timezone

from communications import recording_spool
from receptionist.bridge.recording.timeline import Timeline

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5
NAP_SECONDS = 0.1  # how soon the writer notices a call that closed
HOLDBACK_SECONDS = 2.0
CLOSE_TIMEOUT = 60.0  # the most a call's end waits for its file to be finished and stored
CHANNELS = 2
_CALLER, _AVA, _CUT, _COMMITTED, _END, _CLOSE = range(6)


class CallRecorder:
    """The loop's side: notes, O(1) each. `begin()` at the caller's consent; nothing is noted before it."""

    def __init__(self, *, audio_format, record):
        self.record = record  # the call's CallRecord: its writer saves the row in order with the rest
        self.mulaw = audio_format.session_format.get("type") == "audio/pcmu"
        self.rate = 8000 if self.mulaw else audio_format.session_format.get("rate", 24000)
        self.active = False
        self.spool_path = None
        self.started_at = None
        self._notes = collections.deque()
        self._writers = None  # the process's WriterThread, once recording
        self._result = None  # the thread's answer: a future on the loop
        self._ending = False
        self._failure_reported = False

    def begin(self):
        """The caller consented: t=0. Nothing when recordings are off."""
        if self.active or not settings.RECORDINGS_ENABLED or self.record.conversation_id is None:
            return
        conversation_id = self.record.conversation_id
        name = f"{conversation_id}-{secrets.token_hex(4)}{recording_spool.EXTENSION}"
        self.spool_path = Path(settings.RECORDINGS_SPOOL_DIR) / name
        self.record.writer.put(recording_spool.open_call_recording, conversation_id=conversation_id,
                               spool_path=str(self.spool_path), sample_rate=self.rate, channels=CHANNELS)
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        self.started_at = timezone.now()
        writer = SpoolWriter(notes=self._notes, rate=self.rate, mulaw=self.mulaw, path=self.spool_path,
                             conversation_id=conversation_id, started_at=self.started_at, started=time.monotonic(),
                             done=self._thread_done(loop), failed=self._thread_failed(loop))
        self.active = True
        self._writers = WriterThread.shared()
        self._writers.add(writer)

    # --- notes (the relay loop; each is one append) ---------------------------------------------
    def caller(self, chunk):
        if self.active:
            self._notes.append((_CALLER, time.monotonic(), chunk))

    def ava(self, item_id, chunk):
        if self.active:
            self._notes.append((_AVA, time.monotonic(), item_id, chunk))

    def cut(self, item_id, heard_ms):
        """Barge-in: the caller heard `heard_ms` of Ava's item."""
        if self.active:
            self._notes.append((_CUT, item_id, heard_ms))

    def committed(self, item_id):
        """The caller's audio so far went up as item `item_id`."""
        if self.active:
            self._notes.append((_COMMITTED, item_id))

    def end(self, *, caller_gone):
        """The call is over (now); `caller_gone`: they hung up, so nothing more of Ava reached them.

        Ava's last words may still be playing (the phone waits for them): a barge-in on them still cuts
        until close()."""
        if self.active and not self._ending:
            self._ending = True
            self._notes.append((_END, time.monotonic(), caller_gone))

    # --- the end ---------------------------------------------------------------------------------
    async def close(self):
        """Wait (off the loop) for the file to be finished and stored, then save the row and the offsets.

        Run after the call's writes (its messages exist, so their offsets can be set)."""
        if self._writers is None:
            return
        self.end(caller_gone=False)
        self._notes.append((_CLOSE,))
        self._writers.wake.set()
        self.active = False
        try:
            outcome = await asyncio.wait_for(asyncio.shield(self._result), CLOSE_TIMEOUT)
        except asyncio.TimeoutError:
            outcome = {"error": f"the recording was not finished within {CLOSE_TIMEOUT:.0f} s"}
        conversation_id, spool_path = self.record.conversation_id, str(self.spool_path)
        try:
            if "error" in outcome:
                if not self._failure_reported:
                    self._failure_reported = True
                    await database_sync_to_async(recording_spool.fail_call_recording)(
                        conversation_id=conversation_id, spool_path=spool_path, error=outcome["error"])
                return
            if not await database_sync_to_async(recording_spool.finish_call_recording)(
                    conversation_id=conversation_id, spool_path=spool_path, **outcome):
                # A call taken back after a transfer: this stream joins the recording its first one made.
                # Decoding and encoding again takes a moment: a thread of its own, not the writes' thread.
                await DatabaseSyncToAsync(recording_spool.continue_call_recording, thread_sensitive=False)(
                    conversation_id=conversation_id, started_at=self.started_at, **outcome)
        except Exception:
            log.exception("Saving the recording of conversation %s failed", conversation_id)

    def _thread_done(self, loop):
        def done(outcome):
            if not self._result.done():
                self._result.set_result(outcome)
        return lambda outcome: _call_soon(loop, done, outcome)

    def _thread_failed(self, loop):
        def failed(error):
            # Mid-call: the loss is on record now, through the call's writer (in order after the row).
            # At the end the writer is closing, so close() reports it instead.
            self.active = False
            self._notes.clear()
            if not self._ending and not self._failure_reported:
                self._failure_reported = True
                self.record.writer.put(recording_spool.fail_call_recording, conversation_id=self.record.conversation_id,
                                       spool_path=str(self.spool_path), error=error)
        return lambda error: _call_soon(loop, failed, error)


def _call_soon(loop, function, *args):
    try:
        loop.call_soon_threadsafe(function, *args)
    except RuntimeError:  # the loop is closed: the process is going away, the closer recovers the file
        pass


class WriterThread:
    """The process's one writer thread: every TICK_SECONDS (or when a call closes) it steps each call's writer."""

    _lock = threading.Lock()
    _shared = None

    def __init__(self):
        self.wake = threading.Event()
        self.writers = []
        self._writers_lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, name="call-recordings", daemon=True)
        self.thread.start()

    @classmethod
    def shared(cls):
        with cls._lock:
            if cls._shared is None or not cls._shared.thread.is_alive():
                cls._shared = cls()
            return cls._shared

    def add(self, writer):
        with self._writers_lock:
            self.writers.append(writer)

    def _nap(self):
        """Up to TICK_SECONDS, or until a call closes. In short sleeps, not Event.wait(timeout): that waits for
        an absolute monotonic time, which libfaketime (CI runs the suite under it) moves out of reach."""
        for _ in range(round(TICK_SECONDS / NAP_SECONDS)):
            if self.wake.is_set():
                break
            time.sleep(NAP_SECONDS)
        self.wake.clear()

    def run(self):
        while True:
            self._nap()
            with self._writers_lock:
                writers = list(self.writers)
            for writer in writers:
                if writer.step():  # finished, or failed: it needs no more steps
                    with self._writers_lock:
                        self.writers.remove(writer)


class SpoolWriter:
    """One call's file, stepped by the writer thread: place the notes, encode, and at the end store the file."""

    def __init__(self, *, notes, rate, mulaw, path, conversation_id, started_at, started, done, failed):
        self.notes = notes
        self.timeline = Timeline(rate=rate, mulaw=mulaw)
        self.rate, self.path = rate, path
        self.conversation_id, self.started_at, self.started = conversation_id, started_at, started
        self.done, self.failed = done, failed
        self.file = None
        self.frames = 0
        self.ended = None  # (seconds, caller_gone) once the call has ended

    def step(self):
        """Write what can be written now; True once the call is over (its file handed on to be stored)."""
        try:
            if self.file is None:
                self._open()
            ended = self._apply_notes()
            if ended is None:
                now = time.monotonic() - self.started
                self.timeline.burst_settled(now)
                self._write(self.timeline.at(now - HOLDBACK_SECONDS))
                return False
            self._write(ended)
            self.file.close()
        except Exception as exc:
            self._fail(exc)
            return True
        # Moving the file into the storage (an upload, on S3) must not hold up the other calls' writing.
        threading.Thread(target=self._store, name=f"recording-store-{self.conversation_id}", daemon=True).start()
        return True

    def _open(self):
        import soundfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = soundfile.SoundFile(str(self.path), "w", samplerate=self.rate, channels=CHANNELS,
                                        **recording_spool.ENCODING)

    def _store(self):
        try:
            name, size = recording_spool.store_spool_file(spool_path=self.path, name=recording_spool.storage_name(
                conversation_id=self.conversation_id, started_at=self.started_at))
        except Exception as exc:
            self._fail(exc)
            return
        self.done({"name": name, "size_bytes": size, "duration_ms": self.frames * 1000 // self.rate,
                   "offsets": self.timeline.offsets()})

    def _fail(self, exc):
        log.exception("Recording conversation %s failed", self.conversation_id)
        error = f"{type(exc).__name__}: {exc}"
        self._close_quietly()
        self.failed(error)
        self.done({"error": error})

    def _apply_notes(self):
        """Place everything noted so far; the recording's last sample once the call is closed, else None."""
        timeline, started = self.timeline, self.started
        while self.notes:
            note = self.notes.popleft()
            kind = note[0]
            if kind == _CALLER:
                timeline.caller_audio(note[1] - started, note[2])
            elif kind == _AVA:
                timeline.ava_audio(note[1] - started, note[2], note[3])
            elif kind == _CUT:
                timeline.cut(note[1], note[2])
            elif kind == _COMMITTED:
                timeline.committed(note[1])
            elif kind == _END:
                self.ended = note[1] - started, note[2]
            elif kind == _CLOSE:
                at, caller_gone = self.ended or (time.monotonic() - started, False)
                return timeline.end(at, caller_gone=caller_gone)
        return None

    def _write(self, upto):
        if upto > self.timeline.taken:
            frames = self.timeline.take(upto)
            self.file.write(frames)
            self.frames += len(frames)

    def _close_quietly(self):
        if self.file is not None:
            try:
                self.file.close()
            except Exception:
                pass
