"""One response: the items a responder says or calls, their events, and the tokens they cost."""

import asyncio
import base64
import json
import math

from receptionist.engines.simulated.audio import SAMPLE_RATE, speech_ms
from receptionist.engines.simulated.events import ResponseEnded, new_id


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
