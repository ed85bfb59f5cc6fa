"""Guessing passwords locks that username from that address for a while (django-axes); nobody else is locked."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

pytestmark = pytest.mark.django_db

HERE, THERE = "203.0.113.7", "198.51.100.20"
PASSWORD = "a-long-test-password"


@pytest.fixture
def frontdesk(django_user_model):
    return django_user_model.objects.create_user("frontdesk", password=PASSWORD, is_staff=True)


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user("colleague", password=PASSWORD, is_staff=True)


def sign_in(client, username, password, address, path="/accounts/login/", **headers):
    client.logout()
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail_until_locked(client, settings, address=HERE):
    responses = [sign_in(client, "frontdesk", "wrong guess", address) for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert [r.status_code for r in responses[:-1]] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    return responses[-1]


def test_the_limit_and_cool_off_are_settings_with_safe_defaults(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["ip_address", "username"]]


def test_the_last_allowed_failure_locks_and_says_so(client, settings, frontdesk):
    locked = fail_until_locked(client, settings)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Signing in is paused" in page and "15 minutes" in page

    # Even the right password is refused now, on the dashboard's sign-in and on admin's.
    assert sign_in(client, "frontdesk", PASSWORD, HERE).status_code == 429
    assert sign_in(client, "frontdesk", PASSWORD, HERE, path="/admin/login/").status_code == 429
    assert client.get("/dashboard/").status_code == 302


def test_another_username_from_that_address_is_not_locked(client, settings, frontdesk, colleague):
    fail_until_locked(client, settings)
    response = sign_in(client, "colleague", PASSWORD, HERE)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_the_same_username_from_another_address_is_not_locked(client, settings, frontdesk):
    fail_until_locked(client, settings)
    response = sign_in(client, "frontdesk", PASSWORD, THERE)
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, settings, frontdesk):
    fail_until_locked(client, settings)
    assert settings.TRUST_X_FORWARDED_FOR is False
    response = sign_in(client, "frontdesk", PASSWORD, HERE, HTTP_X_FORWARDED_FOR=THERE)
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_one_locked(client, settings, frontdesk):
    settings.TRUST_X_FORWARDED_FOR = True
    proxy = "10.0.0.2"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        # The client may put anything first; the proxy appends the address it saw last.
        sign_in(client, "frontdesk", "wrong guess", proxy, HTTP_X_FORWARDED_FOR=f"{THERE}, {HERE}")
    assert sign_in(client, "frontdesk", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=HERE).status_code == 429
    assert sign_in(client, "frontdesk", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=THERE).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, settings, frontdesk):
    fail_until_locked(client, settings)
    assert sign_in(client, "frontdesk", PASSWORD, HERE).status_code == 429
    # Fifteen minutes later (the failures are that old now)...
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    response = sign_in(client, "frontdesk", PASSWORD, HERE)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"


def test_a_success_before_the_limit_starts_the_count_again(client, settings, frontdesk):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "frontdesk", "wrong guess", HERE)
    assert sign_in(client, "frontdesk", PASSWORD, HERE).status_code == 302
    assert sign_in(client, "frontdesk", "wrong guess", HERE).status_code == 200
    assert sign_in(client, "frontdesk", PASSWORD, HERE).status_code == 302
