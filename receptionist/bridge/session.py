"""Confirming the engine's session before Ava speaks or the caller's audio goes up.

`session.update` has no success reply other than `session.updated`; a refusal is an `error` whose
`event_id` is the update's, with `error.param` naming the field, and the session then keeps the
server's defaults (no instructions, no tools, server VAD). So the relay waits for one or the other
(REALTIME_GA.md, "Confirming the session"), retries once without an optional part that was refused,
and otherwise gives up on the call rather than run it on settings OpenAI did not confirm.
"""

import asyncio
import copy
import time

from receptionist.bridge.config import OPTIONAL_SESSION_PARTS
from receptionist.engines import UpstreamClosed, UpstreamUnavailable


class SessionRefused(UpstreamUnavailable):
    """OpenAI refused the session the call needs (or did not confirm it in time)."""

    def __init__(self, reason, *, details=None):
        super().__init__(reason)
        self.details = details or {}


class ConfirmedSession:
    __slots__ = ("echoed", "dropped", "differences", "early_events")

    def __init__(self, echoed, dropped, differences, early_events):
        self.echoed, self.dropped, self.differences, self.early_events = echoed, dropped, differences, early_events


def refused_part(param):
    """The optional part of the session that `error.param` names, or None when the refused part is needed."""
    path = tuple((param or "").removeprefix("session.").split("."))
    for part in OPTIONAL_SESSION_PARTS:
        if path[:len(part)] == part:
            return part
    return None


def without(session, part):
    trimmed = copy.deepcopy(session)
    holder = trimmed
    for key in part[:-1]:
        holder = holder.get(key) or {}
    holder.pop(part[-1], None)
    return trimmed


async def confirm_session(upstream, session, *, timeout, event_id):
    """Send `session.update` and wait for `session.updated`; one retry without a refused optional part.

    `event_id()` gives a fresh id per client event. Events that arrive meanwhile but answer something
    else are handed back in `early_events`, in order, for the relay to handle.
    """
    dropped, early = [], []
    for attempt in (1, 2):
        update_id = event_id()
        try:
            await upstream.send({"type": "session.update", "event_id": update_id, "session": session})
            reply = await _reply_to(upstream, update_id, timeout, early)
        except UpstreamClosed as exc:
            raise SessionRefused(f"the connection closed before the session was confirmed ({exc})") from exc
        if reply is None:
            raise SessionRefused(f"OpenAI did not confirm the session within {timeout:g} s",
                                 details={"timeout_seconds": timeout})
        if reply["type"] == "session.updated":
            echoed = reply.get("session") or {}
            return ConfirmedSession(echoed, dropped, differences(session, echoed), early)
        error = reply.get("error") or {}
        refused = {"param": error.get("param"), "code": error.get("code"), "message": error.get("message", "")}
        part = refused_part(error.get("param"))
        if part is None or attempt == 2:
            raise SessionRefused(f"OpenAI refused the session: {refused['message'] or refused['code']}",
                                 details={**refused, "dropped": dropped})
        dropped.append({"part": ".".join(part), **refused})
        session = without(session, part)
    raise AssertionError("unreachable")


async def _reply_to(upstream, update_id, timeout, early):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            event = await asyncio.wait_for(upstream.recv(), left)
        except asyncio.TimeoutError:
            return None
        if event.get("type") == "session.updated":
            return event
        if event.get("type") == "error" and (event.get("error") or {}).get("event_id") == update_id:
            return event
        if event.get("type") != "session.created":
            early.append(event)


def differences(asked, echoed, path=""):
    """Where the confirmed session differs from what was asked: [{field, asked, got}]."""
    found = []
    for key, want in asked.items():
        field = f"{path}.{key}" if path else key
        got = echoed.get(key) if isinstance(echoed, dict) else None
        if key == "tools":  # OpenAI may restate a schema; what matters is which tools the model has
            want, got = sorted(t.get("name") for t in want or []), sorted(t.get("name") for t in got or [])
        elif isinstance(want, dict) and isinstance(got, dict):
            found += differences(want, got, field)
            continue
        if want != got:
            if key == "instructions":  # too long to keep twice; the lengths say enough
                want, got = f"{len(want or '')} characters", f"{len(got or '')} characters"
            found.append({"field": field, "asked": want, "got": got})
    return found
