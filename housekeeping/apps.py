from django.apps import AppConfig


class HousekeepingConfig(AppConfig):
    name = "housekeeping"
    verbose_name = "Background jobs"

    def ready(self):
        from housekeeping import recorder  # noqa: F401  (connects Celery's task signals)
