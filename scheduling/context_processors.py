from scheduling.models import ClinicSettings


def clinic(request):
    """The clinic's name and zone on every page (the row the middleware read for this request)."""
    clinic = ClinicSettings.load()
    return {"clinic_name": clinic.name, "clinic_tz": clinic.time_zone}
