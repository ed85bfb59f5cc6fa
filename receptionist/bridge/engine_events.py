"""The engine's side of a call: Realtime GA server events, each handed to the part it concerns.

Audio and what was heard go to the turn state, words and order to the call record, function calls
to the tool runner, the response life cycle to the response flow; the caller's line hears about it
through the transport. Nothing here waits on the database.
"""

import base64
import binascii
import logging

from receptionist.bridge.config import BENIGN_ERRORS, LOW_RATE_LIMIT, SessionLost

log = logging.getLogger(__name__)


class EngineEvents:
    def __init__(self, *, turns, responses, record, tools, transport, link, models, then, recorder):
        self.turns, self.responses, self.record, self.tools = turns, responses, record, tools
        self.recorder = recorder  # Ava's audio as it goes to the caller, and where the caller's turns end
        self.transport, self.link = transport, link
        self.models = models  # part -> the model billed for it ("voice", "transcription")
        self.then = then  # the bridge's next step once a response (and its tools) are done
        self.low_rate_limits = set()

    async def handle(self, event):
        kind = event.get("type")
        if kind == "response.output_audio.delta":  # the hot path: no other work per frame
            turns = self.turns
            item = turns.items.get(event["item_id"]) or turns.item(event["item_id"], event.get("response_id"))
            if turns.drop_current or item.interrupted:
                turns.late_audio_dropped += 1
                return
            try:
                chunk = base64.b64decode(event["delta"])
            except (binascii.Error, TypeError):
                return
            if not item.announced:
                item.announced = True
                self.transport.start_item(item.id)
                self.transport.state("speaking")
            item.received_bytes += len(chunk)
            self.transport.audio(chunk)
            self.recorder.ava(item.id, chunk)
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            await handler(self, event)

    async def _on_response_created(self, event):
        self.responses.created(event.get("response") or {})

    async def _on_output_item_added(self, event):
        item = event.get("item") or {}
        if item.get("type") == "message" and item.get("id") not in self.turns.items:
            out_of_band = self.turns.out_of_band
            self.turns.item(item["id"], event.get("response_id"), out_of_band)
            if out_of_band:
                self.record.place(item["id"], in_conversation=False)

    async def _on_item_added(self, event):
        item = event.get("item") or {}
        item_id = item.get("id")
        if not item_id or item_id in self.record.transcript.seeded:
            return
        position = self.record.place(item_id, event.get("previous_item_id"))
        if item_id in self.record.typed:
            text = self.record.typed.pop(item_id)
            self.record.utterance(item_id, "caller", text, position, metadata={"typed": True})
            self.transport.control({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": text,
                                    "final": True})

    async def _on_committed(self, event):
        self.record.place(event["item_id"], event.get("previous_item_id"))
        self.recorder.committed(event["item_id"])

    async def _on_caller_delta(self, event):
        self.transport.control({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"),
                                "delta": event.get("delta", ""), "final": False})

    async def _on_caller_completed(self, event):
        item_id, words = event.get("item_id"), (event.get("transcript") or "").strip()
        self.transport.control({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": words,
                                "final": True})
        if words:
            self.record.utterance(item_id, "caller", words, self.record.place(item_id))
        # Billed by the transcription model, apart from the responses (per token, or per second of audio).
        self.record.usage(kind="transcription", model=self.models["transcription"], usage=event.get("usage"),
                          source_id=item_id)

    async def _on_caller_failed(self, event):
        self.transport.control({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"),
                                "text": "", "final": True, "failed": True})
        self.record.event("transcription_failed", {"item_id": event.get("item_id"), "error": event.get("error") or {}})

    async def _on_rate_limits(self, event):
        for limit in event.get("rate_limits") or []:
            name, total, left = limit.get("name"), limit.get("limit"), limit.get("remaining")
            if total and left is not None and left < total * LOW_RATE_LIMIT and name not in self.low_rate_limits:
                self.low_rate_limits.add(name)  # once per limit and call: it is reported with every response
                log.warning("OpenAI %s rate limit low: %s of %s left", name, left, total)
                self.record.event("rate_limit_low", limit)

    async def _on_audio_done(self, event):
        item = self.turns.items.get(event.get("item_id"))
        if item is not None:
            item.done = True
            if item.announced and not item.interrupted:
                self.transport.item_done(item.id, item.received_ms)

    async def _on_assistant_delta(self, event):
        item = self.turns.items.get(event.get("item_id"))
        if item is None:
            return
        item.parts.append(event.get("delta", ""))
        if not item.interrupted and not self.turns.drop_current:
            self.transport.control({"type": "transcript", "speaker": "assistant", "item_id": item.id,
                                    "delta": event.get("delta", ""), "final": False})

    async def _on_assistant_done(self, event):
        item = self.turns.items.get(event.get("item_id"))
        if item is None:
            return
        item.final = event.get("transcript") or "".join(item.parts)
        self._save_assistant(item)

    def _save_assistant(self, item):
        if item.saved:
            return
        item.saved = True
        words = item.words().strip()
        self.transport.control({"type": "transcript", "speaker": "assistant", "item_id": item.id, "text": words,
                                "final": True, "interrupted": item.heard_ms is not None})
        self.record.assistant(item)

    async def _on_arguments_done(self, event):
        if self.turns.drop_current:
            return  # the caller cut this response off; its call is not made
        self.tools.call(event.get("call_id", ""), event.get("name", ""), event.get("arguments") or "{}")

    async def _on_response_done(self, event):
        response = event.get("response") or {}
        self.responses.done(response)
        # Saved as each response ends (a cancelled or failed one was billed too): a process that dies
        # mid-call keeps what was spent.
        self.record.usage(kind="voice", model=self.models["voice"], usage=response.get("usage"),
                          source_id=response.get("id") or "")
        for output in response.get("output") or []:
            item = self.turns.items.get(output.get("id"))
            if item is not None and not item.saved:
                item.done = True
                self._save_assistant(item)
        if response.get("status") in ("failed", "incomplete") and not self.tools.batch:
            self.responses.unfinished(response)
        if self.tools.batch:
            self.tools.answer_batch(answer=response.get("status") != "cancelled")
            return
        await self.then()

    async def _on_error(self, event):
        error = event.get("error") or {}
        code = error.get("code")
        if code == "session_expired":
            raise SessionLost("session_expired")
        if code == "conversation_already_has_active_response":
            self.responses.already_active()
            return
        if code in BENIGN_ERRORS:
            return
        caused_by = self.link.caused_by(error.get("event_id"))  # which of our events it answers, if any
        log.warning("Realtime error (answering %s): %s", caused_by, error)
        self.record.event("error", {"where": "upstream", "code": code, "message": error.get("message", ""),
                                    "param": error.get("param"), "event_id": error.get("event_id"),
                                    "caused_by": caused_by})

    async def _on_speech_started(self, event):
        # Server turn detection heard the caller: the line stops playback and reports what was played.
        self.transport.stop_playback()
        self.transport.state("listening")

    _handlers = {
        "response.created": _on_response_created,
        "response.output_item.added": _on_output_item_added,
        "conversation.item.added": _on_item_added,
        "input_audio_buffer.committed": _on_committed,
        "conversation.item.input_audio_transcription.delta": _on_caller_delta,
        "conversation.item.input_audio_transcription.completed": _on_caller_completed,
        "conversation.item.input_audio_transcription.failed": _on_caller_failed,
        "response.output_audio.done": _on_audio_done,
        "response.output_audio_transcript.delta": _on_assistant_delta,
        "response.output_audio_transcript.done": _on_assistant_done,
        "response.function_call_arguments.done": _on_arguments_done,
        "response.done": _on_response_done,
        "error": _on_error,
        "input_audio_buffer.speech_started": _on_speech_started,
        "rate_limits.updated": _on_rate_limits,
    }
