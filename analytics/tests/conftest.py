import pytest

from scheduling.models import ClinicSettings
from tests.fakes.openai_http import FakeOpenAI


@pytest.fixture(autouse=True)
def _no_openai_unless_asked(settings):
    """The heuristic scorer by default, whatever the environment says; `fake_openai` switches to OpenAI."""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""


@pytest.fixture(autouse=True)
def _now_is_pinned(pinned_now):
    """Figures are per clinic day ("today", this week, this month): with "now" pinned, a conversation started
    five minutes ago is today's at any hour. Autouse, so it comes before sign-ins (a session dated before
    the pin would have expired)."""


@pytest.fixture
def clinic(db):
    clinic = ClinicSettings.load()
    clinic.time_zone = "America/New_York"
    clinic.assistant_name = "Ava"
    clinic.save()
    return clinic


@pytest.fixture
def fake_openai(settings):
    """A local OpenAI HTTP server, with the settings pointing the real SDK at it."""
    with FakeOpenAI() as fake:
        settings.OPENAI_API_KEY = "sk-test-analytics"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_SCORING_MODEL = "gpt-scoring-test"
        settings.ANALYTICS_SCORING_TIMEOUT = 2.0
        yield fake
