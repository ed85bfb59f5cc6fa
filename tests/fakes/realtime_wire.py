"""Realtime events checked against the installed SDK's own models (openai.types.realtime).

The fake Realtime server is built on the same simulator as Ava's local engine, so an event
both sides misread would pass unnoticed. This reads every event on the wire with the SDK's
pydantic models instead: strictly (no coercion), and refusing any key a model does not
declare (the SDK's models allow extras, so those are found by walking `model_extra`).
"""

import typing

import pydantic
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent


def _by_type(union):
    models = {}
    for model in typing.get_args(typing.get_args(union)[0]):
        for literal in typing.get_args(model.model_fields["type"].annotation):
            models[literal] = model
    return models


CLIENT_EVENTS = _by_type(RealtimeClientEvent)
SERVER_EVENTS = _by_type(RealtimeServerEvent)


def _undeclared(value, path):
    """Paths of keys that no model on the way declares."""
    found = []
    if isinstance(value, pydantic.BaseModel):
        found += [f"{path}.{key}" for key in (value.model_extra or {})]
        for name in type(value).model_fields:
            found += _undeclared(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, (list, tuple)):
        for n, each in enumerate(value):
            found += _undeclared(each, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, each in value.items():
            found += _undeclared(each, f"{path}.{key}")
    return found


def mismatches(event, *, side):
    """What is wrong with one event ("client" or "server" side); an empty list when the SDK reads it all."""
    models = CLIENT_EVENTS if side == "client" else SERVER_EVENTS
    kind = event.get("type") if isinstance(event, dict) else None
    model = models.get(kind)
    if model is None:
        return [f"{side} event type {kind!r} is not one the SDK knows"]
    try:
        parsed = model.model_validate(event, strict=True)
    except pydantic.ValidationError as exc:
        return [f"{kind}: {error['loc']}: {error['msg']}" for error in exc.errors()]
    return [f"{kind}: undeclared key {path}" for path in _undeclared(parsed, "")]
