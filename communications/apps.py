from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    verbose_name = "Conversations"

    def ready(self):
        from communications import signals  # noqa: F401  (connects the recordings' post_delete receiver)
