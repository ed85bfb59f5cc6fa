"""The part every local HTTP fake shares: a real server on 127.0.0.1, in a thread, for one test.

A fake subclasses LocalHTTPFake and answers in `_handle(handler, method, body)`, where
`handler` is the request's BaseHTTPRequestHandler (write the status, headers and body to it).
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalHTTPFake:
    name = "fake"  # the server thread's name, for debugging
    methods = ("POST",)  # the HTTP methods it answers; others get the server's 501

    def __init__(self):
        self._server = None
        self._thread = None

    def _handle(self, handler, method, body):
        raise TypeError(f"{type(self).__name__} must answer requests in _handle")

    def start(self):
        fake = self

        def answer(method):
            def do(handler):
                length = int(handler.headers.get("Content-Length") or 0)
                fake._handle(handler, method, handler.rfile.read(length) if length else b"")
            return do

        handler_class = type("Handler", (BaseHTTPRequestHandler,), {
            "protocol_version": "HTTP/1.1",  # keep-alive, as the SDK clients expect
            "log_message": lambda handler, *args: None,  # keep test output quiet
            **{f"do_{method}": answer(method) for method in self.methods},
        })
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def address(self):
        """http://127.0.0.1:PORT"""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
