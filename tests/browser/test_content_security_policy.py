"""The pages really work under the Content Security Policy: not one violation in a real browser.

The `page` fixture already fails a test on any console error (a CSP violation is one); this
test also listens for `securitypolicyviolation` events, checks the header is really sent, and
checks the parts a strict policy breaks first: htmx swaps, websockets and the API viewers.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from communications.models import Channel, Customer
from communications.services import add_message, start_conversation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
    return response


def violations(page):
    return page.evaluate("window.__violations")


def test_every_kind_of_page_runs_without_a_policy_violation(page, live_asgi, staff_login, django_user_model):
    customer = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    conversation = start_conversation(channel=Channel.VOICE, customer=customer,
                                      at=timezone.now() - timedelta(minutes=2))
    add_message(conversation_id=conversation.pk, author="customer", content="I would like a HydraFacial", position=0)
    page.context.add_init_script(LISTEN)
    staff_login(page, live_asgi)

    # The overview: charts, the period switch (htmx) and Live now (a websocket, connect-src 'self').
    visit(page, f"{live_asgi}/dashboard/")
    page.locator("[data-live-connected='true']").wait_for(timeout=10000)
    page.get_by_role("link", name="This week").click()
    page.wait_for_url("**period=week*")

    # The inbox, filtered in place by htmx, and an active conversation following along over its socket.
    visit(page, f"{live_asgi}/dashboard/inbox/")
    page.get_by_label("Channel").select_option("voice")
    page.wait_for_url("**channel=voice*")
    visit(page, f"{live_asgi}/dashboard/conversations/{conversation.pk}/")
    page.locator("[data-live-connected='true']").wait_for(timeout=10000)
    add_message(conversation_id=conversation.pk, author="assistant", content="Friday at three works.", position=1)
    page.get_by_text("Friday at three works.").wait_for(timeout=10000)

    # Appointments (the calendar grid places blocks with style attributes) and the messaging console (polling).
    visit(page, f"{live_asgi}/dashboard/appointments/")
    visit(page, f"{live_asgi}/dashboard/appointments/new/")
    visit(page, f"{live_asgi}/dashboard/console/")
    page.get_by_label("Phone").fill("+1 212 555 0177")
    page.get_by_label("Message").fill("Do you have parking?")
    page.get_by_role("button", name="Send as the customer").click()
    page.wait_for_url("**/dashboard/console/?conversation=*")
    page.wait_for_timeout(2500)  # one htmx poll of the thread
    visit(page, f"{live_asgi}/dashboard/customers/{customer.pk}/")

    # The public call page: its module scripts and the AudioWorklet's module load from this server.
    visit(page, f"{live_asgi}/call/")
    page.wait_for_function("() => document.readyState === 'complete'")
    assert page.evaluate("""async () => {
        const context = new AudioContext({sampleRate: 24000});
        const scripts = [...document.querySelectorAll("script[src]")].map((s) => s.src);
        await context.audioWorklet.addModule(new URL("/static/call/call-worklet.js", location.href));
        await context.close();
        return scripts.length > 0;
    }""")

    # The API viewers, served from here: Swagger UI renders the operations, Redoc its menu.
    visit(page, f"{live_asgi}/api/docs/")
    page.locator(".opblock").first.wait_for(timeout=15000)
    visit(page, f"{live_asgi}/api/redoc/")
    page.get_by_text("Ava API").first.wait_for(timeout=15000)

    assert violations(page) == []


def test_the_policy_really_blocks_what_it_should(page, live_asgi):
    """A page that tried an inline script would be refused (so the test above could fail)."""
    visit(page, f"{live_asgi}/call/")
    blocked = page.evaluate("""() => new Promise((resolve) => {
        document.addEventListener("securitypolicyviolation", (event) => resolve(event.violatedDirective), {once: true});
        const script = document.createElement("script");
        script.textContent = "window.__ran = true";
        document.body.append(script);
        setTimeout(() => resolve(window.__ran ? "ran" : "no event"), 2000);
    })""")
    assert blocked.startswith("script-src")
    page.wait_for_timeout(300)
    # The refusal above is the one console error this test causes on purpose.
    page.console_errors[:] = [error for error in page.console_errors if "inline script" not in error]


def test_the_browsable_api_runs_without_a_policy_violation(page, live_asgi, staff_login):
    """Developers open /api/… in a browser: every list and a record of each kind, signed in as staff."""
    from django.urls import URLResolver, get_resolver

    def api_lists(patterns, prefix=""):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                yield from api_lists(entry.url_patterns, route)
            elif route.startswith("api/") and "<" not in route and route not in VIEWERS:
                yield "/" + route

    customer = Customer.objects.create(name="Dana Reyes", phone="+12125550142")
    conversation = start_conversation(channel=Channel.VOICE, customer=customer, at=timezone.now() - timedelta(minutes=5))
    add_message(conversation_id=conversation.pk, author="customer", content="Hello", position=0)
    paths = sorted(api_lists(get_resolver().url_patterns))
    # The walk finds the API (a dozen lists), not just a few pages.
    assert {"/api/customers", "/api/appointments", "/api/admin/calls", "/api/admin/metrics/overview"} <= set(paths)
    paths += [f"/api/customers/{customer.pk}", f"/api/customers/{customer.pk}/history",
              f"/api/admin/communications/{conversation.pk}", f"/api/admin/calls/{conversation.pk}/transcript"]
    page.context.add_init_script(LISTEN)
    staff_login(page, live_asgi)

    refused = 0
    for path in paths:
        response = page.goto(f"{live_asgi}{path}")
        assert response.status < 500, path
        # A refusal (405 on the POST-only customers list, 400 on availability without a service) is a page too.
        refused += response.status >= 400
        page.locator(".response-info").wait_for()
        assert violations(page) == [], path
        assert page.evaluate("[...document.styleSheets].every((sheet) => sheet.href)"), path  # no inline <style>

    # The browser logs each refused document's status; anything else logged (a missing style sheet) still fails.
    status_lines = [e for e in page.console_errors if e.startswith("Failed to load resource: the server responded with a status of 4")]
    assert len(status_lines) == refused
    page.console_errors[:] = [e for e in page.console_errors if e not in status_lines]


# Swagger UI, Redoc and the schema are walked in the test above (they need their own waits).
VIEWERS = {"api/schema/", "api/docs/", "api/redoc/"}
