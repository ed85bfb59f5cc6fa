"""Google Calendar backend: freeBusy for outside busy times, events mirrored per appointment.

Built with google-api-python-client's static discovery document, so importing and
building the client needs no network. Every event carries the appointment's id in
extendedProperties.private, so an insert whose answer was lost is found again by
events.list(privateExtendedProperty=...) instead of being made twice.

Calendars: a provider with their own `calendar_id` gets their events there and their
busy times read from it; everyone else's events go to the clinic calendar
(GOOGLE_CALENDAR_ID). The clinic calendar is not read for busy times, because our own
events on it cannot be told apart per provider.
"""

import logging
import socket
from datetime import datetime

import google.auth.exceptions
import httplib2
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from google.oauth2 import credentials as oauth_credentials
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from scheduling.exceptions import CalendarUnavailable
from scheduling.models import ClinicSettings

logger = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/calendar"]
APPOINTMENT_PROPERTY = "ava_appointment_id"

# What a dropped connection, a timeout or a failed token refresh looks like from httplib2/google-auth.
_NETWORK_ERRORS = (httplib2.HttpLib2Error, OSError, socket.timeout, google.auth.exceptions.TransportError)
# Everything a Google call can fail with; a refused token refresh is not worth retrying.
_GOOGLE_ERRORS = (HttpError, google.auth.exceptions.RefreshError, *_NETWORK_ERRORS)


def load_credentials():
    """Service-account credentials, or else an OAuth token file (authorized-user JSON), from settings."""
    try:
        if settings.GOOGLE_SERVICE_ACCOUNT_FILE:
            return service_account.Credentials.from_service_account_file(
                settings.GOOGLE_SERVICE_ACCOUNT_FILE, scopes=SCOPES
            )
        if settings.GOOGLE_OAUTH_TOKEN_FILE:
            return oauth_credentials.Credentials.from_authorized_user_file(settings.GOOGLE_OAUTH_TOKEN_FILE, scopes=SCOPES)
    except (OSError, ValueError) as error:
        raise ImproperlyConfigured(f"The Google credentials file could not be read: {error}") from error
    raise ImproperlyConfigured(
        "CALENDAR_BACKEND=google needs GOOGLE_SERVICE_ACCOUNT_FILE or GOOGLE_OAUTH_TOKEN_FILE."
    )


def _retryable(error):
    if isinstance(error, HttpError):
        return error.resp.status >= 500 or error.resp.status in (408, 429)
    return isinstance(error, _NETWORK_ERRORS)


def _status(error):
    return error.resp.status if isinstance(error, HttpError) else None


class GoogleCalendar:
    name = "google"

    def __init__(self, *, calendar_id, credentials=None, http=None, api_url="", timeout=10.0):
        if http is None:
            http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        self.calendar_id = calendar_id
        self.service = build(
            "calendar", "v3", http=http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": api_url} if api_url else None,
        )

    @classmethod
    def from_settings(cls):
        return cls(
            calendar_id=settings.GOOGLE_CALENDAR_ID,
            credentials=load_credentials(),
            api_url=settings.GOOGLE_CALENDAR_API_URL,
            timeout=settings.GOOGLE_CALENDAR_TIMEOUT_SECONDS,
        )

    # --- reads -----------------------------------------------------------------
    def busy_times(self, *, providers, start, end):
        """Busy intervals from each provider's own calendar, keyed by provider id."""
        by_calendar = {}
        for provider in providers:
            if provider.calendar_id:
                by_calendar.setdefault(provider.calendar_id, []).append(provider.pk)
        if not by_calendar:
            return {}
        body = {
            "timeMin": start.isoformat(),
            "timeMax": end.isoformat(),
            "items": [{"id": calendar_id} for calendar_id in by_calendar],
        }
        answer = self._execute(lambda: self.service.freebusy().query(body=body), doing="reading busy times")
        busy = {}
        for calendar_id, provider_ids in by_calendar.items():
            entry = answer.get("calendars", {}).get(calendar_id, {})
            if entry.get("errors"):
                # A calendar we may not read would silently offer times the provider is busy.
                logger.warning("freeBusy refused calendar %s: %s", calendar_id, entry["errors"])
                raise CalendarUnavailable(code="calendar_unavailable")
            intervals = [
                (datetime.fromisoformat(item["start"]), datetime.fromisoformat(item["end"]))
                for item in entry.get("busy", [])
            ]
            for provider_id in provider_ids:
                busy.setdefault(provider_id, []).extend(intervals)
        return busy

    def find_event(self, *, calendar_id, appointment_id):
        """Our event for this appointment (found by its private property), or None."""
        answer = self._execute(
            lambda: self.service.events().list(
                calendarId=calendar_id,
                privateExtendedProperty=f"{APPOINTMENT_PROPERTY}={appointment_id}",
                showDeleted=False, singleEvents=True, maxResults=5,
            ),
            doing="looking up an event",
        )
        items = answer.get("items", [])
        return items[0] if items else None

    # --- writes ----------------------------------------------------------------
    def create_event(self, *, appointment):
        """Insert the appointment's event and return its id; never makes a second one.

        When the insert fails in a way that may have landed (a 5xx, a timeout), look the
        event up by the appointment id before inserting again. When it cannot be made,
        remove whatever may have landed and raise CalendarUnavailable.
        """
        calendar_id = self._calendar_for(appointment.provider)
        body = self._event_body(appointment)
        insert = lambda: self.service.events().insert(calendarId=calendar_id, body=body)  # noqa: E731
        try:
            return insert().execute()["id"]
        except _GOOGLE_ERRORS as error:
            if not _retryable(error):
                logger.warning("Google refused the event for appointment %s: %s", appointment.pk, error)
                raise CalendarUnavailable() from error
            logger.info("Event insert for appointment %s failed (%s); looking for it before retrying", appointment.pk, error)
        try:
            found = self.find_event(calendar_id=calendar_id, appointment_id=appointment.pk)
            if found:
                return found["id"]
            return self._execute(insert, doing="creating an event", retry=False)["id"]
        except CalendarUnavailable:
            self._remove_strays(calendar_id=calendar_id, appointment_id=appointment.pk)
            raise

    def update_event(self, *, appointment, previous_provider=None):
        """Move the event to the appointment's current time (and calendar); returns the event id."""
        calendar_id = self._calendar_for(appointment.provider)
        previous_calendar = self._calendar_for(previous_provider or appointment.provider)
        if not appointment.calendar_event_id:
            return self.create_event(appointment=appointment)
        if previous_calendar != calendar_id:
            # The provider changed calendars: make the new event before removing the old one,
            # so a failure in between leaves the old one, which the caller's rollback still matches.
            new_id = self.create_event(appointment=appointment)
            try:
                self._delete(calendar_id=previous_calendar, event_id=appointment.calendar_event_id)
            except CalendarUnavailable:
                self._remove_strays(calendar_id=calendar_id, appointment_id=appointment.pk)
                raise
            return new_id
        body = self._event_body(appointment)
        try:
            self._execute(
                lambda: self.service.events().patch(
                    calendarId=calendar_id, eventId=appointment.calendar_event_id, body=body
                ),
                doing="moving an event", missing_ok=True, raise_missing=True,
            )
        except _EventMissing:
            # Someone deleted it in Google: make it again rather than lose the appointment there.
            return self.create_event(appointment=appointment)
        return appointment.calendar_event_id

    def delete_event(self, *, appointment):
        calendar_id = self._calendar_for(appointment.provider)
        event_id = appointment.calendar_event_id
        if not event_id:
            found = self.find_event(calendar_id=calendar_id, appointment_id=appointment.pk)
            if found is None:
                return
            event_id = found["id"]
        self._delete(calendar_id=calendar_id, event_id=event_id)

    # --- helpers ---------------------------------------------------------------
    def _calendar_for(self, provider):
        return (provider.calendar_id if provider is not None else "") or self.calendar_id

    def _event_body(self, appointment):
        customer, service, provider = appointment.customer, appointment.service, appointment.provider
        clinic = ClinicSettings.load()
        tz = clinic.tz
        who = customer.name or customer.phone or customer.email or f"customer {customer.pk}"
        lines = [
            f"{service.name} with {provider.name}",
            f"Customer: {who}" + (f", {customer.phone}" if customer.phone and customer.phone != who else ""),
            f"Booked by: {appointment.get_booked_by_display()}",
        ]
        if service.buffer_minutes:
            lines.append(f"Includes {service.buffer_minutes} minutes of preparation after the treatment.")
        if appointment.notes:
            lines.append(appointment.notes)
        return {
            "summary": f"{service.name}: {who}",
            "description": "\n".join(lines),
            "start": {"dateTime": appointment.start.astimezone(tz).isoformat(), "timeZone": clinic.time_zone},
            # The provider is taken until the end of the buffer, so the calendar shows that.
            "end": {"dateTime": appointment.end.astimezone(tz).isoformat(), "timeZone": clinic.time_zone},
            "extendedProperties": {"private": {APPOINTMENT_PROPERTY: str(appointment.pk)}},
        }

    def _delete(self, *, calendar_id, event_id):
        self._execute(
            lambda: self.service.events().delete(calendarId=calendar_id, eventId=event_id),
            doing="deleting an event", missing_ok=True,
        )

    def _remove_strays(self, *, calendar_id, appointment_id):
        """Best effort: delete an event that may have landed for a booking that is being rolled back."""
        try:
            found = self.find_event(calendar_id=calendar_id, appointment_id=appointment_id)
            if found:
                self._delete(calendar_id=calendar_id, event_id=found["id"])
        except CalendarUnavailable:
            logger.error(
                "Could not check for a stray Google event of rolled-back appointment %s on %s; "
                "search for extended property %s=%s", appointment_id, calendar_id, APPOINTMENT_PROPERTY, appointment_id,
            )

    def _execute(self, make_request, *, doing, retry=True, missing_ok=False, raise_missing=False):
        """Run one API call; retry once at once when it may succeed next time; else CalendarUnavailable.

        googleapiclient's own num_retries sleeps for seconds between tries; a caller on the
        phone cannot wait that long, so one immediate retry it is.
        """
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                return make_request().execute()
            except _GOOGLE_ERRORS as error:
                if missing_ok and _status(error) in (404, 410):
                    if raise_missing:
                        raise _EventMissing() from error
                    return {}
                if not _retryable(error) or attempt == attempts - 1:
                    logger.warning("Google Calendar failed while %s: %s", doing, error)
                    raise CalendarUnavailable() from error
        raise AssertionError("unreachable")


class _EventMissing(Exception):
    pass
