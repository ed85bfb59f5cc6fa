"""The scorer's answer: its JSON schema (strict structured output) and a check of what came back."""

import json
import re

from communications.models import Outcome, Sentiment

SCHEMA_NAME = "conversation_score"
SENTIMENTS = [choice.value for choice in Sentiment]
OUTCOMES = [choice.value for choice in Outcome]
FIELDS = [
    "satisfaction_score", "sentiment", "frustration_indicators", "success_markers", "outcome", "summary",
    "escalation_requested",
]

SCORE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": FIELDS,
    "properties": {
        "satisfaction_score": {
            "type": "integer", "minimum": 0, "maximum": 10,
            "description": "How satisfied the customer most likely left, 0 (furious) to 10 (delighted).",
        },
        "sentiment": {"type": "string", "enum": SENTIMENTS, "description": "The customer's overall tone."},
        "frustration_indicators": {
            "type": "array", "items": {"type": "string"},
            "description": "Short phrases naming signs of frustration (repeating themselves, asking for a person, "
                           "complaints). Empty when none.",
        },
        "success_markers": {
            "type": "array", "items": {"type": "string"},
            "description": "Short phrases naming what went well (question answered, slot found, thanks). Empty when none.",
        },
        "outcome": {"type": "string", "enum": OUTCOMES, "description": "What the conversation achieved."},
        "summary": {"type": "string", "description": "At most two sentences for the front desk."},
        "escalation_requested": {"type": "boolean", "description": "Did the customer ask for a person?"},
    },
}

RESPONSE_FORMAT = {"type": "json_schema", "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": SCORE_SCHEMA}}

MAX_LIST_ITEMS = 10
MAX_ITEM_CHARS = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class InvalidAnswer(ValueError):
    """The scorer's answer is not JSON, or not the JSON the schema asks for."""


def two_sentences(text):
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    return " ".join(sentences[:2])


def parse_answer(text):
    """The answer as a clean dict, or InvalidAnswer saying what is wrong with it.

    Strict mode should make every answer fit; this still checks, because a proxy or a model
    change must not put a score of 42 or an unknown outcome into the dashboard.
    """
    if not text:
        raise InvalidAnswer("the answer was empty")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidAnswer(f"the answer was not JSON ({exc}): {text[:120]!r}") from None
    if not isinstance(data, dict):
        raise InvalidAnswer(f"the answer was JSON but not an object: {text[:120]!r}")
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise InvalidAnswer(f"the answer lacks {', '.join(missing)}")
    score = data["satisfaction_score"]
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise InvalidAnswer(f"satisfaction_score {score!r} is not a whole number from 0 to 10")
    if data["sentiment"] not in SENTIMENTS:
        raise InvalidAnswer(f"sentiment {data['sentiment']!r} is not one of {SENTIMENTS}")
    if data["outcome"] not in OUTCOMES:
        raise InvalidAnswer(f"outcome {data['outcome']!r} is not one of {OUTCOMES}")
    for name in ("frustration_indicators", "success_markers"):
        items = data[name]
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise InvalidAnswer(f"{name} is not a list of strings")
    if not isinstance(data["summary"], str):
        raise InvalidAnswer("summary is not a string")
    if not isinstance(data["escalation_requested"], bool):
        raise InvalidAnswer("escalation_requested is not true or false")
    return {
        "satisfaction_score": score,
        "sentiment": data["sentiment"],
        "frustration_indicators": _clean_list(data["frustration_indicators"]),
        "success_markers": _clean_list(data["success_markers"]),
        "outcome": data["outcome"],
        "summary": two_sentences(data["summary"]),
        "escalation_requested": data["escalation_requested"],
    }


def _clean_list(items):
    cleaned = [item.strip()[:MAX_ITEM_CHARS] for item in items if item.strip()]
    return cleaned[:MAX_LIST_ITEMS]
