"""The call as the caller heard it, on one clock: where each piece of audio goes in the recording.

Pure and synchronous (numpy, no I/O); the recorder's thread feeds it what the relay loop queued, in order,
and takes finished stereo frames from its front. Positions are samples at the line's rate from t=0, the
caller's consent.

- The caller's audio is placed where it arrived: a chunk (or a burst of chunks that arrived together, as the
  page's pre-roll does) ends at its arrival time. A gap longer than PAD_AFTER_MS becomes silence; anything
  closer, or earlier than what is already placed (a burst), follows on contiguously.
- Ava's audio: an item starts playing at max(its first chunk's arrival, the end of her previous audio) and
  plays contiguously. A barge-in cuts the item at what was played and drops the rest of it and everything
  queued after it; a caller who hangs up hears nothing after that moment.
- Offsets: Ava's item from its start to start + what was heard; the caller's item from the first voiced
  10 ms frame after their previous turn to where their audio stood when it was committed.
"""

import numpy as np

BURST_GAP_SECONDS = 0.010  # caller chunks arriving closer together than this were sent together
PAD_AFTER_MS = 100  # a caller gap shorter than this is network jitter, not silence
VOICED_DBFS = -40.0  # a 10 ms frame louder than this (RMS) is the caller speaking
FRAME_MS = 10


def _mulaw_table():
    """G.711 mu-law byte -> 16-bit linear sample (ITU-T G.711's decoder), for all 256 bytes."""
    table = np.zeros(256, dtype=np.int16)
    for byte in range(256):
        inverted = ~byte & 0xFF
        magnitude = (((inverted & 0x0F) << 3) + 0x84) << ((inverted & 0x70) >> 4)
        table[byte] = (0x84 - magnitude) if inverted & 0x80 else (magnitude - 0x84)
    return table


MULAW = _mulaw_table()


class Track:
    """One side's audio not yet taken: segments (start sample, int16 array), in order."""

    def __init__(self):
        self.segments = []

    def put(self, start, samples):
        self.segments.append((start, samples))

    def cut(self, at):
        """Drop everything from sample `at` on."""
        kept = []
        for start, samples in self.segments:
            if start >= at:
                continue
            kept.append((start, samples[:at - start]) if start + len(samples) > at else (start, samples))
        self.segments = kept

    def take(self, begin, end):
        """Samples [begin, end) as one array (silence where nothing was placed); they leave the track."""
        out = np.zeros(end - begin, dtype=np.int16)
        kept = []
        for start, samples in self.segments:
            stop = start + len(samples)
            lo, hi = max(start, begin), min(stop, end)
            if lo < hi:
                out[lo - begin:hi - begin] = samples[lo - start:hi - start]
            if stop > end:
                kept.append((end, samples[end - start:]) if start < end else (start, samples))
        self.segments = kept
        return out


class AvaItem:
    __slots__ = ("start", "length", "heard")

    def __init__(self, start):
        self.start, self.length, self.heard = start, 0, None  # heard: samples, once cut

    @property
    def end(self):
        return self.start + (self.length if self.heard is None else self.heard)


class Timeline:
    def __init__(self, *, rate, mulaw):
        self.rate, self.mulaw = rate, mulaw
        self.taken = 0  # samples before this are encoded (gone from the tracks)
        self.caller, self.ava = Track(), Track()
        self.caller_end = 0  # where the caller's next contiguous audio goes
        self.ava_end = 0  # where Ava's audio stops playing
        self.items = {}  # Ava's item id -> AvaItem
        self.turns = {}  # the caller's item id -> (start, end) samples
        self._turn_voiced = None  # the first voiced sample of the caller's turn, once heard
        self._turn_audio = None  # the first sample of it at all
        self._burst = []  # caller chunks (arrival seconds, samples) that arrived together, not yet placed
        self.pad = PAD_AFTER_MS * rate // 1000
        self.frame = FRAME_MS * rate // 1000
        self.voiced_level = (10 ** (VOICED_DBFS / 20) * 32768) ** 2 * self.frame  # a frame's sum of squares

    def at(self, seconds):
        """The sample of a moment (seconds since t=0)."""
        return max(0, round(seconds * self.rate))

    def samples(self, chunk):
        if self.mulaw:
            return MULAW[np.frombuffer(chunk, dtype=np.uint8)]
        return np.frombuffer(chunk[:len(chunk) & ~1], dtype="<i2").astype(np.int16, copy=False)

    # --- the caller ------------------------------------------------------------------------------
    def caller_audio(self, seconds, chunk):
        if self._burst and seconds - self._burst[-1][0] >= BURST_GAP_SECONDS:
            self.place_caller()
        self._burst.append((seconds, self.samples(chunk)))

    def place_caller(self):
        """Place the burst waiting: it ends where its last chunk arrived, unless that overlaps what is placed."""
        if not self._burst:
            return
        samples = np.concatenate([s for _, s in self._burst])
        arrived = self._burst[-1][0]
        self._burst = []
        start = self.at(arrived) - len(samples)
        if start <= self.caller_end + self.pad:
            start = self.caller_end
        start = max(start, self.taken)
        self.caller.put(start, samples)
        self.caller_end = start + len(samples)
        if self._turn_audio is None:
            self._turn_audio = start
        if self._turn_voiced is None:
            voiced = self._first_voiced(samples)
            if voiced is not None:
                self._turn_voiced = start + voiced

    def burst_settled(self, seconds):
        """Place the burst waiting if nothing can join it any more (`seconds`: now)."""
        if self._burst and seconds - self._burst[-1][0] >= BURST_GAP_SECONDS:
            self.place_caller()

    def _first_voiced(self, samples):
        whole = len(samples) // self.frame * self.frame
        if not whole:
            return None
        frames = samples[:whole].astype(np.float64).reshape(-1, self.frame)
        loud = np.flatnonzero(np.einsum("ij,ij->i", frames, frames) > self.voiced_level)
        return int(loud[0]) * self.frame if len(loud) else None

    def committed(self, item_id):
        """The caller's turn went up as `item_id`: it spans their first voiced frame to their audio's end."""
        self.place_caller()
        start = self._turn_voiced if self._turn_voiced is not None else self._turn_audio
        if start is not None and item_id:
            self.turns[item_id] = (min(start, self.caller_end), self.caller_end)
        self._turn_voiced = self._turn_audio = None

    # --- Ava -------------------------------------------------------------------------------------
    def ava_audio(self, seconds, item_id, chunk):
        item = self.items.get(item_id)
        if item is None:
            item = self.items[item_id] = AvaItem(max(self.at(seconds), self.ava_end, self.taken))
        elif item.heard is not None:
            return  # cut off: the caller never hears more of it
        samples = self.samples(chunk)
        at = max(item.start + item.length, self.taken)
        self.ava.put(at, samples)
        item.length = at + len(samples) - item.start
        self.ava_end = max(self.ava_end, item.start + item.length)

    def cut(self, item_id, heard_ms):
        """Barge-in: the caller heard `heard_ms` of the item; nothing after that point plays."""
        item = self.items.get(item_id)
        if item is None:
            return
        self.stop_ava(item.start + min(item.length, heard_ms * self.rate // 1000))

    def stop_ava(self, at):
        """Ava's audio stops at sample `at` (what is already encoded stays)."""
        at = max(at, self.taken)
        if at >= self.ava_end:
            return
        self.ava.cut(at)
        self.ava_end = at
        for item in self.items.values():
            if item.start + item.length > at:
                item.heard = max(0, min(item.length if item.heard is None else item.heard, at - item.start))

    # --- out -------------------------------------------------------------------------------------
    def take(self, upto):
        """Stereo frames [taken, upto): the caller left, Ava right."""
        upto = max(upto, self.taken)
        left, right = self.caller.take(self.taken, upto), self.ava.take(self.taken, upto)
        self.taken = upto
        return np.column_stack((left, right))

    def end(self, seconds, *, caller_gone):
        """The call is over: where the recording ends. A caller who hung up heard nothing more of Ava."""
        self.place_caller()
        ended = self.at(seconds)
        if caller_gone:
            self.stop_ava(ended)
        return max(ended, self.caller_end, self.ava_end, self.taken)

    def offsets(self):
        """Each item's place in the recording: item id -> (start ms, end ms)."""
        ms = lambda sample: sample * 1000 // self.rate  # noqa: E731
        places = {item_id: (ms(start), ms(end)) for item_id, (start, end) in self.turns.items()}
        for item_id, item in self.items.items():
            if item.end > item.start:
                places[item_id] = (ms(item.start), ms(item.end))
        return places
