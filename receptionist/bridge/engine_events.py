"""The relay's side facing the engine: Realtime GA server events, the tools, and what gets saved.

A mixin of VoiceBridge (relay.py), kept apart so each file reads on its own.
"""

import asyncio
import base64
import binascii
import logging
import secrets

from channels.db import database_sync_to_async
from django.conf import settings

from receptionist import services
from receptionist.bridge.config import (
    BENIGN_ERRORS, CUT_OFF_LINE, FILTERED_LINE, LOW_RATE_LIMIT, RESPONSE_FAILED_LINE, AudioItem, SessionLost,
)
from receptionist.prompt import FILLER_LINE, say_exactly
from receptionist.tools import ToolContext, ToolResult, run_tool

log = logging.getLogger(__name__)


class EngineEvents:
    async def _on_event(self, event):
        kind = event.get("type")
        if kind == "response.output_audio.delta":  # the hot path: no other work per frame
            item = self.audio_items.get(event["item_id"]) or self._audio_item(event["item_id"], event.get("response_id"))
            if self.drop_current or item.interrupted:
                self.late_audio_dropped += 1
                return
            try:
                pcm = base64.b64decode(event["delta"])
            except (binascii.Error, TypeError):
                return
            if not item.announced:
                item.announced = True
                self.outbound.json({"type": "audio.start", "item_id": item.id})
                self._state("speaking")
            item.received_bytes += len(pcm)
            self.outbound.audio(pcm)
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            await handler(self, event)

    def _audio_item(self, item_id, response_id, out_of_band=False):
        item = self.audio_items[item_id] = AudioItem(item_id, response_id, out_of_band)
        if self.drop_current:  # born in a cancelled response: the caller hears none of it
            item.interrupted = True
            item.heard_ms = 0
        return item

    async def _on_response_created(self, event):
        response = event.get("response") or {}
        self.response_active = True
        self.current_response_id = response.get("id")
        self.current_purpose = (response.get("metadata") or {}).get("ava_purpose")
        self.current_out_of_band = self.current_purpose == "filler"

    async def _on_output_item_added(self, event):
        item = event.get("item") or {}
        if item.get("type") == "message" and item.get("id") not in self.audio_items:
            out_of_band = self.current_out_of_band
            self._audio_item(item["id"], event.get("response_id"), out_of_band)
            if out_of_band:
                self.transcript.place(item["id"], in_conversation=False)

    async def _on_item_added(self, event):
        item = event.get("item") or {}
        item_id = item.get("id")
        if not item_id or item_id in self.transcript.seeded:
            return
        position = self.transcript.place(item_id, event.get("previous_item_id"))
        if item_id in self.typed:
            text = self.typed.pop(item_id)
            self._save(item_id, "caller", text, position, metadata={"typed": True})
            self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": text,
                                "final": True})

    async def _on_committed(self, event):
        self.transcript.place(event["item_id"], event.get("previous_item_id"))

    async def _on_caller_delta(self, event):
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"),
                            "delta": event.get("delta", ""), "final": False})

    async def _on_caller_completed(self, event):
        item_id, words = event.get("item_id"), (event.get("transcript") or "").strip()
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": item_id, "text": words,
                            "final": True})
        if words:
            self._save(item_id, "caller", words, self.transcript.place(item_id))
        # Billed by the transcription model, apart from the responses (per token, or per second of audio).
        self.writer.put(services.record_usage, conversation_id=self.conversation_id, kind="transcription",
                        model=self._model("transcription"), usage=event.get("usage"), source_id=item_id)

    async def _on_caller_failed(self, event):
        self.outbound.json({"type": "transcript", "speaker": "caller", "item_id": event.get("item_id"), "text": "",
                            "final": True, "failed": True})
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="transcription_failed",
                        data={"item_id": event.get("item_id"), "error": event.get("error") or {}})

    async def _on_rate_limits(self, event):
        for limit in event.get("rate_limits") or []:
            name, total, left = limit.get("name"), limit.get("limit"), limit.get("remaining")
            if total and left is not None and left < total * LOW_RATE_LIMIT and name not in self.low_rate_limits:
                self.low_rate_limits.add(name)  # once per limit and call: it is reported with every response
                log.warning("OpenAI %s rate limit low: %s of %s left", name, left, total)
                self.writer.put(services.record_event, conversation_id=self.conversation_id, type="rate_limit_low",
                                data=limit)

    async def _on_audio_done(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is not None:
            item.done = True
            if item.announced and not item.interrupted:
                self.outbound.json({"type": "audio.done", "item_id": item.id, "audio_ms": item.received_ms})

    async def _on_assistant_delta(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is None or item.interrupted or self.drop_current:
            if item is not None:
                item.parts.append(event.get("delta", ""))
            return
        item.parts.append(event.get("delta", ""))
        self.outbound.json({"type": "transcript", "speaker": "assistant", "item_id": item.id,
                            "delta": event.get("delta", ""), "final": False})

    async def _on_assistant_done(self, event):
        item = self.audio_items.get(event.get("item_id"))
        if item is None:
            return
        item.final = event.get("transcript") or "".join(item.parts)
        self._save_assistant(item)

    def _save_assistant(self, item):
        if item.saved:
            return
        words = item.words().strip()
        item.saved = True
        self.outbound.json({"type": "transcript", "speaker": "assistant", "item_id": item.id, "text": words,
                            "final": True, "interrupted": item.heard_ms is not None})
        if words:
            metadata = {"filler": True} if item.out_of_band else {}
            if item.heard_ms is not None:
                metadata.update(interrupted=True, heard_ms=item.heard_ms, audio_ms=item.received_ms,
                                generated=item.final or "".join(item.parts))
            self._save(item.id, "assistant", words, self.transcript.place(item.id), metadata=metadata)

    def _revise(self, item):
        words = item.words().strip()
        self.transcript.record(item.id, "assistant", words)
        self.writer.put(services.revise_utterance, conversation_id=self.conversation_id, item_id=item.id,
                        content=words or "…", metadata={"interrupted": True, "heard_ms": item.heard_ms,
                                                        "audio_ms": item.received_ms,
                                                        "generated": item.final or "".join(item.parts)})

    def _save(self, item_id, speaker, words, position, metadata=None):
        self.transcript.record(item_id, speaker, words)
        self.writer.put(services.save_utterance, conversation_id=self.conversation_id, speaker=speaker,
                        content=words, position=position, item_id=item_id,
                        sent_at=self.transcript.placed_at.get(item_id), metadata=metadata)

    async def _on_arguments_done(self, event):
        if self.drop_current:
            return  # the caller cut this response off; its call is not made
        call_id, name = event.get("call_id", ""), event.get("name", "")
        self.outbound.json({"type": "tool", "name": name, "call_id": call_id, "status": "running"})
        self._state("thinking")
        task = asyncio.ensure_future(self._run_tool(call_id, name, event.get("arguments") or "{}"))
        self.tool_batch.append(task)

    async def _run_tool(self, call_id, name, arguments):
        context = ToolContext(channel="voice", conversation_id=self.conversation_id, customer_id=self.customer_id)
        try:
            result = await database_sync_to_async(run_tool)(name, arguments, context=context, call_id=call_id)
        except Exception as exc:  # even recording failed: the model still gets an answer
            log.exception("Tool %s could not run", name)
            result = ToolResult(name=name, call_id=call_id, arguments=arguments, duration_ms=0, output={
                "ok": False, "code": "tool_error", "error": "Something went wrong on our side.",
                "detail": type(exc).__name__})
        for effect in context.effects:
            if effect["kind"] == "customer":
                self.customer_id = effect["customer_id"]
            elif effect["kind"] == "end_call":
                self.end_after_response = "assistant_ended"
        self.outbound.json({"type": "tool", "name": name, "call_id": call_id,
                            "status": "done" if result.ok else "failed"})
        return result

    async def _on_response_done(self, event):
        response = event.get("response") or {}
        self.response_active = False
        self.drop_current = False
        # Saved as each response ends (a cancelled or failed one was billed too): a process that dies
        # mid-call keeps what was spent.
        self.writer.put(services.record_usage, conversation_id=self.conversation_id, kind="voice",
                        model=self._model("voice"), usage=response.get("usage"), source_id=response.get("id") or "")
        for output in response.get("output") or []:
            item = self.audio_items.get(output.get("id"))
            if item is not None and not item.saved:
                item.done = True
                self._save_assistant(item)
        status = response.get("status")
        if status == "completed":
            self.failed_in_a_row = 0
        elif status in ("failed", "incomplete") and not self.tool_batch:
            self._unfinished(response)
        if self.tool_batch:
            batch, self.tool_batch = self.tool_batch, []
            self.tools_pending = True
            self._spawn(self._finish_tools(batch, answer=response.get("status") != "cancelled"), name="tools")
            return
        await self._next_after_response()

    def _unfinished(self, response):
        """A response that failed or was cut off: the caller hears (or sees) something, and the call goes on.

        Failed (a fault at OpenAI): asked again once, then a shown apology. Cut off at max_output_tokens
        or by the safety filter: asking again would end the same way, so a short spoken line instead.
        """
        status, details = response.get("status"), response.get("status_details") or {}
        reason, purpose = details.get("reason"), self.current_purpose
        if status == "incomplete" and reason not in ("max_output_tokens", "content_filter"):
            return  # cut off by the caller (turn_detected): a barge-in, not a failure
        if purpose == "filler" or self.pending_response is not None or self.end_after_response:
            action = "none"  # what comes next (the caller's turn, the goodbye) replaces it
        elif status == "failed":
            self.failed_in_a_row += 1
            if self.failed_in_a_row == 1 and self.sent_response is not None:
                action, self.pending_response = "retried", self.sent_response
            else:
                action = "apology_shown"
                self._show_apology(RESPONSE_FAILED_LINE, reason="response_failed")
        elif purpose == "apology":
            action = "apology_shown"  # even the apology was cut off
            self._show_apology(CUT_OFF_LINE if reason == "max_output_tokens" else FILTERED_LINE, reason=reason)
        else:
            action = "apology_spoken"
            line = CUT_OFF_LINE if reason == "max_output_tokens" else FILTERED_LINE
            self.pending_response = {"instructions": say_exactly(line), "metadata": {"ava_purpose": "apology"}}
        log.warning("Realtime response %s (%s): %s", status, reason or details.get("error"), action)
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type=f"response_{status}",
                        data={"response_id": response.get("id"), "status": status, "status_details": details,
                              "purpose": purpose, "action": action})

    def _show_apology(self, line, *, reason):
        """Shown, not spoken: the engine cannot be relied on to say it. Kept in the transcript."""
        item_id = f"notice_{secrets.token_hex(6)}"
        self.outbound.json({"type": "transcript", "speaker": "assistant", "item_id": item_id, "text": line,
                            "final": True, "shown_only": True})
        self.writer.put(services.save_utterance, conversation_id=self.conversation_id, speaker="assistant",
                        content=line, position=self.transcript.place(item_id, in_conversation=False), item_id="",
                        sent_at=None, metadata={"shown_only": True, "reason": reason})

    async def _next_after_response(self):
        if self.tools_pending or self.finished:
            return
        if self.pending_response is not None:
            params, self.pending_response = self.pending_response, None
            await self._create_response(params)
        elif self.end_after_response:
            await self._finish(self.end_after_response)
        else:
            self._state("listening")

    async def _finish_tools(self, batch, *, answer):
        """Every function_call_output, then one response.create; a filler if the tools are slow."""
        _, slow = await asyncio.wait(batch, timeout=self.config.filler_after_ms / 1000)
        if slow and not self.response_active and answer:
            self.response_active = True
            await self._send({"type": "response.create", "response": {
                "conversation": "none", "input": [], "instructions": say_exactly(FILLER_LINE),
                "metadata": {"ava_purpose": "filler"}, "tool_choice": "none"}})
        results = await asyncio.gather(*batch)
        for result in results:
            await self._send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": result.call_id, "output": result.output_json()}})
        self.tools_pending = False
        if answer and self.pending_response is None:
            self.pending_response = {}
        if not self.response_active:
            await self._next_after_response()

    async def _on_error(self, event):
        error = event.get("error") or {}
        code = error.get("code")
        if code == "session_expired":
            raise SessionLost("session_expired")
        if code == "conversation_already_has_active_response":
            self.response_active = True
            if self.pending_response is None:
                self.pending_response = {}
            return
        if code in BENIGN_ERRORS:
            return
        caused_by = self.sent_kinds.get(error.get("event_id"))  # which of our events it answers, if any
        log.warning("Realtime error (answering %s): %s", caused_by, error)
        self.writer.put(services.record_event, conversation_id=self.conversation_id, type="error",
                        data={"where": "upstream", "code": code, "message": error.get("message", ""),
                              "param": error.get("param"), "event_id": error.get("event_id"),
                              "caused_by": caused_by})

    async def _on_speech_started(self, event):
        # Server turn detection heard the caller: the page stops playback and reports what was played.
        self.outbound.json({"type": "audio.flush"})
        self._state("listening")

    def _model(self, part):
        """The model billed for a part of the call ("local" on the built-in engine, which costs nothing)."""
        if self.engine != "openai":
            return "local"
        return self.config.transcription_model if part == "transcription" else settings.OPENAI_REALTIME_MODEL

    def _state(self, state):
        if state != self.page_state:
            self.page_state = state
            self.outbound.json({"type": "state", "state": state})

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
