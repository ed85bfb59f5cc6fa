"""The local calendar: the appointments table is the calendar, so there is nothing to mirror."""


class LocalCalendar:
    name = "local"

    def busy_times(self, *, providers, start, end):
        # Appointments are read from the table by the availability engine itself.
        return {}

    def create_event(self, *, appointment):
        return ""

    def update_event(self, *, appointment, previous_provider=None):
        return appointment.calendar_event_id

    def delete_event(self, *, appointment):
        return None
