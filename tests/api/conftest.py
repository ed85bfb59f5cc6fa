"""Fixtures for the API as a whole: a staff token, Django as a WSGI app inside the test's transaction."""

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token


class DjangoInTheTestsTransaction:
    """Ava as a WSGI application, run the way Django's test client runs it.

    Django closes database connections at the end of each request; a test holds its
    data in an open transaction, so, like the test client, this keeps the connection.
    """

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            body = b"".join(response)
            response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]


@pytest.fixture
def staff_token(staff_user):
    return Token.objects.create(user=staff_user).key


@pytest.fixture
def unthrottled(settings):
    """No rate limits: these tests make hundreds of requests, and throttling is tested on its own."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None}}


@pytest.fixture
def clean_throttles(staff_user):
    """Forget the staff user's past requests (a Redis cache outlives the test run)."""
    key = f"throttle_user_{staff_user.pk}"
    cache.delete(key)
    yield
    cache.delete(key)
