"""A simulated OpenAI Realtime session speaking the GA protocol.

It keeps what OpenAI keeps for one session (the conversation's items in order,
the input audio buffer, the one active response, the audio each assistant item
holds) and answers client events with the GA server events, including the
errors a bridge must survive: `input_audio_buffer_commit_empty`,
`conversation_already_has_active_response`, `response_cancel_not_active`, and
a truncate past the item's audio.

What a response says is decided by a *responder*: an async callable
`responder(response)` that calls `response.say(...)` and
`response.call_function(...)`. The built-in local engine plugs its simple brain
in here; the tests' fake Realtime server plugs in a script. Both therefore speak
exactly the same events, and the bridge cannot tell them from OpenAI.
"""

import asyncio
import base64
import itertools
import json
import math
import secrets
import struct

SAMPLE_RATE = 24000
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000  # PCM16 mono: 48 bytes a millisecond
MIN_COMMIT_MS = 100
# The beta shape's flat session fields; GA refuses them (they live under session.audio now).
BETA_SESSION_FIELDS = {"modalities", "voice", "input_audio_format", "output_audio_format",
                       "input_audio_transcription", "turn_detection"}


def new_id(prefix):
    return f"{prefix}_{secrets.token_hex(8)}"


def tone(ms, *, frequency=440.0, amplitude=6000):
    """PCM16 of a sine tone: stands in for speech (never silence, so a page can hear it)."""
    samples = ms * SAMPLE_RATE // 1000
    step = 2 * math.pi * frequency / SAMPLE_RATE
    return struct.pack(f"<{samples}h", *(int(amplitude * math.sin(step * i)) for i in range(samples)))


def linear_to_mulaw(sample):
    """One 16-bit linear sample as a G.711 mu-law byte (ITU-T G.711's encoder)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    return ~(sign | (exponent << 4) | ((magnitude >> (exponent + 3)) & 0x0F)) & 0xFF


def mulaw_tone(ms, *, frequency=440.0, amplitude=6000):
    """G.711 mu-law 8 kHz of a sine tone: the phone's audio/pcmu (8 bytes a millisecond)."""
    step = 2 * math.pi * frequency / 8000
    return bytes(linear_to_mulaw(int(amplitude * math.sin(step * i))) for i in range(ms * 8))


def bytes_per_ms(audio_format):
    """How many bytes a millisecond of `audio.input.format` / `audio.output.format` takes."""
    return 8 if (audio_format or {}).get("type") in ("audio/pcmu", "audio/pcma") else BYTES_PER_MS


def speech_ms(text):
    """Roughly how long a text takes to say: about 15 characters a second, at least 300 ms."""
    return max(300, len(text) * 65)


def default_session(model):
    return {
        "type": "realtime", "model": model,
        "output_modalities": ["audio"], "instructions": "", "tools": [], "tool_choice": "auto",
        "max_output_tokens": "inf",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "transcription": None,
                      "noise_reduction": None,
                      "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                         "silence_duration_ms": 200, "create_response": True,
                                         "interrupt_response": True, "idle_timeout_ms": None}},
            "output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE}, "voice": "alloy", "speed": 1.0},
        },
    }


def _merge(base, update):
    for key, value in update.items():
        # An object of another type (server_vad → semantic_vad) replaces the old one whole.
        if (isinstance(value, dict) and isinstance(base.get(key), dict)
                and value.get("type", base[key].get("type")) == base[key].get("type")):
            _merge(base[key], value)
        else:
            base[key] = value
    return base


class RealtimeError(Exception):
    def __init__(self, code, message, *, param=None, type="invalid_request_error"):
        super().__init__(message)
        self.code, self.message, self.param, self.type = code, message, param, type


class ResponseEnded(Exception):
    """Ends a response unfinished, as OpenAI can: status `failed` or `incomplete`, with its status_details."""

    def __init__(self, status, details):
        super().__init__(status)
        self.status, self.details = status, details


class Response:
    """One response being produced: the responder speaks through it."""

    def __init__(self, sim, params):
        self.sim = sim
        self.params = params
        self.id = new_id("resp")
        self.in_conversation = params.get("conversation", "auto") != "none"
        self.instructions = params.get("instructions") or ""
        self.output = []
        self.status = "in_progress"
        self.status_details = None
        self.output_text_tokens = 0
        self.output_audio_tokens = 0
        self.input = self._input_tokens()

    def _item_event(self, item):
        return {"response_id": self.id, "output_index": len(self.output) - 1, "item": dict(item)}

    async def _add_item(self, item):
        self.output.append(item)
        await self.sim.emit({"type": "response.output_item.added", **self._item_event(item)})
        if self.in_conversation:
            await self.sim.add_item(item, announce_done=False)

    async def _finish_item(self, item, status="completed"):
        item["status"] = status
        await self.sim.emit({"type": "response.output_item.done", **self._item_event(item)})
        if self.in_conversation:
            await self.sim.emit({"type": "conversation.item.done",
                                 "previous_item_id": self.sim.previous_of(item["id"]), "item": dict(item)})

    async def say(self, text, *, audio_ms=None, audio=True, chunk_ms=None, pace=None):
        """Speak `text` as one assistant audio item: audio deltas with the transcript alongside.

        `audio_ms` is how much audio it holds (default: as long as the text takes to say);
        `pace` is the wall time between chunks (default: the simulator's). `audio=False` sends
        the transcript only (the offline local engine has no voice).
        """
        sim = self.sim
        item = {"id": new_id("item"), "type": "message", "role": "assistant", "status": "in_progress",
                "object": "realtime.item", "content": []}
        await self._add_item(item)
        index = len(self.output) - 1
        await sim.emit({"type": "response.content_part.added", "response_id": self.id, "item_id": item["id"],
                        "output_index": index, "content_index": 0,
                        "part": {"type": "audio", "transcript": ""}})
        total_ms = (audio_ms if audio_ms is not None else speech_ms(text)) if audio else 0
        chunk_ms = chunk_ms or sim.chunk_ms
        pace = sim.pace if pace is None else pace
        chunks = max(1, math.ceil(total_ms / chunk_ms)) if total_ms else 1
        words = text.split(" ")
        per_chunk = max(1, math.ceil(len(words) / chunks))
        sent_ms = 0
        spoken = []
        try:
            for n in range(chunks):
                piece = words[n * per_chunk:(n + 1) * per_chunk]
                if piece:
                    delta = (" " if spoken else "") + " ".join(piece)
                    spoken.append(delta)
                    await sim.emit({"type": "response.output_audio_transcript.delta", "response_id": self.id,
                                    "item_id": item["id"], "output_index": index, "content_index": 0,
                                    "delta": delta})
                if total_ms:
                    this_ms = min(chunk_ms, total_ms - sent_ms)
                    pcm = sim.audio_chunk(this_ms)
                    sent_ms += this_ms
                    sim.item_audio_ms[item["id"]] = sent_ms
                    await sim.emit({"type": "response.output_audio.delta", "response_id": self.id,
                                    "item_id": item["id"], "output_index": index, "content_index": 0,
                                    "delta": base64.b64encode(pcm).decode()})
                if pace:
                    await asyncio.sleep(pace)
                self._check_budget("".join(spoken), sent_ms)
        except (asyncio.CancelledError, ResponseEnded) as exc:
            # Cancelled or cut off mid-item: the item keeps what was generated, like OpenAI's.
            item["content"] = [{"type": "output_audio", "transcript": "".join(spoken)}]
            if isinstance(exc, ResponseEnded):
                self.output_text_tokens += len("".join(spoken)) // 4
                self.output_audio_tokens += sent_ms // 50
            await self._finish_item(item, "incomplete")
            raise
        transcript = "".join(spoken) if len(spoken) else text
        if total_ms:
            await sim.emit({"type": "response.output_audio.done", "response_id": self.id, "item_id": item["id"],
                            "output_index": index, "content_index": 0})
        await sim.emit({"type": "response.output_audio_transcript.done", "response_id": self.id,
                        "item_id": item["id"], "output_index": index, "content_index": 0,
                        "transcript": transcript})
        item["content"] = [{"type": "output_audio", "transcript": transcript}]
        await sim.emit({"type": "response.content_part.done", "response_id": self.id, "item_id": item["id"],
                        "output_index": index, "content_index": 0,
                        "part": {"type": "audio", "transcript": transcript}})
        await self._finish_item(item)
        self.output_text_tokens += max(1, len(text) // 4)
        self.output_audio_tokens += total_ms // 50
        return item

    def _check_budget(self, text, audio_ms):
        """OpenAI stops a response at max_output_tokens (the response's, else the session's)."""
        limit = self.params.get("max_output_tokens", self.sim.session.get("max_output_tokens"))
        spent = self.output_text_tokens + self.output_audio_tokens + len(text) // 4 + audio_ms // 50
        if isinstance(limit, int) and spent > limit:
            raise ResponseEnded("incomplete", {"type": "incomplete", "reason": "max_output_tokens"})

    async def call_function(self, name, arguments):
        """Call a function: the item, the argument deltas, and `.done` with the JSON string."""
        sim = self.sim
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        item = {"id": new_id("item"), "type": "function_call", "status": "in_progress", "object": "realtime.item",
                "call_id": new_id("call"), "name": name, "arguments": ""}
        await self._add_item(item)
        index = len(self.output) - 1
        common = {"response_id": self.id, "item_id": item["id"], "output_index": index, "call_id": item["call_id"]}
        await sim.emit({"type": "response.function_call_arguments.delta", **common, "delta": args})
        item["arguments"] = args
        await sim.emit({"type": "response.function_call_arguments.done", **common, "name": name, "arguments": args})
        await self._finish_item(item)
        self.output_text_tokens += max(1, len(args) // 4)
        return item

    def _input_tokens(self):
        """What the model reads for this response: the instructions and the conversation so far.

        As OpenAI bills it: a user's audio is 1 token per 100 ms, Ava's 1 per 50 ms, text about 4
        characters a token; what an earlier response of the session already read is cached.
        """
        sim, counts = self.sim, dict.fromkeys(("text", "audio", "cached_text", "cached_audio"), 0)
        seen = sim.read_before
        counts["cached_text" if "instructions" in seen else "text"] += len(sim.session.get("instructions") or "") // 4 + 1
        counts["text"] += len(self.instructions) // 4
        for item in sim.items if self.in_conversation else []:
            cached = "cached_" if item["id"] in seen else ""
            if item.get("role") == "user" and "audio_ms" in item:
                counts[cached + "audio"] += item["audio_ms"] // 100
            elif item["id"] in sim.item_audio_ms:
                counts[cached + "audio"] += sim.item_audio_ms[item["id"]] // 50
            counts[cached + "text"] += len(json.dumps(item)) // 4
        seen.update(["instructions", *(item["id"] for item in sim.items)] if self.in_conversation else [])
        return counts

    def usage(self):
        """A `RealtimeResponseUsage`: on every response.done, cancelled ones too (their input was read)."""
        read = self.input
        text, audio = read["text"] + read["cached_text"], read["audio"] + read["cached_audio"]
        out = self.output_text_tokens + self.output_audio_tokens
        return {"total_tokens": text + audio + out, "input_tokens": text + audio, "output_tokens": out,
                "input_token_details": {"text_tokens": text, "audio_tokens": audio,
                                        "cached_tokens": read["cached_text"] + read["cached_audio"],
                                        "cached_tokens_details": {"text_tokens": read["cached_text"],
                                                                  "audio_tokens": read["cached_audio"]}},
                "output_token_details": {"text_tokens": self.output_text_tokens,
                                         "audio_tokens": self.output_audio_tokens}}

    def as_dict(self):
        details = self.status_details
        if self.status == "cancelled":
            details = {"type": "cancelled", "reason": "client_cancelled"}
        return {"object": "realtime.response", "id": self.id, "status": self.status, "status_details": details,
                "output": [dict(i) for i in self.output], "conversation_id": self.sim.conversation_id,
                "output_modalities": ["audio"], "max_output_tokens": "inf", "metadata": self.params.get("metadata"),
                "audio": {"output": {"format": {"type": "audio/pcm", "rate": SAMPLE_RATE},
                                     "voice": self.sim.session["audio"]["output"].get("voice")}},
                "usage": self.usage()}


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
        _merge(self.session, session)
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
