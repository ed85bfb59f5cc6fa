"""Celery beat's scheduler with a heartbeat, so /health can tell a beat that stopped from one with nothing due."""

import os
import socket
import time

from celery.beat import PersistentScheduler

HEARTBEAT_EVERY_SECONDS = 15


def record_heartbeat(name):
    from django.db import close_old_connections
    from django.utils import timezone

    from housekeeping.models import Heartbeat

    close_old_connections()
    Heartbeat.objects.update_or_create(
        name=name, defaults={"host": socket.gethostname(), "pid": os.getpid(), "seen_at": timezone.now()}
    )


class RecordingScheduler(PersistentScheduler):
    """PersistentScheduler that writes the "beat" heartbeat at most every HEARTBEAT_EVERY_SECONDS."""

    _last_beat = 0.0

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_beat >= HEARTBEAT_EVERY_SECONDS:
            try:
                record_heartbeat("beat")
                self._last_beat = time.monotonic()
            except Exception:  # a database hiccup must not stop the schedule
                self.logger.exception("beat: could not record the heartbeat")
        return min(interval, HEARTBEAT_EVERY_SECONDS)
