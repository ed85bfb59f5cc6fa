from django.db import models


class PeriodicJob(models.Model):
    """One row per periodic task (those in CELERY_BEAT_SCHEDULE): its last run and what it did."""

    task = models.CharField(max_length=200, unique=True, help_text="The Celery task's name.")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_state = models.CharField(max_length=20, blank=True, help_text="SUCCESS, FAILURE or RETRY.")
    last_result = models.JSONField(null=True, blank=True)
    last_summary = models.CharField(max_length=300, blank=True, help_text="What the last run did, in words.")
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["task"]

    def __str__(self):
        return self.task


class Heartbeat(models.Model):
    """The last sign of life of a background process that has no one to answer (beat)."""

    name = models.CharField(max_length=50, unique=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} on {self.host} ({self.pid})"
