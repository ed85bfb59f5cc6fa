"""A local stand-in for the Google Calendar v3 calls Ava makes, plus the OAuth token endpoint.

It speaks HTTP on 127.0.0.1, so the real google-api-python-client and google-auth talk to
it exactly as they would to Google (settings.GOOGLE_CALENDAR_API_URL and the credentials'
token_uri point here). Tests can make the next calls of one kind fail, before or after the
change lands (`fail("insert", status=503, after_change=True)` is an insert whose answer was lost).
"""

import json
import threading
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "fake-access-token"


class FakeGoogleCalendar:
    def __init__(self):
        self.events = {}  # (calendar_id, event_id) -> event
        self.busy = defaultdict(list)  # calendar_id -> [{"start": iso, "end": iso}]
        self.unreadable = set()  # calendar ids freeBusy answers with an error for
        self.requests = []  # (method, operation, calendar_id)
        self.tokens_issued = 0
        self._failures = defaultdict(list)  # operation -> [(status, after_change)]
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    @property
    def api_url(self):
        return f"{self.url}/calendar/v3/"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def fail(self, operation, *, status=503, times=1, after_change=False):
        """Answer the next `times` calls of `operation` (insert, list, patch, delete, freebusy) with `status`."""
        self._failures[operation].extend([(status, after_change)] * times)

    def events_in(self, calendar_id):
        return [event for (cal, _), event in self.events.items() if cal == calendar_id]

    def operations(self, operation):
        return [r for r in self.requests if r[1] == operation]

    # --- the HTTP side -----------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=None):
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return raw

            def do_POST(self):
                fake._dispatch(self, "POST")

            def do_GET(self):
                fake._dispatch(self, "GET")

            def do_PATCH(self):
                fake._dispatch(self, "PATCH")

            def do_DELETE(self):
                fake._dispatch(self, "DELETE")

        return Handler

    def _dispatch(self, handler, method):
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        raw = handler._body()
        if parts.path == "/token":
            with self._lock:
                self.tokens_issued += 1
            return handler._send(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})
        if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
            return handler._send(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
        body = json.loads(raw) if raw else {}
        segments = [unquote(s) for s in parts.path.split("/") if s]
        # calendar/v3/freeBusy | calendar/v3/calendars/{cal}/events[/{id}]
        if segments[:3] == ["calendar", "v3", "freeBusy"] and method == "POST":
            operation, calendar_id, event_id = "freebusy", None, None
        elif segments[:3] == ["calendar", "v3", "calendars"] and len(segments) >= 5 and segments[4] == "events":
            calendar_id = segments[3]
            event_id = segments[5] if len(segments) > 5 else None
            operation = {("GET", False): "list", ("POST", False): "insert", ("PATCH", True): "patch",
                         ("DELETE", True): "delete", ("GET", True): "get"}.get((method, event_id is not None))
        else:
            return handler._send(404, {"error": {"code": 404, "message": "Not Found"}})
        with self._lock:
            self.requests.append((method, operation, calendar_id))
            failure = self._failures[operation].pop(0) if self._failures[operation] else None
            if failure and not failure[1]:
                return handler._send(failure[0], {"error": {"code": failure[0], "message": "Backend Error"}})
            status, answer = getattr(self, f"_{operation}")(calendar_id, event_id, body, query)
            if failure:
                return handler._send(failure[0], {"error": {"code": failure[0], "message": "Backend Error"}})
        return handler._send(status, answer)

    def _freebusy(self, calendar_id, event_id, body, query):
        calendars = {}
        for item in body.get("items", []):
            if item["id"] in self.unreadable:
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            else:
                calendars[item["id"]] = {"busy": list(self.busy[item["id"]])}
        return 200, {"kind": "calendar#freeBusy", "timeMin": body.get("timeMin"), "timeMax": body.get("timeMax"),
                     "calendars": calendars}

    def _list(self, calendar_id, event_id, body, query):
        wanted = [value.split("=", 1) for value in query.get("privateExtendedProperty", [])]
        items = []
        for event in self.events_in(calendar_id):
            private = event.get("extendedProperties", {}).get("private", {})
            if all(private.get(key) == value for key, value in wanted):
                items.append(event)
        return 200, {"kind": "calendar#events", "items": items}

    def _insert(self, calendar_id, event_id, body, query):
        event = {**body, "id": uuid.uuid4().hex, "status": "confirmed", "kind": "calendar#event"}
        self.events[(calendar_id, event["id"])] = event
        return 200, event

    def _patch(self, calendar_id, event_id, body, query):
        event = self.events.get((calendar_id, event_id))
        if event is None:
            return 404, {"error": {"code": 404, "message": "Not Found"}}
        event.update(body)
        return 200, event

    def _delete(self, calendar_id, event_id, body, query):
        if self.events.pop((calendar_id, event_id), None) is None:
            return 410, {"error": {"code": 410, "message": "Resource has been deleted"}}
        return 204, None

    def _get(self, calendar_id, event_id, body, query):
        event = self.events.get((calendar_id, event_id))
        return (200, event) if event else (404, {"error": {"code": 404, "message": "Not Found"}})
