"""Scoring with OpenAI: chat completions with a strict JSON schema, through the official SDK.

Errors come back sorted for the task: RetryableScoringError (429, 5xx, timeouts, a lost
connection), FatalScoringError (an invalid request, exhausted quota, a refusal: retrying
would not help) and InvalidAnswer (the answer is not the JSON asked for: worth one more try).
The SDK's own retries are off (max_retries=0); Celery retries with backoff instead, so a
worker is never blocked sleeping.
"""

import json
import time
from dataclasses import dataclass

import openai
from django.conf import settings
from openai import OpenAI

from analytics.scoring.schema import OUTCOMES, RESPONSE_FORMAT, InvalidAnswer, parse_answer

PROMPT_VERSION = "1"

SYSTEM_PROMPT = """You review finished conversations between {assistant}, the virtual receptionist of a \
medical spa, and its customers (by phone, SMS or email). Judge the customer's experience from the \
transcript alone. Lines in [brackets] are the assistant's tool calls and their results, or system notes.

Answer in the JSON schema given:
- satisfaction_score: 0 to 10, how satisfied the customer most likely left.
- sentiment: the customer's overall tone (positive, neutral, negative, mixed).
- frustration_indicators / success_markers: short phrases, empty lists when none.
- outcome, one of {outcomes}:
  booked = a new appointment was booked; rescheduled / cancelled = an existing one was moved / cancelled;
  info_only = questions answered, nothing booked; escalated = handed to a person;
  abandoned = the customer left before anything was settled; unresolved = the customer's need was not met;
  failed = a technical failure stopped the conversation.
- summary: at most two sentences, for the front desk.
- escalation_requested: true when the customer asked for a person."""


class RetryableScoringError(Exception):
    """Worth trying again later: rate limited, a server error, a timeout, a lost connection."""

    def __init__(self, reason, *, retry_after=None):
        super().__init__(reason)
        self.retry_after = retry_after


class FatalScoringError(Exception):
    """Trying again would fail the same way: an invalid request, no quota left, a refusal."""


@dataclass
class ModelAnswer:
    answer: dict
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    completion_id: str = ""
    usage: object = None  # the SDK's CompletionUsage, for what it cost (communications.usage)


def _retry_after(exc):
    value = exc.response.headers.get("retry-after") if getattr(exc, "response", None) is not None else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _client():
    return OpenAI(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.ANALYTICS_SCORING_TIMEOUT,
        max_retries=0,
    )


def score_with_openai(transcript, *, assistant_name="Ava", spent=None):
    """Ask the scoring model about one transcript; returns a ModelAnswer or raises one of the errors above.

    `spent(completion)` is called with every completion that came back, an unusable one included (it was billed).
    """
    model = settings.OPENAI_SCORING_MODEL
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT.format(assistant=assistant_name, outcomes=", ".join(OUTCOMES))},
        {"role": "user", "content": transcript},
    ]
    started = time.monotonic()
    with _client() as client:
        try:
            completion = client.chat.completions.create(model=model, messages=messages, response_format=RESPONSE_FORMAT)
        except openai.APITimeoutError:
            raise RetryableScoringError(f"OpenAI did not answer within {settings.ANALYTICS_SCORING_TIMEOUT:g} s") from None
        except openai.APIConnectionError as exc:
            raise RetryableScoringError(f"could not reach OpenAI: {exc.message}") from None
        except openai.RateLimitError as exc:
            if exc.code == "insufficient_quota" or exc.type == "insufficient_quota":
                raise FatalScoringError(f"OpenAI quota exhausted: {exc.message}") from None
            raise RetryableScoringError(f"rate limited (429): {exc.message}", retry_after=_retry_after(exc)) from None
        except openai.APIStatusError as exc:
            if exc.status_code >= 500 or exc.status_code in (408, 409):
                raise RetryableScoringError(f"OpenAI error {exc.status_code}: {exc.message}") from None
            raise FatalScoringError(f"OpenAI refused the request ({exc.status_code}): {exc.message}") from None
        except json.JSONDecodeError as exc:
            # A 200 whose body is not JSON (a proxy's error page): the answer is unusable.
            raise InvalidAnswer(f"the response body was not JSON ({exc})") from None
    latency_ms = int((time.monotonic() - started) * 1000)
    if spent is not None:
        spent(completion)

    if not completion.choices:
        raise InvalidAnswer("the response had no choices")
    choice = completion.choices[0]
    if getattr(choice.message, "refusal", None):
        raise FatalScoringError(f"the model refused: {choice.message.refusal}")
    if choice.finish_reason == "length":
        raise InvalidAnswer("the answer was cut off at the token limit")
    answer = parse_answer(choice.message.content)
    usage = completion.usage
    return ModelAnswer(
        answer=answer,
        model=completion.model or model,
        prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        latency_ms=latency_ms,
        completion_id=completion.id or "",
        usage=usage,
    )
