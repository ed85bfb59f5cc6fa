"""Celery for Ava: a worker and beat on Redis (REDIS_URL) or, by default, on kombu's filesystem broker."""

import os
from pathlib import Path

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

app = Celery("ava")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _make_broker_folders():
    """The filesystem transport expects its folders to exist."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


if str(app.conf.broker_url).startswith("filesystem:"):
    _make_broker_folders()


@signals.worker_ready.connect(dispatch_uid="ava.close_calls_at_start")
def close_calls_left_open(sender=None, **kwargs):
    """At a worker's start, end the calls a killed server left open, rather than wait for beat."""
    app.send_task("analytics.tasks.close_stale_conversations")
