"""One response at a time: asking the engine to speak, cancelling, and what follows one that failed.

`active` runs from our `response.create` (or the server's `response.created`) to its
`response.done`; a response asked for meanwhile waits in `pending` (the last one asked wins, but a
special one, a greeting or a goodbye, is never replaced by an ordinary one).
"""

import logging
import secrets

from receptionist.bridge.config import CUT_OFF_LINE, FILTERED_LINE, RESPONSE_FAILED_LINE
from receptionist.prompt import FILLER_LINE, say_exactly

log = logging.getLogger(__name__)


class ResponseFlow:
    def __init__(self, *, link, turns, record, transport):
        self.link, self.turns, self.record, self.transport = link, turns, record, transport
        self.active = False
        self.pending = None  # params of a response.create waiting for the active one (and the tools) to end
        self.tools_pending = False
        self.end_after = None  # the call ends once this response is done (the reason)
        self.purpose = None  # the running response's metadata.ava_purpose (filler, apology)
        self.sent = None  # the params of the last response.create, to retry a failed one
        self.failed_in_a_row = 0

    async def create(self, params, *, special=False):
        """One response.create, or kept until the active response and the tools are done."""
        if self.active or self.tools_pending:
            if special or self.pending is None:
                self.pending = params
            return
        self.active = True
        self.sent = params
        await self.link.send({"type": "response.create", "response": params})

    async def cancel(self):
        self.turns.cancelled()
        await self.link.send({"type": "response.cancel"})

    async def filler(self):
        """A short out-of-band line while slow tools run (not part of the conversation)."""
        if self.active:
            return
        self.active = True
        await self.link.send({"type": "response.create", "response": {
            "conversation": "none", "input": [], "instructions": say_exactly(FILLER_LINE),
            "metadata": {"ava_purpose": "filler"}, "tool_choice": "none"}})

    def take_pending(self):
        params, self.pending = self.pending, None
        return params

    def created(self, response):
        self.active = True
        self.purpose = (response.get("metadata") or {}).get("ava_purpose")
        self.turns.response_started(response.get("id"), out_of_band=self.purpose == "filler")

    def done(self, response):
        self.active = False
        self.turns.response_ended()
        if response.get("status") == "completed":
            self.failed_in_a_row = 0

    def already_active(self):
        """The engine had a response running that we did not know of: ours follows it."""
        self.active = True
        if self.pending is None:
            self.pending = {}

    def reset(self):
        self.active = False
        self.pending = None
        self.tools_pending = False

    def unfinished(self, response):
        """A response that failed or was cut off: the caller hears (or sees) something, and the call goes on.

        Failed (a fault at OpenAI): asked again once, then a shown apology. Cut off at max_output_tokens
        or by the safety filter: asking again would end the same way, so a short spoken line instead.
        """
        status, details = response.get("status"), response.get("status_details") or {}
        reason, purpose = details.get("reason"), self.purpose
        if status == "incomplete" and reason not in ("max_output_tokens", "content_filter"):
            return  # cut off by the caller (turn_detected): a barge-in, not a failure
        if purpose == "filler" or self.pending is not None or self.end_after:
            action = "none"  # what comes next (the caller's turn, the goodbye) replaces it
        elif status == "failed":
            self.failed_in_a_row += 1
            if self.failed_in_a_row == 1 and self.sent is not None:
                action, self.pending = "retried", self.sent
            else:
                action = "apology_shown"
                self._show_apology(RESPONSE_FAILED_LINE, reason="response_failed")
        elif purpose == "apology":
            action = "apology_shown"  # even the apology was cut off
            self._show_apology(CUT_OFF_LINE if reason == "max_output_tokens" else FILTERED_LINE, reason=reason)
        else:
            action = "apology_spoken"
            line = CUT_OFF_LINE if reason == "max_output_tokens" else FILTERED_LINE
            self.pending = {"instructions": say_exactly(line), "metadata": {"ava_purpose": "apology"}}
        log.warning("Realtime response %s (%s): %s", status, reason or details.get("error"), action)
        self.record.event(f"response_{status}", {"response_id": response.get("id"), "status": status,
                                                 "status_details": details, "purpose": purpose, "action": action})

    def _show_apology(self, line, *, reason):
        """Shown, not spoken: the engine cannot be relied on to say it. Kept in the transcript."""
        item_id = f"notice_{secrets.token_hex(6)}"
        self.transport.control({"type": "transcript", "speaker": "assistant", "item_id": item_id, "text": line,
                                "final": True, "shown_only": True})
        self.record.outside_conversation(line, {"shown_only": True, "reason": reason}, item_id=item_id)
