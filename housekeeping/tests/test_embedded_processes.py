"""`make run`'s processes for real: web, a Celery worker and beat under honcho, on the embedded filesystem broker.

On a fresh SQLite file of their own, with nothing else set: a call a killed server left open is closed when
the worker starts, beat sends the reminders when they fall due and the worker puts them in the outbox, each
run is recorded, /health sees the worker and beat, a dashboard socket on the web process sees Ava's text
reply that the worker wrote (the embedded channel layer crosses processes), and one Ctrl-C (SIGINT) stops all
three. Their clock is moved (libfaketime) to shortly before a ten-minute mark, so beat's */10 reminders fall due inside the test.
"""

import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from twilio.request_validator import RequestValidator
from websockets.sync.client import connect

from ava.tests.test_health import ROOT, free_port, get_when_up

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not (shutil.which("faketime") and os.path.exists(LIBFAKETIME)), reason="needs libfaketime"),
]

SETUP = """
import json, sys
from datetime import timedelta
from django.utils import timezone
from communications.models import Conversation
from communications.services import add_message, start_conversation
from scheduling.tests.factories import AppointmentFactory, glow_med_spa
from scheduling.models import Appointment
from communications.models import Customer
spa = glow_med_spa()
stamp = json.loads(sys.argv[-1])
call = start_conversation(channel="voice", at=timezone.now() - timedelta(minutes=2), metadata={"held_by": stamp})
add_message(conversation_id=call.pk, author="customer", content="Can I book a HydraFacial?",
            sent_at=timezone.now() - timedelta(minutes=1))
customer = Customer.objects.create(name="Rosa Diaz", phone="+12125550188")
start = timezone.now() + timedelta(hours=23, minutes=50)
appointment = AppointmentFactory(customer=customer, service=spa.hydrafacial, provider=spa.dana, start=start)
Appointment.objects.filter(pk=appointment.pk).update(created_at=timezone.now() - timedelta(days=3))
print(json.dumps({"call": str(call.pk)}))
"""

STAMP = ("import json, os, socket, psutil; print(json.dumps({'host': socket.gethostname(), 'pid': os.getpid(), "
         "'started': round(psutil.Process().create_time(), 2)}))")


STAFF_SESSION = """
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.create_user("frontdesk", password="a-long-test-password", is_staff=True))
print(client.cookies[settings.SESSION_COOKIE_NAME].value)
"""


def wait_for(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_make_run_s_worker_and_beat_do_the_periodic_work_and_stop_on_one_ctrl_c(tmp_path):
    # Nothing set but the files' places (and a Twilio token, to sign a text): the embedded defaults, the
    # SQLite channel layer included (pytest.ini sets the suite's own to memory).
    # Nothing of the suite's own libfaketime (CI runs the suite under it) reaches these processes: their
    # offset below is from the real clock, which is what libfaketime adds a "+Ns" offset to.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "EMBEDDED_CHANNEL_LAYER", "CHANNEL_LAYER_",
                                "FAKETIME", "LD_PRELOAD"))}
    token = secrets.token_hex(16)
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/ava.sqlite3", CELERY_BROKER_DIR=str(tmp_path / "broker"),
               # its own beat schedule: last runs a shared file kept would hold back this run's reminders
               CELERY_BEAT_SCHEDULE_FILENAME=str(tmp_path / "celerybeat-schedule"),
               CHANNEL_LAYER_DB=str(tmp_path / "channels.sqlite3"), TWILIO_AUTH_TOKEN=token,
               PATH=f"{ROOT}/.venv/bin:{os.path.dirname(sys.executable)}:{env.get('PATH', '')}")
    # The real clock, read outside any faked one (this process's may be faked).
    now = datetime.fromtimestamp(float(subprocess.run(["date", "+%s.%N"], env=env, capture_output=True, text=True,
                                                      check=True).stdout), timezone.utc)
    mark = (now + timedelta(minutes=10 - now.minute % 10)).replace(second=0, microsecond=0)
    # Migrating and starting take about a minute before beat is up: start the fake clock 80 s before the mark,
    # for every process started from here (one shared offset).
    env_faked = dict(env, LD_PRELOAD=LIBFAKETIME, FAKETIME=f"{(mark - now).total_seconds() - 80:+.0f}s",
                     FAKETIME_DONT_RESET="1")
    run = lambda *args, **kw: subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env_faked,
                                             check=True, capture_output=True, text=True, timeout=120, **kw)
    run("migrate", "--noinput")
    gone = subprocess.run([sys.executable, "-c", STAMP], capture_output=True, text=True, check=True).stdout.strip()
    try:
        setup = run("shell", "-c", SETUP.replace("sys.argv[-1]", repr(gone)))
    except subprocess.CalledProcessError as error:
        raise AssertionError(error.stderr[-2000:]) from None
    call_id = json.loads(setup.stdout.strip().splitlines()[-1])["call"]
    session = run("shell", "-c", STAFF_SESSION).stdout.strip().splitlines()[-1]
    db = sqlite3.connect(f"{tmp_path}/ava.sqlite3", timeout=10)
    query = lambda sql, *args: db.execute(sql, args).fetchall()

    port = free_port()
    log = open(tmp_path / "honcho.log", "w")
    honcho = subprocess.Popen([f"{ROOT}/.venv/bin/honcho", "start", "-f", "Procfile"], cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT, env=dict(env_faked, AVA_PORT=str(port)), start_new_session=True)
    try:
        # The worker's start closes the call the killed server left open, at its last activity.
        ended = wait_for(lambda: query("SELECT status, ended_at, last_activity_at FROM communications_conversation "
                                       "WHERE id = ?", call_id.replace("-", "")) if query(
            "SELECT 1 FROM communications_conversation WHERE id = ? AND status != 'active'", call_id.replace("-", ""))
            else None, 60, "the cut call to be closed")
        assert ended[0][0] == "completed" and ended[0][1] == ended[0][2]
        # Beat sends the reminders at the mark; the worker writes them to the outbox.
        reminders = wait_for(lambda: query("SELECT channel, body FROM communications_outboundmessage WHERE kind = 'reminder'"),
                             150, "the reminder in the outbox")
        assert any("HydraFacial" in body for _, body in reminders)
        recorded = lambda: dict(query("SELECT task, last_summary FROM housekeeping_periodicjob WHERE runs > 0"))
        jobs = wait_for(lambda: (jobs := recorded()) and "receptionist.tasks.send_appointment_reminders" in jobs and jobs,
                        30, "the reminders' run to be recorded")
        assert jobs["receptionist.tasks.send_appointment_reminders"].startswith("reminders sent: ")
        assert jobs["analytics.tasks.close_stale_conversations"].startswith("calls closed: ")
        status, body = get_when_up(f"http://127.0.0.1:{port}/health", timeout=60)
        assert status == 200 and body["worker"]["ok"] and body["beat"]["ok"], body
        assert body["broker"]["mode"] == "broker"
        assert body["channel_layer"] == {"ok": True, "backend": "SQLiteChannelLayer"}, body

        # A text arrives at the web process; Ava's answer is written by the worker. Live now, on a socket the
        # web process holds, shows the answer: the worker's update crossed processes through the channel layer.
        origin = f"http://127.0.0.1:{port}"
        with connect(f"ws://127.0.0.1:{port}/ws/dashboard/", origin=origin, open_timeout=10,
                     additional_headers={"Cookie": f"sessionid={session}"}) as socket:
            assert json.loads(socket.recv(timeout=10))["op"] == "snapshot"
            url, text = f"{origin}/webhooks/twilio/sms", {"MessageSid": "SM" + "1" * 32, "From": "+12125550142",
                                                          "To": "+12125550100", "Body": "What are your hours?"}
            signature = RequestValidator(token).compute_signature(url, text)
            response = requests.post(url, data=text, headers={"X-Twilio-Signature": signature}, timeout=10)
            assert response.status_code == 200, response.text
            answer = wait_for(lambda: query("SELECT content FROM communications_message WHERE author = 'assistant' "
                                            "AND conversation_id IN (SELECT id FROM communications_conversation "
                                            "WHERE channel = 'sms')"), 60, "Ava's answer")[0][0]
            deadline, seen = time.monotonic() + 10, []
            while not any(op["op"] == "utterance" and "Assistant:" in op["html"] for op in seen):
                try:
                    seen.append(json.loads(socket.recv(timeout=max(0.1, deadline - time.monotonic()))))
                except TimeoutError:
                    raise AssertionError(f"Ava's answer {answer!r} never reached the dashboard: {seen}") from None
            assert any(op["op"] == "upsert" for op in seen), seen  # the web's own "started", through the same layer
    finally:
        honcho.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            honcho.wait(timeout=20)
        finally:
            if honcho.poll() is None:
                os.killpg(honcho.pid, signal.SIGKILL)
            log.close()
    output = (tmp_path / "honcho.log").read_text()
    assert honcho.returncode is not None
    for name in ("web.1", "worker.1", "beat.1"):
        assert f"{name} stopped" in output, output[-3000:]
