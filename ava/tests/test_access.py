"""Every page and API needs a signed-in staff member, except a short public list; admin and the audit log are owners'.

The walk reads the URL resolver itself, so a page added later without a login check fails here.
"""

import itertools
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

from ava.asgi import application
from conventions.access import OWNERS_GROUP
from ava.routing import websocket_urlpatterns

# Public on purpose. Each is (URL name, why).
PUBLIC = {
    "health": "load balancers ask it",
    "favicon": "browsers ask for the icon (a redirect to the static file)",
    "call:page": "callers use it without an account",
    "call:token": "the call page renews its signed call token (bound to the caller's address, no data)",
    "login": "signing in",
    "logout": "signing out",
    "admin:login": "signing in to admin",
    "admin:logout": "signing out of admin",
}
# Public, but they answer only requests their provider signed: unsigned ones are refused below.
SIGNED = {"webhooks:twilio-sms", "webhooks:twilio-status", "webhooks:sendgrid-inbound"}

_SAMPLES = ["1", str(uuid.uuid4()), "communications", "communications/customer", "x"]


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        regex = prefix + entry.pattern.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, regex, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else None, regex, entry


def _sample_path(regex, pattern):
    """A path that the resolver sends to `pattern`, with made-up ids."""
    for form, params in normalize(regex):
        for values in itertools.product(_SAMPLES, repeat=len(params)):
            path = "/" + form % dict(zip(params, values))
            try:
                if resolve(path).func is pattern.callback:
                    return path
            except Resolver404:
                continue
    raise AssertionError(f"No sample path for {regex!r}")


def _every_url():
    return [(name, _sample_path(regex, pattern)) for name, regex, pattern in _walk(get_resolver().url_patterns)]


def _refused(response):
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "") if response.status_code == 302 else ""
    return location.startswith("/accounts/login/") or location.startswith("/admin/login/")


def test_the_walk_finds_every_kind_of_page():
    names = {name for name, _ in _every_url()}
    # The dashboard, the API, the schema viewers, admin and the webhooks are all in the walk.
    assert {"dashboard:home", "dashboard:conversation", "communications_api:customer", "scheduling_api:appointments",
            "analytics_api:overview", "api-docs", "api-schema", "admin:index",
            "admin:conventions_auditentry_changelist", "webhooks:twilio-sms"} <= names
    assert set(PUBLIC) <= names


@pytest.mark.django_db
def test_every_page_and_api_refuses_an_anonymous_request_except_the_public_ones(client):
    leaks = []
    for name, path in _every_url():
        if name in PUBLIC:
            continue
        get, post = client.get(path), client.post(path)
        # A method a page does not take (405) shows nothing; the other must be refused.
        answers = [r for r in (get, post) if r.status_code != 405]
        if not answers or not all(_refused(r) for r in answers):
            leaks.append((name, path, get.status_code, post.status_code))
    assert leaks == []


@pytest.mark.django_db
def test_the_public_pages_answer_an_anonymous_request(client):
    assert client.get("/health").status_code == 200
    assert client.get("/call/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/static/call/call.js").status_code == 200


@pytest.mark.django_db
def test_the_webhooks_refuse_an_unsigned_request(client):
    for path in ("/webhooks/twilio/sms", "/webhooks/twilio/status", "/webhooks/sendgrid/inbound/"):
        assert client.post(path, {"From": "+12125550142", "Body": "hi"}).status_code in (401, 403), path


@pytest.mark.django_db
def test_there_is_no_public_password_reset(client):
    assert client.get("/accounts/password_reset/").status_code == 404


@pytest.mark.django_db
def test_a_signed_in_account_that_is_not_staff_is_refused_too(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("patient", password="a-long-test-password"))
    assert client.get("/dashboard/inbox/")["Location"].startswith("/accounts/login/")
    assert client.get("/api/admin/communications").status_code == 403
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


@pytest.mark.django_db
def test_staff_who_are_not_owners_are_refused_admin_and_the_audit_log(staff_client):
    assert staff_client.get("/dashboard/inbox/").status_code == 200
    for path in ("/admin/", "/admin/conventions/auditentry/", "/admin/scheduling/clinicsettings/"):
        response = staff_client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), path
    # The dashboard does not offer them the way in.
    assert 'href="/admin/"' not in staff_client.get("/dashboard/").content.decode()


@pytest.mark.django_db
def test_superusers_and_the_owners_group_are_owners(client, owner_user, django_user_model):
    client.force_login(owner_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/conventions/auditentry/").status_code == 200
    assert 'href="/admin/"' in client.get("/dashboard/").content.decode()

    manager = django_user_model.objects.create_user("manager", password="a-long-test-password", is_staff=True)
    manager.groups.add(Group.objects.get_or_create(name=OWNERS_GROUP)[0])  # a migration makes it
    client.force_login(manager)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/conventions/auditentry/").status_code == 200
    assert client.get("/admin/scheduling/service/").status_code == 200


@pytest.mark.django_db
def test_the_demo_login_is_an_owner(client):
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    assert client.post("/accounts/login/", {"username": "staff", "password": "ava-demo-staff"}).status_code == 302
    assert client.get("/admin/conventions/auditentry/").status_code == 200


def _websocket_paths():
    for route in websocket_urlpatterns:
        regex = route.pattern.regex.pattern.lstrip("^").rstrip("$").replace(r"\Z", "")
        form, params = normalize(regex)[0]
        yield "/" + form % {name: str(uuid.uuid4()) for name in params}


@pytest.mark.django_db(transaction=True)
async def test_every_websocket_but_the_call_page_s_refuses_an_anonymous_socket():
    # The call page's socket is public (it has its own limits, receptionist/limits.py).
    paths = [path for path in _websocket_paths() if not path.startswith("/ws/voice/")]
    assert "/ws/dashboard/" in paths and len(paths) >= 2
    for path in paths:
        socket = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://127.0.0.1"),
                                                                   (b"host", b"127.0.0.1")])
        connected, code = await socket.connect()
        # 4403 is the consumers' own "not staff" refusal (the origin is allowed).
        assert (connected, code) == (False, 4403), path
        await socket.disconnect()
