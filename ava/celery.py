"""Celery for Ava. Without REDIS_URL tasks run in-process (eager), see settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ava.settings")

app = Celery("ava")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
