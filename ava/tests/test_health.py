"""GET /health tells a load balancer whether this process can serve."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_when_up(url, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.django_db
def test_it_reports_every_part_healthy(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["channel_layer"]["ok"] is True
    assert body["broker"]["ok"] is True


@pytest.mark.django_db
def test_it_needs_no_login(client):
    assert client.get("/health").status_code == 200


@pytest.mark.django_db
def test_it_refuses_other_methods(client):
    assert client.post("/health").status_code == 405


def test_it_answers_503_when_the_database_is_down(tmp_path):
    """A real server started against a database it cannot open, asked over HTTP."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/missing-folder/ava.sqlite3"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ava.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        status, body = get_when_up(f"http://127.0.0.1:{port}/health")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert status == 503
    assert body["status"] == "down"
    assert body["database"]["ok"] is False
    assert body["channel_layer"]["ok"] is True


@pytest.mark.django_db
def test_it_reports_a_broker_that_cannot_be_reached(client):
    from ava.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.task_always_eager = False  # the suite's fixture turns it back on
    try:
        response = client.get("/health")
    finally:
        app.conf.broker_url = previous
    # Calls can still be answered without Celery, so the process stays in service.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False
    assert body["worker"]["ok"] is False


@pytest.mark.django_db
def test_browsers_asking_for_favicon_ico_get_the_app_s_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"
    assert client.get(response["Location"]).status_code == 200
