"""Item order and transcript: what the call keeps, queued on its writer (never written in the relay loop).

Positions come from the engine's item order (transcript.py); every write goes through the call's
`PersistenceWriter` (writer.py) in order, off the relay path.
"""

import secrets

from receptionist import services
from receptionist.bridge.transcript import Transcript
from receptionist.bridge.writer import PersistenceWriter


class CallRecord:
    def __init__(self):
        self.writer = PersistenceWriter()
        self.transcript = Transcript()
        self.conversation_id = None
        self.typed = {}  # item id -> a typed turn's words, saved once the engine places its item

    def start(self):
        self.writer.start()

    def _put(self, function, **kwargs):
        self.writer.put(function, conversation_id=self.conversation_id, **kwargs)

    def place(self, item_id, previous_item_id=None, *, in_conversation=True):
        return self.transcript.place(item_id, previous_item_id, in_conversation=in_conversation)

    def event(self, type, data):
        self._put(services.record_event, type=type, data=data)

    def consent(self, accepted):
        self._put(services.record_consent, accepted=accepted)

    def usage(self, *, kind, model, usage, source_id):
        self._put(services.record_usage, kind=kind, model=model, usage=usage, source_id=source_id)

    def interruption(self, *, item_id, played_ms, audio_end_ms):
        self._put(services.record_interruption, item_id=item_id, played_ms=played_ms, audio_end_ms=audio_end_ms)

    def utterance(self, item_id, speaker, words, position, metadata=None):
        """A line of the conversation, kept also to re-seed a new engine session."""
        self.transcript.record(item_id, speaker, words)
        self._put(services.save_utterance, speaker=speaker, content=words, position=position, item_id=item_id,
                  sent_at=self.transcript.placed_at.get(item_id), metadata=metadata)

    def assistant(self, item):
        """Ava's item as the caller heard it (interrupted: the words before the cut, and what was meant)."""
        words = item.words().strip()
        if words:
            metadata = {"filler": True} if item.out_of_band else {}
            if item.heard_ms is not None:
                metadata.update(interrupted=True, heard_ms=item.heard_ms, audio_ms=item.received_ms,
                                generated=item.generated())
            self.utterance(item.id, "assistant", words, self.place(item.id), metadata=metadata)
        return words

    def revise(self, item):
        """An item saved before the caller cut it off: keep only what they heard."""
        words = item.words().strip()
        self.transcript.record(item.id, "assistant", words)
        self._put(services.revise_utterance, item_id=item.id, content=words or "…",
                  metadata={"interrupted": True, "heard_ms": item.heard_ms, "audio_ms": item.received_ms,
                            "generated": item.generated()})

    def outside_conversation(self, line, metadata, *, item_id=None):
        """A line the engine never said (shown only, or spoken by the page): after everything so far."""
        position = self.place(item_id or f"end_{secrets.token_hex(4)}", in_conversation=False)
        self._put(services.save_utterance, speaker="assistant", content=line, position=position, item_id="",
                  sent_at=None, metadata=metadata)

    def finish(self, *, end_reason, failed, stats):
        if self.conversation_id is not None:
            self._put(services.finish_voice_call, end_reason=end_reason, failed=failed, stats=stats)

    async def close(self):
        await self.writer.close()
