"""The tool runner: a response's function calls run in a worker thread, then one response answers them.

Calls start as their arguments arrive (the database work runs through database_sync_to_async, never
in the relay loop); when the response is done their outputs go up together, followed by one
`response.create`. If they take longer than VOICE_FILLER_AFTER_MS, Ava says a short filler meanwhile.
"""

import asyncio
import logging

from channels.db import database_sync_to_async

from receptionist.tools import ToolContext, ToolResult, run_tool

log = logging.getLogger(__name__)


class ToolRunner:
    def __init__(self, *, link, responses, transport, record, filler_after_ms, spawn, then):
        self.link, self.responses, self.transport, self.record = link, responses, transport, record
        self.filler_after_ms = filler_after_ms
        self.spawn = spawn  # the bridge's task spawner: its end cancels what is still running
        self.then = then  # what follows once the tools are answered (the bridge's next step)
        self.batch = []  # this response's calls
        self.customer_id = None  # the caller, once a tool has found or made them
        self._answering = set()

    def call(self, call_id, name, arguments):
        self.transport.control({"type": "tool", "name": name, "call_id": call_id, "status": "running"})
        self.transport.state("thinking")
        self.batch.append(asyncio.ensure_future(self._run(call_id, name, arguments)))

    def answer_batch(self, *, answer):
        """The response is done: answer its calls (`answer` False: it was cancelled, only record them)."""
        batch, self.batch = self.batch, []
        self.responses.tools_pending = True
        task = self.spawn(self._answer(batch, answer=answer), name="tools")
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    def reset(self):
        self.batch = []
        for task in list(self._answering):
            task.cancel()

    async def _run(self, call_id, name, arguments):
        context = ToolContext(channel="voice", conversation_id=self.record.conversation_id,
                              customer_id=self.customer_id)
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
                self.responses.end_after = "assistant_ended"
        self.transport.control({"type": "tool", "name": name, "call_id": call_id,
                                "status": "done" if result.ok else "failed"})
        return result

    async def _answer(self, batch, *, answer):
        """Every function_call_output, then one response.create; a filler if the tools are slow."""
        _, slow = await asyncio.wait(batch, timeout=self.filler_after_ms / 1000)
        if slow and answer:
            await self.responses.filler()
        results = await asyncio.gather(*batch)
        for result in results:
            await self.link.send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": result.call_id, "output": result.output_json()}})
        self.responses.tools_pending = False
        if answer and self.responses.pending is None:
            self.responses.pending = {}
        if not self.responses.active:
            await self.then()
