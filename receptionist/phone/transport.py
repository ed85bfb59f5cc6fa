"""The phone as a transport of the voice bridge: Twilio's bidirectional Media Stream (docs/phone.md).

G.711 mu-law 8 kHz both ways, passed through to the engine as audio/pcmu (no transcoding). No page
decides the caller's turn, so the server does (vad.py): the caller's speech (with its pre-roll) goes
up in 100 ms appends, and the turn is committed 300 ms / 120 ms after its last voiced frame.

What the caller heard is known only from Twilio's `mark` echoes: after each chunk of Ava's audio a mark
named `<item>:<end ms>` follows it, and Twilio echoes it once the audio before it has been played. On a
barge-in the line sends `clear` at once (the queued audio is dropped, the pending marks come back and are
ignored) and the item is truncated at the last echoed mark, never at a wall-clock guess. The call ends
once Ava's last words have played (the last mark), by closing the stream (nothing follows <Connect>).
"""

import asyncio
import base64
import collections
import json
import logging
import time

from channels.db import database_sync_to_async

from receptionist.bridge.outbound import OrderedSender
from receptionist.bridge.transport import PCMU_8K, CallerError
from receptionist.phone.transfer import can_put_through, put_through
from receptionist.phone.vad import COMMIT, START, TurnDetector, TurnSettings

log = logging.getLogger(__name__)
APPEND_BYTES = 800  # 100 ms of mu-law: the caller's audio goes up in appends this size (fewer messages)
MAX_JOINED_BYTES = 4000  # 500 ms of mu-law: the most of Ava's audio joined into one media message
MARK_EVERY_MS = 100  # a mark follows Ava's audio once this much has been sent since the last (and at an item's end)
LAST_WORDS_TIMEOUT = 15.0  # the most the end waits for Ava's last audio to play
TRANSFER_SPEECH_WAIT = 15.0  # the most a transfer waits for Ava's "putting you through" to be heard
FRONT_DESK_KEY = "0"
PRESSED_FOR_FRONT_DESK = ("The caller pressed 0 on their phone's keypad: they are asking for the front desk. "
                          "Call transfer_to_staff now.")


class PhoneOutbound(OrderedSender):
    """Messages toward Twilio, in order. `clear()` drops what is queued and overtakes it.

    Ava's audio is queued as (chunk, mark or None): a `media` message and the `mark` after it, if any. Chunks
    found queued one after another go as one media message (up to MAX_JOINED_BYTES) followed by the last of
    their marks only, since the relay's cost is per message (bench/README.md, "Phone calls") and Twilio plays
    in order: a mark's echo proves everything before it was played (PhoneTransport.mark). A chunk that finds
    the queue empty goes alone, at once.
    """

    failure = "Sending to Twilio failed"

    def __init__(self, send_text, *, stream_sid=""):
        super().__init__()
        self._send_text = send_text
        self._sid = json.dumps(stream_sid)
        self.marks_sent = 0

    def put(self, message):
        if not self._closed:
            self._put(json.dumps(message, separators=(",", ":")))

    def media(self, chunk, mark=None):
        """Ava's audio (may be empty), then a mark named `mark`, if any, that Twilio echoes once it has played."""
        if not self._closed:
            self._put((chunk, mark))

    def clear(self, message):
        self._queue.clear()
        self._put(json.dumps(message, separators=(",", ":")), first=True)

    def _next(self):
        queue = self._queue
        item = queue.popleft()
        if isinstance(item, str) or not queue or isinstance(queue[0], str):
            return item
        parts, mark = [item[0]], item[1]
        size = len(item[0])
        while queue and not isinstance(queue[0], str) and size + len(queue[0][0]) <= MAX_JOINED_BYTES:
            chunk, later_mark = queue.popleft()
            parts.append(chunk)
            size += len(chunk)
            mark = later_mark or mark
        return b"".join(parts), mark

    async def _send(self, item):
        if isinstance(item, str):
            await self._send_text(item)
            return
        chunk, mark = item
        if chunk:
            await self._send_text('{"event":"media","streamSid":%s,"media":{"payload":"%s"}}'
                                  % (self._sid, base64.b64encode(chunk).decode()))
        if mark:
            await self._send_text('{"event":"mark","streamSid":%s,"mark":{"name":%s}}'
                                  % (self._sid, json.dumps(mark)))
            self.marks_sent += 1


class PhoneTransport:
    audio_format = PCMU_8K

    def __init__(self, *, stream_sid, send_text, close_line, turn=None):
        self.stream_sid = stream_sid
        self.close_line = close_line
        self.outbound = PhoneOutbound(send_text, stream_sid=stream_sid)
        self.detector = TurnDetector(turn or TurnSettings.from_settings())
        self.bridge = None
        self._upgoing = bytearray()
        self.item_id = None  # the assistant item whose audio is being queued
        self.queued_ms = collections.Counter()  # per item: audio sent to Twilio so far
        self.marked_ms = collections.Counter()  # per item: the end of its last mark
        self.played_ms = collections.Counter()  # per item: audio Twilio says was played (marks)
        self.pending = collections.OrderedDict()  # marks sent, not yet echoed: name -> (item, end ms)
        self.ignored = set()  # marks pending at a clear: their echoes prove nothing was played
        self.marks_sent = self.clears = self.barge_ins = 0
        self.transfers = []  # transfer tasks (transfer_to_staff on the phone)
        self.transferring = False  # the call is being handed to the front desk: its `stop` is no hang-up
        self.last_queued_at = 0.0
        self.info = {}
        self.last_clear_at = None

    # --- from Twilio -----------------------------------------------------------------------------
    @property
    def playing(self):
        return bool(self.pending)

    async def media(self, payload):
        frame = base64.b64decode(payload)
        decision = self.detector.feed(frame, playing=self.playing)
        if decision == START:
            if self.playing:
                await self.barge_in()
            self._upgoing.extend(b"".join(self.detector.preroll()))
        elif self.detector.speaking:
            self._upgoing.extend(frame)
        if len(self._upgoing) >= APPEND_BYTES or (decision == COMMIT and self._upgoing):
            chunk, self._upgoing = bytes(self._upgoing), bytearray()
            await self._to_bridge(self.bridge.caller_audio, chunk)
        if decision == COMMIT:
            await self._to_bridge(self.bridge.commit)

    def mark(self, name):
        if name in self.ignored:
            self.ignored.discard(name)
            return
        if name not in self.pending:
            return
        # Twilio plays in order: this echo proves the marks queued before it were played too (chunks sent
        # together carry only the last one's mark).
        while self.pending:
            done, (item_id, end_ms) = self.pending.popitem(last=False)
            self.played_ms[item_id] = max(self.played_ms[item_id], end_ms)
            if done == name:
                break

    async def dtmf(self, digit):
        """A key the caller pressed, kept as an event. 0 asks for the front desk (the bridge's
        caller_asked_for_staff); while Ava speaks, the line stops her where the caller heard her first."""
        self.bridge.caller_event("dtmf", {"digit": digit[:1]})
        if digit != FRONT_DESK_KEY or self.transferring:
            return
        await self.bridge.caller_asked_for_staff(why=PRESSED_FOR_FRONT_DESK,
                                                 stop_playback=self.barge_in if self.playing else None)

    async def barge_in(self):
        """The caller spoke over Ava: `clear` now, then truncate at what the marks prove was played."""
        heard = next(iter(self.pending.values()))[0] if self.pending else self.item_id
        self.clear_line()
        self.barge_ins += 1
        if heard is not None:
            await self._to_bridge(self.bridge.interrupted, heard, self.played_ms[heard])

    def clear_line(self):
        self.outbound.clear({"event": "clear", "streamSid": self.stream_sid})
        self.last_clear_at = time.monotonic()
        self.clears += 1
        self.ignored.update(self.pending)
        self.pending.clear()
        if self.item_id is not None:  # what was not marked was cleared with the rest: nothing left to mark
            self.marked_ms[self.item_id] = self.queued_ms[self.item_id]

    async def _to_bridge(self, method, *args):
        try:
            await method(*args)
        except CallerError as exc:  # a phone line cannot show it: note it and go on
            log.info("Phone call: %s (%s)", exc.code, exc.message)

    # --- the Transport the bridge uses (receptionist/bridge/transport.py) -------------------------
    def attach(self, bridge):
        self.bridge = bridge

    def start(self):
        self.outbound.start()

    def opened(self, info, *, engine):
        self.info = info

    def state(self, state):
        pass  # nothing to show on a phone

    def start_item(self, item_id):
        self._mark_the_rest()
        self.item_id = item_id

    def audio(self, chunk):
        item = self.item_id
        self.queued_ms[item] += len(chunk) // self.audio_format.bytes_per_ms
        # A mark every MARK_EVERY_MS of audio, not after every chunk: OpenAI's chunks can be 20 ms, and each mark
        # is a message out and its echo one in. What was heard is known to within that (a word is longer).
        # The item's first chunk has one, so the line counts as playing from Ava's first word (barge-in).
        if not self.marked_ms[item] or self.queued_ms[item] - self.marked_ms[item] >= MARK_EVERY_MS:
            self.outbound.media(chunk, self._mark(item))
        else:
            self.outbound.media(chunk)
        self.last_queued_at = time.monotonic()

    def _mark(self, item):
        """A mark at the end of the item's audio queued so far."""
        end_ms = self.marked_ms[item] = self.queued_ms[item]
        name = f"{item}:{end_ms}"
        self.pending[name] = (item, end_ms)
        self.marks_sent += 1  # marks queued (joined chunks send only the last)
        return name

    def _mark_the_rest(self):
        """The audio queued since the last mark gets one, so its end is known to have played."""
        item = self.item_id
        if item is not None and self.queued_ms[item] > self.marked_ms[item]:
            self.outbound.media(b"", self._mark(item))

    def item_done(self, item_id, audio_ms):
        self._mark_the_rest()

    def stop_playback(self):
        # OpenAI's own turn detection heard the caller (turn_detection server_vad / semantic_vad).
        asyncio.ensure_future(self.barge_in())

    def control(self, message):
        if message.get("type") == "tool" and message.get("name") == "transfer_to_staff" \
                and message.get("status") == "done":
            self.transfers.append(asyncio.ensure_future(self._transfer(marks_before=self.marks_sent)))

    async def _transfer(self, *, marks_before):
        """transfer_to_staff ran: in opening hours, put the caller through once Ava has said she will."""
        conversation_id = self.info["conversation_id"]
        if not await database_sync_to_async(can_put_through)(conversation_id):
            return  # Ava takes a message (the tool escalated the conversation with a callback task)
        # Her next words ("putting you through") are queued after the tool's answer: let them be heard.
        deadline = time.monotonic() + TRANSFER_SPEECH_WAIT
        while time.monotonic() < deadline and (self.marks_sent == marks_before or self.pending
                                               or self._recently_queued()):
            await asyncio.sleep(0.02)
        self.transferring = True
        try:
            await database_sync_to_async(put_through)(conversation_id=conversation_id)
        except Exception:
            self.transferring = False
            log.exception("Could not put the caller through")

    def _recently_queued(self):
        return time.monotonic() - self.last_queued_at < 0.3

    async def wait_until_played(self, timeout=LAST_WORDS_TIMEOUT):
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def end(self, reason, say, *, caller_gone):
        if caller_gone:
            await self.outbound.close(timeout=0)
            return
        # Hang up once Ava's last words have been heard (their last mark echoed), not before.
        self._mark_the_rest()
        await self.wait_until_played()
        await self.outbound.close(timeout=1.0)
        try:
            await self.close_line(reason=reason, say=say)
        except Exception:  # already gone
            log.debug("Closing the phone line failed", exc_info=True)

    def stats(self):
        return {"marks_sent": self.marks_sent, "clears": self.clears, "barge_ins": self.barge_ins}
