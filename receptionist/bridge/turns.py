"""Turn state: what Ava is playing and what the caller heard of it.

Every assistant item with audio is an `AudioItem`; a barge-in or a cancel decides how much of it
the caller heard (`heard_ms`), and the saved words are cut to match. No I/O here: the bridge and
the engine events ask, and send what the answers say.
"""

from receptionist.bridge.transcript import heard_words


class AudioItem:
    """One assistant item whose audio goes to the caller."""

    __slots__ = ("id", "response_id", "received_bytes", "bytes_per_ms", "done", "interrupted", "heard_ms",
                 "out_of_band", "announced", "parts", "final", "saved")

    def __init__(self, item_id, response_id, out_of_band, bytes_per_ms):
        self.id, self.response_id, self.out_of_band = item_id, response_id, out_of_band
        self.bytes_per_ms = bytes_per_ms
        self.received_bytes = 0
        self.done = self.interrupted = self.announced = self.saved = False
        self.heard_ms = None
        self.parts = []
        self.final = None

    @property
    def received_ms(self):
        return self.received_bytes // self.bytes_per_ms

    def generated(self):
        return self.final or "".join(self.parts)

    def words(self):
        """What the caller heard of it: all of it, or the share played before a barge-in."""
        text = self.final if self.final is not None else "".join(self.parts)
        if self.heard_ms is None:
            return text
        if self.heard_ms <= 0:
            return ""
        return heard_words(text, self.heard_ms, self.received_ms)


class TurnState:
    def __init__(self, *, bytes_per_ms):
        self.bytes_per_ms = bytes_per_ms
        self.items = {}  # item id -> AudioItem
        self.response_id = None  # the response being generated
        self.out_of_band = False  # ... is a filler, outside the conversation
        self.drop_current = False  # it was cancelled: its late audio is never forwarded
        self.late_audio_dropped = 0
        self.interruptions = 0

    def item(self, item_id, response_id=None, out_of_band=False):
        """The item, made the first time it is named."""
        item = self.items.get(item_id)
        if item is None:
            item = self.items[item_id] = AudioItem(item_id, response_id, out_of_band, self.bytes_per_ms)
            if self.drop_current:  # born in a cancelled response: the caller hears none of it
                item.interrupted = True
                item.heard_ms = 0
        return item

    def response_started(self, response_id, *, out_of_band):
        self.response_id, self.out_of_band = response_id, out_of_band

    def response_ended(self):
        self.drop_current = False

    def cancelled(self):
        """The running response is cancelled: what the caller got of it is what was forwarded
        (a barge-in may then report less)."""
        self.drop_current = True
        for item in self.items.values():
            if item.response_id == self.response_id and not item.done and not item.interrupted:
                item.interrupted = True
                item.heard_ms = item.received_ms

    def barge_in(self, item, played_ms):
        """The caller cut `item` off after `played_ms`: the audio_end_ms to truncate at, or None when
        the item had been played whole."""
        item.interrupted = True
        self.interruptions += 1
        if item.done and played_ms >= item.received_ms:
            return None
        item.heard_ms = max(0, min(played_ms, item.received_ms))
        return item.heard_ms

    def reset(self):
        """A new engine session: nothing of the old one is still playing."""
        self.drop_current = False
        for item in self.items.values():
            item.done = True
