from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from analytics.receivers import enqueue_scoring
        from communications.signals import conversation_ended

        conversation_ended.connect(enqueue_scoring, dispatch_uid="analytics.enqueue_scoring")
