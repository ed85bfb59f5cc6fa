from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from scheduling.models import ClinicSettings


class ClinicTimeZoneMiddleware:
    """Pages show and read times in the clinic's own zone, whatever the server's; the clinic is read once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            clinic = ClinicSettings.load()
        except DatabaseError:
            # The database is down: let the view answer (/health says 503), in the default zone.
            clinic = None
        timezone.activate(clinic.tz if clinic else ZoneInfo(settings.CLINIC_DEFAULT_TIME_ZONE))
        try:
            # Every ClinicSettings.load() while this request is answered returns this row, not another query.
            with ClinicSettings.kept_for_request(clinic):
                return self.get_response(request)
        finally:
            timezone.deactivate()
