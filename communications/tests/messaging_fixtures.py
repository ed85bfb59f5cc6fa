"""Fixtures for SMS and email tests: a clinic, Twilio and SendGrid faked at the network, signed webhooks.

Import the fixtures a test module uses (`from communications.tests.messaging_fixtures import spa, twilio`).
"""


import pytest
from twilio.request_validator import RequestValidator

from scheduling.tests.factories import glow_med_spa
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.fakes.twilio_server import FakeTwilio

PUBLIC_URL = "https://ava.example.com"
CLINIC_NUMBER = "+12125550100"
WEBHOOK_SECRET = "sendgrid:inbound-secret"


@pytest.fixture
def spa(db):
    return glow_med_spa()


@pytest.fixture
def twilio_webhooks(settings):
    """Twilio's webhooks configured (the token signs them), sending still off: replies stay in the outbox."""
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.TWILIO_WEBHOOK_BASE_URL = PUBLIC_URL
    settings.TWILIO_FROM_NUMBER = CLINIC_NUMBER
    return settings


@pytest.fixture
def twilio(settings, twilio_webhooks):
    """Twilio fully configured, its REST API a local fake: texts really go over HTTP."""
    with FakeTwilio(account_sid="AC" + "1" * 32, auth_token=settings.TWILIO_AUTH_TOKEN) as fake:
        settings.TWILIO_ACCOUNT_SID = fake.account_sid
        settings.TWILIO_API_BASE_URL = fake.base_url
        settings.SMS_DELIVERY = "twilio"
        yield fake


@pytest.fixture
def sendgrid(settings):
    """Email through django-anymail's SendGrid backend, SendGrid's API a local fake."""
    with FakeSendGrid(api_key="SG.test-key") as fake:
        settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
        settings.EMAIL_DELIVERY = "send"
        settings.DEFAULT_FROM_EMAIL = "Glow Med Spa <ava@glowmedspa.example>"
        settings.ANYMAIL = {"SENDGRID_API_KEY": fake.api_key, "SENDGRID_API_URL": fake.api_url,
                            "WEBHOOK_SECRET": WEBHOOK_SECRET}
        yield fake


@pytest.fixture
def inbound_email(settings):
    """The inbound webhook's secret set (sending untouched)."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.DEFAULT_FROM_EMAIL = "Glow Med Spa <ava@glowmedspa.example>"
    return settings


def twilio_signature(url, params, token="test-auth-token"):
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path, params, *, url=None, token="test-auth-token"):
    """POST a form as Twilio does, signed for the public URL (or `url`)."""
    signature = twilio_signature(url or PUBLIC_URL + path, params, token)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def text_params(body, *, sid="SM" + "a" * 32, sender="+12125550142", to=CLINIC_NUMBER):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "1" * 32, "From": sender, "To": to, "Body": body,
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}
