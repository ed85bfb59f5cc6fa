from django.apps import AppConfig


class ReceptionistConfig(AppConfig):
    name = "receptionist"
    verbose_name = "Assistant"

    def ready(self):
        # Connect the receivers: confirmations on scheduling's appointment signals, and a reply task
        # when communications says a customer's text or email needs an answer.
        from receptionist import notifications, tasks  # noqa: F401
        from receptionist import checks  # noqa: F401  (registers the model shutdown check)
