from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from analytics.receivers import enqueue_scoring, redact_scores
        from communications.signals import conversation_ended, conversations_redacted

        conversation_ended.connect(enqueue_scoring, dispatch_uid="analytics.enqueue_scoring")
        conversations_redacted.connect(redact_scores, dispatch_uid="analytics.redact_scores")
