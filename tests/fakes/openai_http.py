"""A local stand-in for the OpenAI HTTP API, for tests that use the real `openai` SDK.

It is a real HTTP server on 127.0.0.1 (a free port, its own thread). Point the
SDK at `fake.base_url` (settings.OPENAI_BASE_URL in tests) and script what each
request gets, in order:

    with FakeOpenAI() as fake:
        fake.rate_limited()                       # 1st request: 429
        fake.structured({"outcome": "booked"})    # 2nd: an answer whose text is that JSON
        fake.tool_calls(("check_availability", {"service": "Botox"}))  # 3rd: an answer that calls a tool
        ...
        assert len(fake.requests) == 2

It answers POST /v1/chat/completions and POST /v1/responses in their own
shapes. A request with nothing scripted left gets the `default` reply (set it
with `fake.default = ...`), or a 500 that says so, so a test sees the surprise.
"""

import json
import threading
import time
from dataclasses import dataclass, field

from tests.fakes.http import LocalHTTPFake

CHAT_PATH = "/v1/chat/completions"
RESPONSES_PATH = "/v1/responses"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self):
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    """One scripted reply: a status, headers and a body, or a callable that builds the body per endpoint."""

    status: int = 200
    body: object = None  # bytes, a JSON-able object, or callable(path, request_json) -> object
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (released early when the server stops)

    def render(self, path, request_json):
        body = self.body(path, request_json) if callable(self.body) else self.body
        if isinstance(body, bytes):
            return body
        return json.dumps(body).encode()


def _chat_usage(usage):
    """A CompletionUsage: (prompt, completion) tokens, and a third number for the cached part of the prompt."""
    prompt, completion, cached = (*usage, 0)[:3]
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}


class FakeOpenAI(LocalHTTPFake):
    name = "fake-openai"
    methods = ("POST", "GET")

    def __init__(self, *, model="gpt-fake"):
        super().__init__()
        self.model = model
        self.requests: list[RecordedRequest] = []
        self.default: Reply | None = None
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._counter = 0

    # --- lifecycle -------------------------------------------------------------------------
    def stop(self):
        self._stopping.set()  # releases any hanging reply
        super().stop()

    @property
    def base_url(self):
        return f"{self.address}/v1"

    # --- scripting -------------------------------------------------------------------------
    def then(self, reply: Reply):
        with self._lock:
            self._script.append(reply)
        return self

    def structured(self, answer: dict, *, usage=(120, 40), delay=0.0):
        """A completed answer whose output text is `answer` as JSON (structured outputs)."""
        return self.text(json.dumps(answer), usage=usage, delay=delay)

    def text(self, text: str, *, finish_reason="stop", usage=(120, 40), delay=0.0):
        """A completed answer with this output text; not JSON when a test wants invalid JSON.

        `usage`: (prompt, completion) tokens, or (prompt, completion, cached prompt tokens)."""
        return self.then(Reply(body=lambda path, req: self._answer(path, req, text, finish_reason, usage), delay=delay))

    def tool_calls(self, *calls, text=None, usage=(150, 30)):
        """An answer that calls tools: each call is (name, arguments dict). Chat Completions' and Responses' shapes.

        Returns the call ids, in order, so a test can match the tool results the next request carries.
        """
        with self._lock:
            first = self._counter + 1
            self._counter += len(calls)
        ids = [f"call_fake_{first + n}" for n in range(len(calls))]
        made = [(call_id, name, json.dumps(arguments)) for call_id, (name, arguments) in zip(ids, calls, strict=True)]
        self.then(Reply(body=lambda path, req: self._tool_answer(path, req, made, text, usage)))
        return ids

    def refusal(self, message="I can't help with that."):
        return self.then(Reply(body=lambda path, req: self._answer(path, req, None, "stop", (10, 5), refusal=message)))

    def json(self, body, *, status=200, headers=None):
        """Exactly this JSON body (any shape)."""
        return self.then(Reply(status=status, body=body, headers=headers or {}))

    def raw(self, body: bytes, *, status=200, content_type="application/json"):
        """These bytes as the HTTP body, e.g. a body that is not JSON at all."""
        return self.then(Reply(status=status, body=body, headers={"Content-Type": content_type}))

    def error(self, status, message, *, type="invalid_request_error", code=None, headers=None):
        """An error in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""
        body = {"error": {"message": message, "type": type, "param": None, "code": code}}
        return self.then(Reply(status=status, body=body, headers=headers or {}))

    def rate_limited(self, *, retry_after=None):
        headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
        return self.error(429, "Rate limit reached for requests.", type="requests", code="rate_limit_exceeded",
                          headers=headers)

    def quota_exhausted(self):
        return self.error(429, "You exceeded your current quota, please check your plan and billing details.",
                          type="insufficient_quota", code="insufficient_quota")

    def server_error(self, status=500):
        return self.error(status, "The server had an error while processing your request.", type="server_error")

    def hang(self, seconds=30.0, then: Reply | None = None):
        """Answer only after `seconds` (past a client's timeout); stopping the server releases it."""
        reply = then or Reply(status=500, body={"error": {"message": "answered after a hang", "type": "server_error"}})
        reply.delay = seconds
        return self.then(reply)

    # --- serving ---------------------------------------------------------------------------
    def _next_reply(self):
        with self._lock:
            if self._script:
                return self._script.pop(0)
        if self.default is not None:
            return self.default
        return Reply(status=500, body={"error": {"message": "FakeOpenAI: no reply scripted for this request",
                                                 "type": "fake_unscripted"}})

    def _handle(self, handler, method, body):
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(RecordedRequest(method, path, dict(handler.headers), body))
        if path not in (CHAT_PATH, RESPONSES_PATH):
            self._send(handler, 404, json.dumps({"error": {"message": f"No route {method} {path}",
                                                            "type": "invalid_request_error"}}).encode(), {})
            return
        reply = self._next_reply()
        if reply.delay and self._stopping.wait(reply.delay):
            return  # the server is stopping; drop the hung request
        try:
            request_json = json.loads(body or b"{}")
        except ValueError:
            request_json = {}
        self._send(handler, reply.status, reply.render(path, request_json), reply.headers)

    def _send(self, handler, status, payload, headers):
        try:
            handler.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); that is the point of a hang

    def _tool_answer(self, path, request_json, calls, text, usage):
        with self._lock:
            self._counter += 1
            n = self._counter
        model = request_json.get("model") or self.model
        prompt_tokens, completion_tokens = usage[:2]
        if path == RESPONSES_PATH:
            output = [{"type": "function_call", "id": f"fc_fake_{n}_{i}", "call_id": call_id, "name": name,
                       "arguments": arguments, "status": "completed"} for i, (call_id, name, arguments) in enumerate(calls)]
            return {
                "id": f"resp_fake_{n}", "object": "response", "created_at": int(time.time()), "status": "completed",
                "model": model, "error": None, "incomplete_details": None, "output": output,
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": request_json.get("tools", []),
                "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            }
        return {
            "id": f"chatcmpl-fake-{n}", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None, "tool_calls": [
                             {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                             for call_id, name, arguments in calls]}}],
            "usage": _chat_usage(usage),
        }

    def _answer(self, path, request_json, text, finish_reason, usage, refusal=None):
        with self._lock:
            self._counter += 1
            n = self._counter
        model = request_json.get("model") or self.model
        prompt_tokens, completion_tokens = usage[:2]
        if path == RESPONSES_PATH:
            content = [{"type": "refusal", "refusal": refusal}] if refusal else [
                {"type": "output_text", "text": text, "annotations": []}
            ]
            return {
                "id": f"resp_fake_{n}", "object": "response", "created_at": int(time.time()), "status": "completed",
                "model": model, "error": None, "incomplete_details": None,
                "output": [{"type": "message", "id": f"msg_fake_{n}", "status": "completed", "role": "assistant",
                            "content": content}],
                "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
                "usage": {"input_tokens": prompt_tokens, "output_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens},
            }
        return {
            "id": f"chatcmpl-fake-{n}", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": refusal}}],
            "usage": _chat_usage(usage),
        }
