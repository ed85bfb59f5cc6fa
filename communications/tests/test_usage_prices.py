"""The price table: dated defaults, overrides from MODEL_PRICES_JSON that fail loudly, and unknown as unknown."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from ava import env
from communications.templatetags.money import usd
from communications.usage import completion_tokens, price, realtime_tokens, transcription_tokens

DEFAULTS = {"gpt-a": {"as_of": "2026-11-29", "text_in": "1.00", "text_out": "2.00"}}


def test_every_default_price_is_dated_and_readable(settings):
    for model, prices in settings.DEFAULT_MODEL_PRICES.items():
        assert prices["as_of"], model
        assert all(Decimal(value) >= 0 for key, value in prices.items() if key != "as_of"), model


def test_model_prices_json_adds_and_replaces_models(monkeypatch):
    monkeypatch.setenv("MODEL_PRICES_JSON", '{"gpt-a": {"as_of": "2027-01-05", "text_in": 1.5}, "gpt-b": {"per_minute": "0.01"}}')
    table = env.get_model_prices("MODEL_PRICES_JSON", DEFAULTS)
    assert table["gpt-a"] == {"as_of": "2027-01-05", "text_in": "1.5"}  # replaced whole: no stale price left
    assert table["gpt-b"] == {"per_minute": "0.01"}


@pytest.mark.parametrize("value, says", [
    ("{not json", "not valid JSON"),
    ('["gpt-a"]', "JSON object of models"),
    ('{"gpt-a": {"text_input": "1"}}', "unknown price fields ['text_input']"),
    ('{"gpt-a": {"text_in": "-1"}}', "is not a price"),
    ('{"gpt-a": {"text_in": "cheap"}}', "is not a price"),
])
def test_a_price_that_cannot_be_read_stops_the_start_naming_it(monkeypatch, value, says):
    monkeypatch.setenv("MODEL_PRICES_JSON", value)
    with pytest.raises(ImproperlyConfigured, match="MODEL_PRICES_JSON") as raised:
        env.get_model_prices("MODEL_PRICES_JSON", DEFAULTS)
    assert says in str(raised.value)


def test_a_dated_snapshot_is_priced_as_its_model_and_an_unknown_model_is_unknown(settings):
    settings.MODEL_PRICES = DEFAULTS
    assert price("gpt-a-2026-03-17", {"text_in": 1000, "text_out": 10}) == (Decimal("0.00102"), "2026-11-29")
    assert price("gpt-z", {"text_in": 1000}) == (None, "")
    # Tokens the table has no price for (audio here) make the whole cost unknown, not a partial one.
    assert price("gpt-a", {"text_in": 1000, "audio_in": 5}) == (None, "")


def test_usage_is_read_as_the_sdk_types_give_it():
    assert realtime_tokens({"input_token_details": {"text_tokens": 500, "audio_tokens": 300, "cached_tokens": 600,
                                                    "cached_tokens_details": {"text_tokens": 400, "audio_tokens": 200}},
                            "output_token_details": {"text_tokens": 20, "audio_tokens": 90}}) == {
        "text_in": 100, "cached_text_in": 400, "audio_in": 100, "cached_audio_in": 200, "text_out": 20, "audio_out": 90}
    assert transcription_tokens({"type": "duration", "seconds": 2.345}) == {"audio_seconds": Decimal("2.35")}
    assert transcription_tokens({"type": "tokens", "input_tokens": 30, "output_tokens": 7, "total_tokens": 37,
                                 "input_token_details": {"audio_tokens": 28, "text_tokens": 2}}) == {
        "text_in": 2, "audio_in": 28, "text_out": 7}
    assert completion_tokens({"prompt_tokens": 1000, "completion_tokens": 50,
                              "prompt_tokens_details": {"cached_tokens": 768}}) == {
        "text_in": 232, "cached_text_in": 768, "audio_in": 0, "text_out": 50, "audio_out": 0}


def test_staff_read_costs_in_dollars_and_unknown_as_unknown():
    assert (usd("1.239"), usd("0.08412"), usd("0.00006"), usd("0"), usd(None)) == (
        "$1.24", "$0.0841", "$0.00006", "$0.00", "unknown")
