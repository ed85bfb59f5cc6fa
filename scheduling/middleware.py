from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from scheduling.models import ClinicSettings


class ClinicTimeZoneMiddleware:
    """Pages show and read times in the clinic's own zone, whatever the server's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            clinic = request._clinic_settings = ClinicSettings.load()
            tz = clinic.tz
        except DatabaseError:
            # The database is down: let the view answer (/health says 503), in the default zone.
            tz = ZoneInfo(settings.CLINIC_DEFAULT_TIME_ZONE)
        timezone.activate(tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
