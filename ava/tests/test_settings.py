"""Settings come from the environment, and a value that cannot be read stops the start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start_django(**overrides):
    """Start a fresh interpreter with the given environment, as `manage.py` would."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "ava.settings"}, capture_output=True, text=True, timeout=60,
    )


def test_it_starts_with_no_environment_on_sqlite():
    result = start_django()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.sqlite3"


def test_it_uses_postgresql_from_database_url():
    result = start_django(DATABASE_URL="postgres://ava@db.example:5432/ava")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/ava"),
        ("REDIS_URL", "localhost:6379"),
        ("OPENAI_BASE_URL", "not a url"),
        ("EMAIL_PORT", "twenty-five"),
        ("CLINIC_DEFAULT_TIME_ZONE", "Mars/Olympus_Mons"),
        ("CALENDAR_BACKEND", "outlook"),
    ],
)
def test_it_refuses_a_bad_value_and_names_the_variable(name, value):
    result = start_django(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_every_variable_is_listed_in_env_example():
    settings_source = (ROOT / "ava" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    read = set(re.findall(r'env\.get_\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    listed = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert read - listed == set(), f"not in .env.example: {sorted(read - listed)}"
