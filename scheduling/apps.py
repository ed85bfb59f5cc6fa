from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Clinic and calendar"

    def ready(self):
        from scheduling import receivers  # noqa: F401  (connects them)
