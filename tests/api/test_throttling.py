"""Rate limits: an account past its rate is told to wait, in the error shape; a bad rate stops the start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_staff_past_their_rate_are_told_when_to_come_back(settings, staff_user, staff_token, clean_throttles):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "3/minute"}}
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    statuses = [api.get("/api/admin/communications").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = api.get("/api/admin/calls")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    # Another account has its own allowance.
    other = APIClient()
    other.force_authenticate(type(staff_user).objects.create_user("second", is_staff=True))
    assert other.get("/api/admin/communications").status_code == 200


@pytest.mark.django_db
def test_refused_requests_do_not_use_up_the_allowance(settings, staff_user, staff_token, clean_throttles):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/minute", "user": "1/minute"}}
    for _ in range(3):
        assert APIClient().get("/api/admin/communications").status_code == 403
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {staff_token}")
    assert api.get("/api/admin/communications").status_code == 200


@pytest.mark.parametrize(("name", "value"), [("API_THROTTLE_USER", "often"), ("API_THROTTLE_ANON", "10/fortnight"),
                                             ("API_THROTTLE_USER", "0/minute")])
def test_a_rate_that_cannot_be_read_stops_the_start(name, value):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env={**env, name: value, "DJANGO_SETTINGS_MODULE": "ava.settings"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
