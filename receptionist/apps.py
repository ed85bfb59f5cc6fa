from django.apps import AppConfig


class ReceptionistConfig(AppConfig):
    name = "receptionist"
    verbose_name = "Assistant"
