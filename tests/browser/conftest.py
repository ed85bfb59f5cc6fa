"""A real browser against a real ASGI server, in the test's own process.

The server (uvicorn, running Ava's Channels application in a thread) shares the
test database and the in-memory channel layer with the test, so a test can
create rows, drive a page and then read what the page caused. Tests that use
it need committed data: mark them `django_db(transaction=True)`.
"""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    def __init__(self):
        import uvicorn

        from ava.asgi import application

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("The test server did not start.")
            time.sleep(0.05)

    def stop(self):
        from asgiref.sync import SyncToAsync
        from django.db import connections

        self.server.should_exit = True
        self.thread.join(timeout=10)
        # The server's ORM work ran in asgiref's one thread-sensitive worker; close its
        # connections there, or PostgreSQL cannot drop the test database at the end.
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)
        for connection in connections.all():
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()


@pytest.fixture(scope="session")
def live_asgi(django_db_setup, django_db_blocker):
    """The base URL of Ava served over HTTP and websockets for this test session."""
    with django_db_blocker.unblock():
        server = _Server()
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@pytest.fixture
def _playwright():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip("Browser tests need Debian's Chromium: apt-get install chromium (or set CHROMIUM_PATH).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes
    # Django refuse the test's own (synchronous, safe) ORM calls. Allow them here only.
    # Started per test, so no loop is left running for the async tests that follow.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def launch_browser(_playwright):
    """launch_browser(microphone_wav=None) -> a Chromium browser; the WAV, if given, is its microphone."""
    browsers = []

    def launch(microphone_wav=None):
        args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        if microphone_wav:
            args.append(f"--use-file-for-fake-audio-capture={microphone_wav}")
        browser = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture
def page(launch_browser, request):
    """A fresh page that fails the test on any console error, and leaves a screenshot behind."""
    browser = launch_browser()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    except Exception:
        pass  # the page may already be gone; the screenshot is a convenience
    context.close()
    assert errors == [], f"console errors: {errors}"


@pytest.fixture
def staff_login(django_user_model):
    """log_in(page, base_url): signs the page in as a staff member through the login form."""
    django_user_model.objects.create_user("frontdesk", password="a-long-test-password", is_staff=True)

    def log_in(page, base_url):
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Username").fill("frontdesk")
        page.get_by_label("Password").fill("a-long-test-password")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base_url}/dashboard/**")

    return log_in
