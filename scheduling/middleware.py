from django.utils import timezone

from scheduling.models import ClinicSettings


class ClinicTimeZoneMiddleware:
    """Pages show and read times in the clinic's own zone, whatever the server's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        clinic = request._clinic_settings = ClinicSettings.load()
        timezone.activate(clinic.tz)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
