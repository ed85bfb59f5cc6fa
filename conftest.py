"""Suite-wide fixtures. Tests run on SQLite by default, on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

# The zone open_clinic() gives the test clinic; "now" pinned there is a weekday afternoon, so a test that
# speaks of "today", "tomorrow" or "24 hours ahead" means the same at any hour CI happens to run.
PINNED_NOW = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("America/New_York"))  # a Wednesday, 3 PM


@pytest.fixture
def pinned_now(time_machine):
    """Pins "now" to PINNED_NOW (time-machine, for every thread of the process) and lets it tick from there."""
    # Given in UTC: a ZoneInfo destination would also make time-machine switch the process's TZ.
    time_machine.move_to(PINNED_NOW.astimezone(timezone.utc), tick=True)
    return PINNED_NOW


@pytest.fixture(autouse=True)
def _celery_runs_tasks_in_process(request):
    """Tasks run in the test's own process, so assertions see their effects.

    A test marked `worker` keeps the real broker and starts a real worker instead.
    """
    from ava.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("frontdesk", "frontdesk@example.com", "a-long-test-password", is_staff=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def owner_user(django_user_model):
    return django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-test-password")


@pytest.fixture
def admin_client_owner(client, owner_user):
    client.force_login(owner_user)
    return client


@pytest.fixture(autouse=True)
def _recordings_in_tmp(settings, tmp_path):
    """Every test's call recordings (spool and storage) go to its own tmp_path, never the project's var/."""
    settings.RECORDINGS_SPOOL_DIR = tmp_path / "recordings-spool"
    settings.STORAGES = {**settings.STORAGES, "recordings": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path / "recordings", "base_url": None}}}
