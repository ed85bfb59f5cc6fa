"""What each conversation cost: usage recorded as it arrives, priced from the dated table in settings.

    record_usage(conversation_id=..., kind=UsageRecord.Kind.VOICE, model=..., usage=<response.done usage>)
    record_provider_charge(conversation_id=..., source_id=MessageSid, price="-0.0079", currency="USD")
    conversation_cost(conversation_id)  # {"total", "currency", "known", "parts": [...]}

Usage is read in the shapes of the openai SDK's types: a Realtime `RealtimeResponseUsage` (cached tokens
by modality in input_token_details.cached_tokens_details), a transcription's usage (`tokens`, or
`duration` in seconds), and a Chat Completions `CompletionUsage` (prompt_tokens_details.cached_tokens).
Prices are USD per 1M tokens (per minute for duration-billed transcription); a model with no price, or
a price missing for tokens it used, is unknown: its cost is stored as NULL and shown as unknown.
"""

import logging
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum

from communications.models import Conversation, Message, UsageRecord

log = logging.getLogger(__name__)

TOKEN_FIELDS = ("text_in", "cached_text_in", "audio_in", "cached_audio_in", "text_out", "audio_out")
PER_MILLION = Decimal(1_000_000)
SECONDS_PER_MINUTE = Decimal(60)
CURRENCY = "USD"
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")  # gpt-5.4-mini-2026-03-17 is priced as gpt-5.4-mini


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _get(obj, key):
    if obj is None:
        return None
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def realtime_tokens(usage):
    """A Realtime response's usage as the price table's token counts."""
    details, out = _get(usage, "input_token_details"), _get(usage, "output_token_details")
    text, audio = _int(_get(details, "text_tokens")), _int(_get(details, "audio_tokens"))
    cached = _get(details, "cached_tokens_details")
    if cached is not None:
        cached_text, cached_audio = _int(_get(cached, "text_tokens")), _int(_get(cached, "audio_tokens"))
    else:  # no split given: count the cached tokens against text first (the cheaper reading is not assumed)
        total_cached = _int(_get(details, "cached_tokens"))
        cached_text = min(total_cached, text)
        cached_audio = min(total_cached - cached_text, audio)
    return {
        "text_in": max(0, text - cached_text), "cached_text_in": cached_text,
        "audio_in": max(0, audio - cached_audio), "cached_audio_in": cached_audio,
        "text_out": _int(_get(out, "text_tokens")), "audio_out": _int(_get(out, "audio_tokens")),
    }


def transcription_tokens(usage):
    """A transcription's usage: token counts, or `audio_seconds` for a model that bills by duration."""
    if _get(usage, "type") == "duration":
        try:
            seconds = Decimal(str(_get(usage, "seconds"))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except (InvalidOperation, TypeError):
            seconds = None
        return {"audio_seconds": seconds if seconds is not None and seconds.is_finite() and seconds >= 0 else None}
    details = _get(usage, "input_token_details")
    audio = _int(_get(details, "audio_tokens"))
    text = _int(_get(details, "text_tokens"))
    if details is None:
        audio = _int(_get(usage, "input_tokens"))
    return {"text_in": text, "audio_in": audio, "text_out": _int(_get(usage, "output_tokens"))}


def completion_tokens(usage):
    """A Chat Completions usage (the text agent, the scorer)."""
    prompt = _get(usage, "prompt_tokens_details")
    completion = _get(usage, "completion_tokens_details")
    cached, audio_in = _int(_get(prompt, "cached_tokens")), _int(_get(prompt, "audio_tokens"))
    audio_out = _int(_get(completion, "audio_tokens"))
    return {
        "text_in": max(0, _int(_get(usage, "prompt_tokens")) - cached - audio_in), "cached_text_in": cached,
        "audio_in": audio_in,
        "text_out": max(0, _int(_get(usage, "completion_tokens")) - audio_out), "audio_out": audio_out,
    }


def prices_for(model):
    """The price table's entry for a model (a dated snapshot falls back to its alias), or None."""
    table = settings.MODEL_PRICES
    return table.get(model) or table.get(_SNAPSHOT.sub("", model or ""))


def price(model, tokens):
    """(cost in USD as a Decimal, the price's date), or (None, "") when any part of it has no price."""
    prices = prices_for(model)
    if prices is None:
        return None, ""
    cost = Decimal(0)
    if tokens.get("audio_seconds") is not None:
        if "per_minute" not in prices:
            return None, ""
        cost += tokens["audio_seconds"] * Decimal(prices["per_minute"]) / SECONDS_PER_MINUTE
    for field in TOKEN_FIELDS:
        count = tokens.get(field) or 0
        if not count:
            continue
        if field not in prices:
            return None, ""
        cost += count * Decimal(prices[field]) / PER_MILLION
    return cost.quantize(Decimal("0.00000001")), prices.get("as_of", "")


def _plain(usage):
    if usage is None:
        return {}
    if hasattr(usage, "model_dump"):
        return usage.model_dump(exclude_none=True)
    return dict(usage) if isinstance(usage, dict) else {}


READERS = {
    UsageRecord.Kind.VOICE: realtime_tokens,
    UsageRecord.Kind.TRANSCRIPTION: transcription_tokens,
    UsageRecord.Kind.TEXT: completion_tokens,
    UsageRecord.Kind.SCORING: completion_tokens,
}


def record_usage(*, conversation_id, kind, model, usage, source_id="", at=None):
    """Keep what one response, transcription or completion used, priced now. Counted once per source_id.

    Returns the UsageRecord, or None when there was nothing to record (no usage, or already recorded).
    """
    if not usage:
        return None
    tokens = READERS[kind](usage)
    cost, as_of = price(model, tokens)
    if cost is None:
        log.warning("No price for %s usage of model %r: its cost is unknown", kind, model)
    fields = {"kind": kind, "model": model or "", "source_id": (source_id or "")[:100], "cost": cost,
              "currency": CURRENCY, "priced_as_of": as_of, "usage": _plain(usage), **tokens}
    if at is not None:
        fields["at"] = at
    try:
        with transaction.atomic():
            return UsageRecord.objects.create(conversation_id=conversation_id, **fields)
    except IntegrityError:
        if not Conversation.objects.filter(pk=conversation_id).exists():
            raise
        return None  # reported twice (a redelivered event): counted once


def record_provider_charge(*, conversation_id, source_id, price, currency, model="twilio-sms", usage=None):
    """A charge the provider reported itself (Twilio's Price and PriceUnit on a status callback).

    Twilio reports a charge as a negative amount, and reports it again on later callbacks; the row for
    one message is kept up to date. An unreadable price is kept as unknown. Returns the UsageRecord.
    """
    try:
        amount = abs(Decimal(str(price)))
        if not amount.is_finite():
            amount = None
    except (InvalidOperation, TypeError):
        amount = None
    record, _ = UsageRecord.objects.update_or_create(
        kind=UsageRecord.Kind.TELEPHONY, source_id=source_id,
        defaults={"conversation_id": conversation_id, "model": model, "cost": amount,
                  "currency": (currency or CURRENCY).upper()[:3], "priced_as_of": "reported", "usage": usage or {}},
    )
    return record


def record_message_price(*, message_sid, price, currency):
    """Twilio's Price for a text it carried, on the conversation the text belongs to. False if not ours."""
    if price in (None, "") or not message_sid:
        return False  # reported only once Twilio knows it; the early callbacks carry none
    conversation_id = (
        Message.objects.filter(Q(sms__provider_message_id=message_sid) | Q(outbound__provider_message_id=message_sid))
        .values_list("conversation_id", flat=True).first()
    )
    if conversation_id is None:
        return False
    record_provider_charge(conversation_id=conversation_id, source_id=message_sid, price=price, currency=currency,
                           usage={"Price": price, "PriceUnit": currency})
    return True


# --- reading ---------------------------------------------------------------------------------------------

PARTS = [UsageRecord.Kind.VOICE, UsageRecord.Kind.TRANSCRIPTION, UsageRecord.Kind.TEXT, UsageRecord.Kind.SCORING,
         UsageRecord.Kind.TELEPHONY]


def money(value):
    """A cost as the API shows it: a string of dollars (exact), or None when unknown."""
    return None if value is None else f"{value.quantize(Decimal('0.00000001')).normalize():f}"


def costs_by_conversation(records):
    """{conversation_id: {kind: (known cost, unknown count, records)}} over a UsageRecord queryset."""
    rows = (records.order_by().values("conversation_id", "kind")
            .annotate(known=Sum("cost", filter=Q(cost__isnull=False, currency=CURRENCY)),
                      unknown=Count("id", filter=Q(cost__isnull=True) | ~Q(currency=CURRENCY)), records=Count("id")))
    found = {}
    for row in rows:
        found.setdefault(row["conversation_id"], {})[row["kind"]] = (row["known"] or Decimal(0), row["unknown"],
                                                                     row["records"])
    return found


def conversation_cost(conversation_id):
    """What one conversation cost, in total and by part (voice, transcription, text, scoring, Twilio).

    A part with any record of unknown price (a model not in the table, a charge in another currency) has
    cost None; so has the total. `known_cost` is the sum of what is known, for "at least".
    """
    by_kind = costs_by_conversation(UsageRecord.objects.filter(conversation_id=conversation_id)).get(
        conversation_id, {})
    labels = dict(UsageRecord.Kind.choices)
    parts, known, unknown = [], Decimal(0), 0
    for kind in PARTS:
        if kind not in by_kind:
            continue
        cost, missing, records = by_kind[kind]
        known += cost
        unknown += missing
        models = sorted(set(UsageRecord.objects.filter(conversation_id=conversation_id, kind=kind)
                            .values_list("model", flat=True)))
        parts.append({"part": kind, "label": labels[kind], "cost": None if missing else money(cost),
                      "known_cost": money(cost), "records": records, "unknown_records": missing, "models": models})
    return {"currency": CURRENCY, "total": None if unknown else money(known), "known_cost": money(known),
            "unknown_records": unknown, "parts": parts}
