"""Every page carries the Content Security Policy (tests/browser/test_content_security_policy.py checks the pages
really work under it); only the Redoc page relaxes it, and only for itself."""

import pytest

pytestmark = pytest.mark.django_db


def directives(response):
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_pages_carry_a_strict_policy(staff_client):
    for url in ("/dashboard/", "/dashboard/inbox/", "/call/", "/accounts/login/", "/api/docs/", "/admin/login/"):
        policy = directives(staff_client.get(url))
        assert policy["default-src"] == ["'self'"], url
        assert policy["script-src"] == ["'self'"], url  # no inline script, no eval
        assert policy["style-src"] == ["'self'"], url  # no <style> elements of ours
        assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"], url
        assert policy["connect-src"] == ["'self'"] and policy["img-src"] == ["'self'", "data:"], url
        assert policy["object-src"] == ["'none'"] and policy["media-src"] == ["'self'", "blob:"], url


def test_only_the_redoc_page_allows_its_own_inline_styles_and_search_worker(staff_client):
    redoc = directives(staff_client.get("/api/redoc/"))
    assert redoc["style-src"] == ["'self'", "'unsafe-inline'"] and redoc["worker-src"] == ["'self'", "blob:"]
    assert redoc["script-src"] == ["'self'"]
    assert directives(staff_client.get("/dashboard/"))["worker-src"] == ["'self'"]


def test_the_pages_have_no_inline_scripts(staff_client):
    for url in ("/dashboard/", "/call/", "/accounts/login/", "/api/docs/", "/api/redoc/"):
        page = staff_client.get(url).content.decode()
        scripts = page.split("<script")[1:]
        # Each <script> loads a file, or is a JSON data block (not run, so not governed by script-src).
        inline = [s[:80] for s in scripts if " src=" not in s.split(">", 1)[0] and "application/json" not in s.split(">", 1)[0]]
        assert inline == [], url


def test_behind_https_the_policy_upgrades_insecure_requests():
    from ava.tests.test_security import run_manage

    result = run_manage("shell", "-c", "from django.conf import settings; "
                        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES'].get('upgrade-insecure-requests'))",
                        SECRET_KEY="x" * 60, HTTPS="1", ALLOWED_HOSTS="ava.example.com")
    assert result.stdout.strip().endswith("True"), result.stderr
