"""Shared fixtures for scheduling tests: a clinic in New York, open 9 to 5 every day."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from scheduling.tests.factories import open_clinic
from scheduling.tests.fake_google import TOKEN, FakeGoogleCalendar

NY = ZoneInfo("America/New_York")


def at(year, month, day, hour=0, minute=0, tz=NY):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


@pytest.fixture
def clinic(db):
    return open_clinic(min_booking_notice_minutes=120, booking_horizon_days=90, cancellation_notice_hours=24)


@pytest.fixture
def fake_google():
    server = FakeGoogleCalendar().start()
    yield server
    server.stop()


@pytest.fixture
def google_backend(settings, fake_google, tmp_path):
    """CALENDAR_BACKEND=google against the local fake, with an OAuth token file holding a live token.

    (google-auth always refreshes authorized-user tokens at Google's own endpoint, so the token
    here must not need refreshing; the service-account test exercises a token exchange.)
    """
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({
        "token": TOKEN, "expiry": "2099-01-01T00:00:00Z", "refresh_token": "refresh-me",
        "client_id": "ava-test", "client_secret": "s3cret",
    }))
    settings.CALENDAR_BACKEND = "google"
    settings.GOOGLE_CALENDAR_ID = "clinic@example.com"
    settings.GOOGLE_OAUTH_TOKEN_FILE = str(token_file)
    settings.GOOGLE_SERVICE_ACCOUNT_FILE = ""
    settings.GOOGLE_CALENDAR_API_URL = fake_google.api_url
    settings.GOOGLE_CALENDAR_TIMEOUT_SECONDS = 5.0
    return fake_google
