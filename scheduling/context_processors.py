from scheduling.models import ClinicSettings


def clinic(request):
    """The clinic's name and zone on every page (one cached query per request)."""
    settings_row = getattr(request, "_clinic_settings", None)
    if settings_row is None:
        settings_row = request._clinic_settings = ClinicSettings.load()
    return {"clinic_name": settings_row.name, "clinic_tz": settings_row.time_zone}
