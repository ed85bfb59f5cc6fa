"""DRF's rate throttles, reading their rates from the settings at each request.

DRF's own classes copy the rates once, at import, so a changed setting (or a test's
override_settings) would not reach them. The behaviour is otherwise DRF's.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonRateThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    """Anonymous callers, counted by address."""


class UserRateThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    """Signed-in accounts and tokens, counted by account (anonymous ones by address)."""
