"""Calendar backends: where appointments are mirrored and where outside busy times come from.

`local` (the default): the appointments table is the calendar; nothing is mirrored.
`google`: Google Calendar through google-api-python-client (scheduling.calendars.google).
`boulevard`: Boulevard's Client API (scheduling.calendars.boulevard); it also answers availability
itself, through an `engine(...)` the availability module uses in place of its own.

Every backend offers the same four calls, all keyword-only:
    busy_times(*, providers, start, end) -> {provider_id: [(start, end), ...]}  aware datetimes
    create_event(*, appointment) -> event id ("" when the backend keeps no events)
    update_event(*, appointment, previous_provider=None) -> event id
    delete_event(*, appointment) -> None
and raises scheduling.exceptions.CalendarUnavailable when it cannot answer.
"""

import threading

from django.conf import settings

from scheduling.calendars.local import LocalCalendar

_clients = threading.local()


def get_calendar():
    """The backend chosen by settings.CALENDAR_BACKEND.

    Google clients are kept per thread (httplib2 is not thread-safe) and rebuilt when the
    settings they were built from change.
    """
    if settings.CALENDAR_BACKEND == "boulevard":
        from scheduling.calendars.boulevard import get_boulevard_calendar

        return get_boulevard_calendar()
    if settings.CALENDAR_BACKEND != "google":
        return LocalCalendar()
    from scheduling.calendars.google import GoogleCalendar

    key = (
        settings.GOOGLE_CALENDAR_ID, settings.GOOGLE_SERVICE_ACCOUNT_FILE, settings.GOOGLE_OAUTH_TOKEN_FILE,
        settings.GOOGLE_CALENDAR_API_URL, settings.GOOGLE_CALENDAR_TIMEOUT_SECONDS,
    )
    cached = getattr(_clients, "google", None)
    if cached is None or cached[0] != key:
        cached = (key, GoogleCalendar.from_settings())
        _clients.google = cached
    return cached[1]
