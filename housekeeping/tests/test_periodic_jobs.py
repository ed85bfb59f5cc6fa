"""Managers see in admin when each periodic job last ran and what it did."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics import tasks as analytics_tasks
from analytics.tests.helpers import CUSTOMER, make_conversation
from communications import tasks as communications_tasks
from communications.models import Conversation
from housekeeping.models import PeriodicJob
from receptionist import tasks as receptionist_tasks


@pytest.mark.django_db
def test_each_periodic_job_records_its_last_run_and_what_it_did(pinned_now, django_capture_on_commit_callbacks):
    make_conversation(at=timezone.now() - timedelta(hours=2), lines=[(CUSTOMER, "Hello?")], end=False)
    with django_capture_on_commit_callbacks(execute=True):
        analytics_tasks.close_stale_conversations.delay()
        receptionist_tasks.send_appointment_reminders.delay()
        communications_tasks.redact_expired_transcripts.delay()
        analytics_tasks.rollup_daily_metrics.delay(date="2026-12-01")

    jobs = {job.task: job for job in PeriodicJob.objects.all()}
    closer = jobs["analytics.tasks.close_stale_conversations"]
    assert closer.last_summary.startswith("calls closed: 1, scorings requeued: ")
    assert closer.last_state == "SUCCESS" and closer.runs == 1
    assert abs(closer.last_finished_at - timezone.now()) < timedelta(minutes=1)
    assert jobs["receptionist.tasks.send_appointment_reminders"].last_summary == "reminders sent: 0"
    assert jobs["communications.tasks.redact_expired_transcripts"].last_summary == "transcripts redacted: 0"
    assert jobs["analytics.tasks.rollup_daily_metrics"].last_summary == "day rolled up: 2026-12-01"
    assert not Conversation.objects.filter(status="active").exists()


@pytest.mark.django_db
def test_a_task_that_is_not_periodic_is_not_recorded():
    analytics_tasks.score_conversation.delay("00000000-0000-0000-0000-000000000000")
    assert not PeriodicJob.objects.exists()


@pytest.mark.django_db
def test_owners_read_the_jobs_in_admin_and_cannot_change_them(admin_client_owner):
    receptionist_tasks.send_appointment_reminders.delay()

    response = admin_client_owner.get("/admin/housekeeping/periodicjob/")
    assert response.status_code == 200
    assert "receptionist.tasks.send_appointment_reminders" in response.text
    assert "reminders sent: 0" in response.text
    assert admin_client_owner.get("/admin/housekeeping/periodicjob/add/").status_code == 403
