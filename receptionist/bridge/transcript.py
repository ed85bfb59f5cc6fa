"""The order of a call's items and the words of each, as the upstream tells them.

Transcripts arrive out of order: the caller's usually after Ava's reply has
begun. So positions come from the upstream's item order (each item names its
`previous_item_id`) at the moment an item is placed, never from when its
words arrive. Positions leave gaps so an item inserted between two others still
gets a position between theirs.
"""

from django.utils import timezone

STEP = 1000


class Transcript:
    def __init__(self):
        self.order = []  # ids of the upstream conversation's items, in its order
        self.positions = {}
        self.last_position = -STEP
        self.placed_at = {}
        self.lines = {}  # item id -> (speaker, words) of the utterances saved
        self.seeded = set()  # items we created to re-seed a new session: already saved

    def place(self, item_id, previous_item_id=None, *, in_conversation=True):
        """The item's position, fixed the first time it is placed.

        Items outside the upstream conversation (an out-of-band filler, the page's last words)
        are placed after everything so far but are never anyone's `previous_item_id`.
        """
        if item_id in self.positions:
            return self.positions[item_id]
        if in_conversation and previous_item_id in self.positions and self.order and previous_item_id != self.order[-1]:
            at = self.order.index(previous_item_id)
            low, high = self.positions[previous_item_id], self.positions[self.order[at + 1]]
            position = (low + high) // 2 if high - low > 1 else low  # no room: ties fall back to time
            self.order.insert(at + 1, item_id)
        else:
            # Appended: the usual case, and also an item after one we never placed (another session's).
            position = self.last_position + STEP
            if in_conversation:
                self.order.append(item_id)
        self.last_position = max(self.last_position, position)
        self.positions[item_id] = position
        self.placed_at[item_id] = timezone.now()
        return position

    def resume(self, lines):
        """The lines already saved (a call taken back): [(position, speaker, words)], in order. They seed the
        new session, and new items are placed after them."""
        for n, (position, speaker, words) in enumerate(lines):
            key = f"saved_{n}"
            self.positions[key] = position
            self.lines[key] = (speaker, words)
            self.last_position = max(self.last_position, position)

    def record(self, item_id, speaker, words):
        self.lines[item_id] = (speaker, words)

    def conversation_so_far(self):
        """(speaker, words) of every saved utterance, in order: what a new session is seeded with."""
        ordered = sorted(self.lines, key=lambda item_id: self.positions.get(item_id, 0))
        return [self.lines[i] for i in ordered if self.lines[i][1]]


def heard_words(text, heard_ms, audio_ms):
    """The part of `text` the caller heard when its audio stopped after `heard_ms` of `audio_ms`.

    Transcripts carry no word timings, so this cuts in proportion, at a word boundary.
    """
    if audio_ms <= 0 or heard_ms >= audio_ms:
        return text
    if heard_ms <= 0:
        return ""
    cut = int(len(text) * heard_ms / audio_ms)
    head = text[:cut]
    if cut < len(text) and not text[cut].isspace():
        head = head.rsplit(" ", 1)[0] if " " in head else ""
    return head.rstrip(" ,;:") + ("…" if head.strip() else "")
