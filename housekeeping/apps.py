from pathlib import Path

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HousekeepingConfig(AppConfig):
    name = "housekeeping"
    verbose_name = "Background jobs"

    def ready(self):
        from housekeeping import recorder  # noqa: F401  (connects Celery's task signals)

        post_migrate.connect(migrate_channel_layer_file, sender=self, dispatch_uid="housekeeping.channel_layer_file")


def migrate_channel_layer_file(sender, using, **kwargs):
    """`migrate` also brings the embedded channel layer's own SQLite file up to date (housekeeping.routers).

    So `make run`, a fresh clone or anyone's plain `manage.py migrate` leaves web, worker and beat a layer to
    talk through; without the tables each live update would be lost with a logged error.
    """
    from django.conf import settings
    from django.core.management import call_command

    from housekeeping.routers import CHANNEL_LAYER_DATABASE

    channels = settings.DATABASES.get(CHANNEL_LAYER_DATABASE)
    if using == CHANNEL_LAYER_DATABASE or channels is None:
        return
    Path(channels["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", database=CHANNEL_LAYER_DATABASE, interactive=False, verbosity=0)
