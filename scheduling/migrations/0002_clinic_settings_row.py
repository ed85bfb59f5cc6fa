from django.conf import settings
from django.db import migrations


def create_clinic(apps, schema_editor):
    # The one ClinicSettings row exists from the start, so hours and closures can point at it.
    ClinicSettings = apps.get_model("scheduling", "ClinicSettings")
    ClinicSettings.objects.get_or_create(pk=1, defaults={"time_zone": settings.CLINIC_DEFAULT_TIME_ZONE})


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(create_clinic, migrations.RunPython.noop)]
