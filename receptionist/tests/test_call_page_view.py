"""/call/: the public call page and the files it loads, all served by Ava (no CDN)."""

import json
import re

import pytest
from django.templatetags.static import static

from receptionist.prompt import RECORDING_NOTICE

pytestmark = pytest.mark.django_db

CALL_FILES = ["call/call.js", "call/audio.js", "call/transcript.js", "call/call-worklet.js", "call/call.css"]


def test_it_needs_no_login_and_shows_the_recording_notice(client):
    response = client.get("/call/")
    assert response.status_code == 200
    html = response.content.decode()
    assert RECORDING_NOTICE in html
    assert "Start call" in html and "Type instead of speaking" in html


def test_it_shows_none_of_the_staff_pages(client, staff_user):
    client.force_login(staff_user)
    html = client.get("/call/").content.decode()
    assert "/dashboard/" not in html and "Sign out" not in html and "/admin/" not in html


def test_it_loads_nothing_from_another_site(client):
    html = client.get("/call/").content.decode()
    addresses = [a for a in re.findall(r'(?:src|href)="([^"]+)"', html) if not a.startswith("#")]
    assert addresses, "the page loads its scripts and styles"
    assert all(address.startswith("/") and not address.startswith("//") for address in addresses), addresses
    assert static("call/call.js") in addresses and static("call/call.css") in addresses


def test_the_scripts_and_the_audio_worklet_are_served(client):
    for path in CALL_FILES:
        response = client.get(static(path))
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content if response.streaming else [response.content])
        assert b"http://" not in body and b"https://" not in body, path  # no CDN imports either
        if path.endswith(".js"):
            assert response["Content-Type"].startswith(("text/javascript", "application/javascript")), path
    worklet = b"".join(client.get(static("call/call-worklet.js")).streaming_content)
    assert b'registerProcessor("ava-call"' in worklet


def test_it_passes_the_vad_thresholds_from_the_settings(client, settings):
    settings.VOICE_VAD_MIN_LEVEL_DBFS = -52.5
    settings.VOICE_VAD_SNR_DB = 8
    settings.VOICE_VAD_ECHO_MARGIN_DB = 12
    html = client.get("/call/").content.decode()
    config = json.loads(re.search(r'<script id="call-config" type="application/json">(.*?)</script>', html).group(1))
    assert config["ws_path"] == "/ws/voice/"
    assert config["thresholds"] == {"min_level_dbfs": -52.5, "snr_db": 8, "echo_margin_db": 12}


def test_it_refuses_a_post(client):
    assert client.post("/call/").status_code == 405
