"""The start-up check warns about a configured OpenAI model the installed SDK says will be shut down."""

import pytest
from django.core.checks import run_checks

from receptionist.checks import MODEL_SETTINGS


def model_warnings():
    return [w for w in run_checks(tags=["openai"]) if w.id.startswith("receptionist.W")]


def test_it_is_silent_for_every_default(settings):
    from ava import settings as defaults  # read at import with nothing set, as `make run` has them

    for setting in MODEL_SETTINGS:
        setattr(settings, setting, getattr(defaults, setting))
    assert {s: getattr(settings, s) for s in MODEL_SETTINGS} == {
        "OPENAI_REALTIME_MODEL": "gpt-realtime-2.1", "VOICE_TRANSCRIPTION_MODEL": "gpt-transcribe",
        "OPENAI_TEXT_MODEL": "gpt-5.4-mini", "OPENAI_SCORING_MODEL": "gpt-5.4-mini"}
    assert model_warnings() == []


@pytest.mark.parametrize("setting, model, date", [
    ("OPENAI_REALTIME_MODEL", "gpt-realtime", "2027-01-20"),
    ("VOICE_TRANSCRIPTION_MODEL", "gpt-4o-mini-transcribe", "2027-02-26"),
    ("OPENAI_TEXT_MODEL", "gpt-4.1-mini", "2027-01-14"),
    ("OPENAI_SCORING_MODEL", "gpt-5-mini", "2026-12-11"),
])
def test_it_warns_naming_the_setting_and_the_shutdown_date(settings, setting, model, date):
    for each in MODEL_SETTINGS:
        setattr(settings, each, {"OPENAI_REALTIME_MODEL": "gpt-realtime-2.1",
                                 "VOICE_TRANSCRIPTION_MODEL": "gpt-transcribe"}.get(each, "gpt-5.4-mini"))
    setattr(settings, setting, model)
    (warning,) = model_warnings()
    assert warning.id == "receptionist.W001"
    assert f"{setting}={model}" in warning.msg and date in warning.msg


def test_a_model_the_sdk_keeps_only_for_compatibility_is_named_too(settings):
    settings.OPENAI_TEXT_MODEL = "gpt-5.1-mini"
    (warning,) = [w for w in model_warnings() if w.obj == "OPENAI_TEXT_MODEL"]
    assert warning.id == "receptionist.W002" and "Not a supported model ID" in warning.msg
