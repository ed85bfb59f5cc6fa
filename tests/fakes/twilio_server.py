"""A local stand-in for Twilio's Messages API, for tests that use the real `twilio` client.

A real HTTP server on 127.0.0.1 (a free port, its own thread) answering what the client sends
to create a message: POST /2010-04-01/Accounts/{AccountSid}/Messages.json with form fields
To, From, Body and StatusCallback, HTTP basic auth (AccountSid, AuthToken). Point
settings.TWILIO_API_BASE_URL at `fake.base_url`:

    with FakeTwilio(account_sid="AC…", auth_token="…") as twilio:
        twilio.fail(400, code=21211, message="The 'To' number is not a valid phone number.")  # 1st send
        ...
        twilio.sent          # [{"To": "+1…", "From": "+1…", "Body": "…", "StatusCallback": …, "sid": "SM…"}]
        twilio.call_updates  # live calls changed (POST …/Calls/{CallSid}.json): [{"sid": "CA…", "Twiml": "…"}]
        twilio.recordings["RE…"] = mp3_bytes  # served at GET …/Recordings/RE….mp3 (basic auth, like Twilio)
        twilio.recording_not_ready(2)          # the next 2 fetches of a recording answer 404 first

A send with nothing scripted succeeds with status "queued", like Twilio's.
"""

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from tests.fakes.http import LocalHTTPFake


@dataclass
class Failure:
    status: int
    code: int | None = None
    message: str = ""
    headers: dict = field(default_factory=dict)


class FakeTwilio(LocalHTTPFake):
    name = "fake-twilio"
    methods = ("POST", "GET")

    def __init__(self, *, account_sid="AC" + "0" * 32, auth_token="test-auth-token"):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent = []  # accepted messages, in order
        self.call_updates = []  # live calls changed: {"sid": CallSid, "Twiml": …} or {"sid", "Status": "completed"}
        self.requests = []  # every request: (method, path, form)
        self.recordings = {}  # RecordingSid -> the MP3's bytes
        self._not_ready = 0
        self._script = []
        self._lock = threading.Lock()

    @property
    def base_url(self):
        return self.address

    # --- scripting -------------------------------------------------------------------------
    def fail(self, status, *, code=None, message="", headers=None):
        """The next send answers with Twilio's error shape and this HTTP status."""
        with self._lock:
            self._script.append(Failure(status, code, message or f"Error {status}", headers or {}))
        return self

    def recording_not_ready(self, times=1):
        """The next `times` fetches of a recording answer 404, as Twilio does while it finishes the file."""
        with self._lock:
            self._not_ready += times
        return self

    # --- serving ---------------------------------------------------------------------------
    def _handle(self, handler, method, body):
        form = {key: values[-1] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((method, path, form))
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            self._send(handler, 401, {"code": 20003, "message": "Authenticate", "status": 401})
            return
        if method == "GET":
            self._get_recording(handler, path)
            return
        calls = f"/2010-04-01/Accounts/{self.account_sid}/Calls/"
        if path.startswith(calls) and path.endswith(".json"):
            self._update_call(handler, path[len(calls):-len(".json")], form)
            return
        if path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            self._send(handler, 404, {"code": 20404, "message": f"The requested resource {path} was not found",
                                      "status": 404})
            return
        with self._lock:
            failure = self._script.pop(0) if self._script else None
        if failure is not None:
            self._send(handler, failure.status, {"code": failure.code, "message": failure.message,
                                                 "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
                                                 "status": failure.status}, failure.headers)
            return
        if not form.get("To") or not form.get("Body") or not (form.get("From") or form.get("MessagingServiceSid")):
            self._send(handler, 400, {"code": 21604, "message": "A 'To', a 'From' or 'MessagingServiceSid', and a "
                                                                "'Body' are required.", "status": 400})
            return
        sid = "SM" + secrets.token_hex(16)
        with self._lock:
            self.sent.append({**form, "sid": sid})
        self._send(handler, 201, {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form.get("From"), "body": form["Body"],
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "status": "queued", "num_segments": "1", "num_media": "0", "direction": "outbound-api",
            "api_version": "2010-04-01", "price": None, "error_code": None, "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "date_created": "Mon, 02 Mar 2026 15:00:00 +0000", "date_updated": "Mon, 02 Mar 2026 15:00:00 +0000",
            "date_sent": None, "subresource_uris": {},
        })

    def _update_call(self, handler, call_sid, form):
        """POST …/Calls/{CallSid}.json: new TwiML for a live call (Twiml=…) or its end (Status=completed)."""
        with self._lock:
            failure = self._script.pop(0) if self._script else None
        if failure is not None:
            self._send(handler, failure.status, {"code": failure.code, "message": failure.message,
                                                 "status": failure.status}, failure.headers)
            return
        with self._lock:
            self.call_updates.append({"sid": call_sid, **form})
        self._send(handler, 200, {
            "sid": call_sid, "account_sid": self.account_sid, "status": form.get("Status", "in-progress"),
            "direction": "inbound", "api_version": "2010-04-01", "from": "+12125550142", "to": "+12125550100",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call_sid}.json", "subresource_uris": {},
            "date_created": "Mon, 02 Mar 2026 15:00:00 +0000", "date_updated": "Mon, 02 Mar 2026 15:00:00 +0000",
        })

    def _get_recording(self, handler, path):
        """GET …/Recordings/{RecordingSid}.mp3: the recording's audio."""
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Recordings/"
        sid = path[len(prefix):-len(".mp3")] if path.startswith(prefix) and path.endswith(".mp3") else ""
        with self._lock:
            not_ready, self._not_ready = self._not_ready > 0, max(0, self._not_ready - 1)
            audio = self.recordings.get(sid)
        if audio is None or not_ready:
            self._send(handler, 404, {"code": 20404, "message": f"The requested resource {path} was not found",
                                      "status": 404})
            return
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "audio/mpeg")
            handler.send_header("Content-Length", str(len(audio)))
            handler.end_headers()
            handler.wfile.write(audio)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _send(handler, status, body, headers=None):
        payload = json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
