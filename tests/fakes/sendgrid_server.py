"""A local stand-in for SendGrid's v3 Mail Send API, for tests that send through django-anymail.

A real HTTP server on 127.0.0.1 answering POST /v3/mail/send with SendGrid's 202 (empty body,
X-Message-Id header) when the Bearer key matches. Point ANYMAIL["SENDGRID_API_URL"] at
`fake.api_url`:

    with FakeSendGrid(api_key="SG.test") as sendgrid:
        sendgrid.fail(500)          # the 1st send gets a 500 in SendGrid's error shape
        ...
        sendgrid.sent               # the JSON payloads accepted, in order
"""

import json
import secrets
import threading

from tests.fakes.http import LocalHTTPFake


class FakeSendGrid(LocalHTTPFake):
    name = "fake-sendgrid"

    def __init__(self, *, api_key="SG.test-key"):
        super().__init__()
        self.api_key = api_key
        self.sent = []
        self.requests = []
        self._script = []
        self._lock = threading.Lock()

    @property
    def api_url(self):
        return f"{self.address}/v3/"

    def fail(self, status, message="The server had an error."):
        with self._lock:
            self._script.append((status, message))
        return self

    def _handle(self, handler, method, body):
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(("POST", path, body))
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            self._send(handler, 401, {"errors": [{"message": "The provided authorization grant is invalid, expired, "
                                                             "or revoked", "field": None, "help": None}]})
            return
        if path != "/v3/mail/send":
            self._send(handler, 404, {"errors": [{"message": "Not found", "field": None, "help": None}]})
            return
        with self._lock:
            failure = self._script.pop(0) if self._script else None
        if failure is not None:
            self._send(handler, failure[0], {"errors": [{"message": failure[1], "field": None, "help": None}]})
            return
        try:
            payload = json.loads(body)
        except ValueError:
            self._send(handler, 400, {"errors": [{"message": "Bad Request", "field": None, "help": None}]})
            return
        if not payload.get("personalizations") or not payload.get("from") or not payload.get("content"):
            self._send(handler, 400, {"errors": [{"message": "personalizations, from and content are required",
                                                  "field": None, "help": None}]})
            return
        with self._lock:
            self.sent.append(payload)
        self._send(handler, 202, None, {"X-Message-Id": secrets.token_urlsafe(16)})

    @staticmethod
    def _send(handler, status, body, headers=None):
        payload = b"" if body is None else json.dumps(body).encode()
        try:
            handler.send_response(status)
            if body is not None:
                handler.send_header("Content-Type", "application/json")
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
