"""Production settings pass Django's deploy check; staff sessions end after inactivity."""

import secrets
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from ava.tests.test_settings import ROOT


def run_manage(*args, **env_overrides):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50), HTTPS="1", ALLOWED_HOSTS="ava.example.com", DEBUG="0",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_the_development_secret_key():
    result = run_manage("check", HTTPS="1", ALLOWED_HOSTS="ava.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_a_staff_session_lasts_fifteen_idle_minutes_and_each_visit_renews_it(staff_client, settings):
    assert settings.SESSION_IDLE_MINUTES == 15
    assert staff_client.get("/dashboard/inbox/").status_code == 200
    session = Session.objects.get()
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)

    # Fifteen minutes without a request later, the session is over.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = staff_client.get("/dashboard/inbox/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
