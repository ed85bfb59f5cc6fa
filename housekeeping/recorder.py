"""Records each run of a periodic task on its PeriodicJob row, from Celery's task signals.

A task says what its result means with a `reports` attribute (given to @shared_task): a label for
a single value ("reminders sent") or a dict of labels for a dict result. Recording never breaks
the task: a database error is logged and the task's own work stands.
"""

import logging

from celery import signals
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

log = logging.getLogger(__name__)


def is_periodic(task):
    return task is not None and any(
        entry.get("task") == task.name for entry in (task.app.conf.beat_schedule or {}).values()
    )


def summarize(result, reports):
    """'reminders sent: 2' or 'calls closed: 1, scorings requeued: 0' from a result and its labels."""
    if isinstance(result, dict):
        labels = reports if isinstance(reports, dict) else {}
        return ", ".join(f"{labels.get(key, key.replace('_', ' '))}: {value}" for key, value in result.items())[:300]
    if result is None:
        return "done"
    label = reports if isinstance(reports, str) else "result"
    return f"{label}: {result}"[:300]


def _write(task_name, **fields):
    from housekeeping.models import PeriodicJob

    try:
        with transaction.atomic():
            job, _ = PeriodicJob.objects.get_or_create(task=task_name)
            PeriodicJob.objects.filter(pk=job.pk).update(**fields)
    except DatabaseError:
        log.exception("Could not record the run of %s", task_name)


@signals.task_prerun.connect(dispatch_uid="housekeeping.started")
def record_start(sender=None, task=None, **kwargs):
    task = task or sender
    if is_periodic(task):
        _write(task.name, last_started_at=timezone.now())


@signals.task_postrun.connect(dispatch_uid="housekeeping.finished")
def record_finish(sender=None, task=None, retval=None, state=None, **kwargs):
    task = task or sender
    if not is_periodic(task):
        return
    if state == "SUCCESS":
        summary = summarize(retval, getattr(task, "reports", None))
        result = retval if isinstance(retval, (dict, list, str, int, float, bool, type(None))) else str(retval)
    else:
        summary, result = f"{state}: {retval!r}"[:300], None
    _write(task.name, last_finished_at=timezone.now(), last_state=state or "", last_result=result,
           last_summary=summary, runs=F("runs") + 1)
