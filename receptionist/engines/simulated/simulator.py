"""One session: the conversation's items, the input audio buffer, and every client event's answer."""

import asyncio
import base64
import itertools

from receptionist.engines.simulated.audio import bytes_per_ms, mulaw_tone, tone
from receptionist.engines.simulated.events import RealtimeError, ResponseEnded, new_id
from receptionist.engines.simulated.response import Response
from receptionist.engines.simulated.session import BETA_SESSION_FIELDS, default_session, merge_session

MIN_COMMIT_MS = 100


class RealtimeSimulator:
    """One GA Realtime session: feed it client events with `handle`, it emits server events."""

    def __init__(self, *, emit, responder, model="gpt-realtime", transcriber=None, pace=0.0, chunk_ms=100):
        self.emit_event = emit
        self.responder = responder
        self.transcriber = transcriber  # async (item_id, pcm) -> transcript or None
        self.session = default_session(model)
        self.conversation_id = new_id("conv")
        self.items = []
        self.item_audio_ms = {}
        self.read_before = set()  # item ids (and "instructions") an earlier response read: cached now
        self.input_audio = bytearray()
        self.response = None
        self.response_task = None
        self.pace = pace
        self.chunk_ms = chunk_ms
        self._events = itertools.count(1)
        self._chunk_cache = {}
        self.closed = False

    # --- plumbing ------------------------------------------------------------------------
    async def emit(self, event):
        if self.closed:
            return
        await self.emit_event({"event_id": f"event_{next(self._events)}", **event})

    def audio_chunk(self, ms):
        # In the session's output format: PCM16 24 kHz, or mu-law 8 kHz on the phone (audio/pcmu).
        phone = bytes_per_ms(self.session["audio"]["output"].get("format")) == 8
        if (phone, ms) not in self._chunk_cache:
            self._chunk_cache[(phone, ms)] = mulaw_tone(ms) if phone else tone(ms)
        return self._chunk_cache[(phone, ms)]

    def input_ms(self, audio):
        return len(audio) / bytes_per_ms(self.session["audio"]["input"].get("format"))

    def previous_of(self, item_id):
        for n, item in enumerate(self.items):
            if item["id"] == item_id:
                return self.items[n - 1]["id"] if n else None
        return None

    def item(self, item_id):
        return next((i for i in self.items if i["id"] == item_id), None)

    async def add_item(self, item, *, previous_item_id=None, announce_done=True):
        if previous_item_id is None:
            previous = self.items[-1]["id"] if self.items else None
            self.items.append(item)
        elif previous_item_id == "root":
            previous = None
            self.items.insert(0, item)
        else:
            at = next(n for n, i in enumerate(self.items) if i["id"] == previous_item_id)
            previous = previous_item_id
            self.items.insert(at + 1, item)
        await self.emit({"type": "conversation.item.added", "previous_item_id": previous, "item": dict(item)})
        if announce_done:
            await self.emit({"type": "conversation.item.done", "previous_item_id": previous, "item": dict(item)})

    async def error(self, exc, event):
        await self.emit({"type": "error", "error": {"type": exc.type, "code": exc.code, "message": exc.message,
                                                    "param": exc.param, "event_id": event.get("event_id")}})

    async def open(self):
        await self.emit({"type": "session.created", "session": self.session})

    async def close(self):
        self.closed = True
        if self.response_task:
            self.response_task.cancel()

    # --- client events -------------------------------------------------------------------
    async def handle(self, event):
        try:
            kind = event.get("type") if isinstance(event, dict) else None
            handler = getattr(self, "on_" + (kind or "").replace(".", "_"), None)
            if handler is None:
                raise RealtimeError("invalid_event", f"Invalid value: '{kind}'. Supported values are client events.",
                                    param="type")
            await handler(event)
        except RealtimeError as exc:
            await self.error(exc, event if isinstance(event, dict) else {})

    async def on_session_update(self, event):
        session = event.get("session") or {}
        if session.get("type") != "realtime":
            raise RealtimeError("missing_required_parameter", "Missing required parameter: 'session.type'.",
                                param="session.type")
        beta = BETA_SESSION_FIELDS & set(session)
        if beta:
            field = sorted(beta)[0]
            raise RealtimeError("unknown_parameter", f"Unknown parameter: 'session.{field}'.", param=f"session.{field}")
        merge_session(self.session, session)
        await self.emit({"type": "session.updated", "session": self.session})

    async def on_input_audio_buffer_append(self, event):
        try:
            self.input_audio += base64.b64decode(event["audio"], validate=True)
        except (KeyError, ValueError):
            raise RealtimeError("invalid_value", "Invalid 'audio'. Expected base64-encoded audio.", param="audio") from None

    async def on_input_audio_buffer_clear(self, event):
        self.input_audio.clear()
        await self.emit({"type": "input_audio_buffer.cleared"})

    async def on_input_audio_buffer_commit(self, event):
        ms = self.input_ms(self.input_audio)
        if ms < MIN_COMMIT_MS:
            raise RealtimeError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least {MIN_COMMIT_MS}ms "
                f"of audio, but buffer only has {ms:.2f}ms of audio.",
            )
        pcm, self.input_audio = bytes(self.input_audio), bytearray()
        item = {"id": new_id("item"), "type": "message", "role": "user", "status": "completed",
                "object": "realtime.item", "content": [{"type": "input_audio", "transcript": None}]}
        previous = self.items[-1]["id"] if self.items else None
        await self.emit({"type": "input_audio_buffer.committed", "previous_item_id": previous, "item_id": item["id"]})
        await self.add_item(item)
        item["audio_ms"] = int(ms)
        if self.session["audio"]["input"].get("transcription") and self.transcriber:
            asyncio.ensure_future(self._transcribe(item, pcm))

    async def _transcribe(self, item, pcm):
        transcript = await self.transcriber(item["id"], pcm)
        if transcript is None:
            await self.emit({"type": "conversation.item.input_audio_transcription.failed", "item_id": item["id"],
                             "content_index": 0, "error": {"type": "transcription_error", "code": "no_speech",
                                                           "message": "No speech recognised."}})
            return
        item["content"][0]["transcript"] = transcript
        await self.emit({"type": "conversation.item.input_audio_transcription.delta", "item_id": item["id"],
                         "content_index": 0, "delta": transcript})
        await self.emit({"type": "conversation.item.input_audio_transcription.completed", "item_id": item["id"],
                         "content_index": 0, "transcript": transcript, "usage": self._transcription_usage(pcm, transcript)})

    def _transcription_usage(self, pcm, transcript):
        """As the transcription model bills: gpt-4o-*transcribe by tokens, the others by the second."""
        model = (self.session["audio"]["input"].get("transcription") or {}).get("model") or ""
        ms = self.input_ms(pcm)
        if "4o" not in model:
            return {"type": "duration", "seconds": round(ms / 1000, 2)}
        audio, text_out = int(ms // 100), max(1, len(transcript) // 4)
        return {"type": "tokens", "input_tokens": audio, "output_tokens": text_out, "total_tokens": audio + text_out,
                "input_token_details": {"audio_tokens": audio, "text_tokens": 0}}

    async def on_conversation_item_create(self, event):
        item = dict(event.get("item") or {})
        kind = item.get("type")
        if kind not in {"message", "function_call", "function_call_output"}:
            raise RealtimeError("invalid_value", f"Invalid value: '{kind}'.", param="item.type")
        if kind == "function_call_output":
            if not isinstance(item.get("output"), str):
                raise RealtimeError("invalid_type", "Invalid type for 'item.output': expected a string.",
                                    param="item.output")
            if not any(i.get("call_id") == item.get("call_id") and i["type"] == "function_call" for i in self.items):
                raise RealtimeError("invalid_value", f"Tool call ID '{item.get('call_id')}' not found in conversation.",
                                    param="item.call_id")
        if kind == "message":
            allowed = {"user": {"input_text", "input_audio"}, "assistant": {"output_text", "output_audio"},
                       "system": {"input_text"}}.get(item.get("role"))
            if allowed is None or not item.get("content") or any(c.get("type") not in allowed for c in item["content"]):
                raise RealtimeError("invalid_value", "Invalid content type for this role.", param="item.content")
        previous = event.get("previous_item_id")
        if previous not in (None, "root") and self.item(previous) is None:
            raise RealtimeError("item_not_found", f"Previous item with id '{previous}' not found.",
                                param="previous_item_id")
        if item.get("id") and self.item(item["id"]) is not None:
            raise RealtimeError("duplicate_item_id", f"Item with id '{item['id']}' already exists.", param="item.id")
        item.setdefault("id", new_id("item"))
        item.setdefault("object", "realtime.item")
        item.setdefault("status", "completed")
        await self.add_item(item, previous_item_id=previous)

    async def on_conversation_item_truncate(self, event):
        item = self.item(event.get("item_id"))
        if item is None:
            raise RealtimeError("item_not_found", f"Item with id '{event.get('item_id')}' not found.",
                                param="item_id")
        if item.get("role") != "assistant" or item["type"] != "message":
            raise RealtimeError("invalid_value", "Only assistant messages can be truncated.", param="item_id")
        audio_ms = self.item_audio_ms.get(item["id"], 0)
        end = event.get("audio_end_ms")
        if not isinstance(end, int) or end < 0:
            raise RealtimeError("invalid_value", "Invalid 'audio_end_ms'.", param="audio_end_ms")
        if end > audio_ms:
            raise RealtimeError("invalid_value", f"Audio content of {audio_ms}ms is already shorter than {end}ms",
                                param="audio_end_ms")
        self.item_audio_ms[item["id"]] = end
        for part in item.get("content", []):
            part["transcript"] = ""  # OpenAI drops the transcript so no unheard text stays in context
        await self.emit({"type": "conversation.item.truncated", "item_id": item["id"], "content_index": 0,
                         "audio_end_ms": end})

    async def on_conversation_item_delete(self, event):
        item = self.item(event.get("item_id"))
        if item is None:
            raise RealtimeError("item_not_found", f"Item with id '{event.get('item_id')}' not found.", param="item_id")
        self.items.remove(item)
        await self.emit({"type": "conversation.item.deleted", "item_id": item["id"]})

    async def on_conversation_item_retrieve(self, event):
        item = self.item(event.get("item_id"))
        if item is None:
            raise RealtimeError("item_not_found", f"Item with id '{event.get('item_id')}' not found.", param="item_id")
        await self.emit({"type": "conversation.item.retrieved", "item": dict(item)})

    async def on_response_create(self, event):
        if self.response is not None:
            raise RealtimeError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
            )
        response = self.response = Response(self, event.get("response") or {})
        await self.emit({"type": "response.created", "response": {**response.as_dict(), "usage": None}})
        self.response_task = asyncio.ensure_future(self._run_response(response))

    async def _run_response(self, response):
        try:
            await self.responder(response)
            response.status = "completed"
        except asyncio.CancelledError:
            response.status = "cancelled"
        except ResponseEnded as ended:
            response.status, response.status_details = ended.status, ended.details
        except Exception as exc:  # a broken responder fails the response, as a server fault would
            response.status = "failed"
            response.status_details = {"type": "failed", "error": {
                "type": "server_error", "code": None, "message": f"The server had an error: {exc}"}}
            await self.emit({"type": "error", "error": {"type": "server_error", "code": None,
                                                        "message": f"The server had an error: {exc}",
                                                        "param": None, "event_id": None}})
        if self.response is response:
            self.response = None
            self.response_task = None
        if response.in_conversation:  # what the model wrote is in its cache for the next response
            self.read_before.update(item["id"] for item in response.output)
        await self.emit({"type": "response.done", "response": response.as_dict()})

    async def on_response_cancel(self, event):
        if self.response is None or self.response_task is None:
            raise RealtimeError("response_cancel_not_active", "Cancellation failed: no active response found")
        task = self.response_task
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def on_output_audio_buffer_clear(self, event):
        await self.emit({"type": "output_audio_buffer.cleared", "response_id": None})
