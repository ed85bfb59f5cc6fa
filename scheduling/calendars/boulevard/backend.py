"""The Boulevard calendar backend: its configuration, and one instance per thread."""

import threading

from django.conf import settings

from scheduling.calendars.boulevard.availability import BoulevardAvailability, BoulevardEngine
from scheduling.calendars.boulevard.booking import BoulevardBooking
from scheduling.calendars.boulevard.client import BoulevardClient
from scheduling.calendars.boulevard.errors import BoulevardErrors


class BoulevardCalendar(BoulevardAvailability, BoulevardBooking, BoulevardErrors):
    name = "boulevard"

    def __init__(self, *, client, location_id, cache_seconds=60, booking_url=""):
        self.client = client
        self.location_id = location_id
        self.cache_seconds = cache_seconds
        self.booking_url = booking_url

    @classmethod
    def from_settings(cls):
        client = BoulevardClient(
            api_url=settings.BOULEVARD_API_URL, business_id=settings.BOULEVARD_BUSINESS_ID,
            api_key=settings.BOULEVARD_API_KEY, timeout=settings.BOULEVARD_TIMEOUT_SECONDS,
        )
        return cls(client=client, location_id=settings.BOULEVARD_LOCATION_ID,
                   cache_seconds=settings.BOULEVARD_AVAILABILITY_CACHE_SECONDS,
                   booking_url=settings.BOULEVARD_BOOKING_URL)

    # --- availability ------------------------------------------------------------------------
    def engine(self, *, clinic, service, providers, now, ignore_appointment=None):
        return BoulevardEngine(self, clinic=clinic, service=service, providers=providers, now=now,
                               ignore_appointment=ignore_appointment)

    def busy_times(self, *, providers, start, end):
        return {}  # availability comes whole from Boulevard (engine), never as busy times

    def _execute(self, operation, variables):
        return self.client.execute(operation, variables)


_local = threading.local()


def get_boulevard_calendar():
    key = (settings.BOULEVARD_API_URL, settings.BOULEVARD_BUSINESS_ID, settings.BOULEVARD_API_KEY,
           settings.BOULEVARD_LOCATION_ID, settings.BOULEVARD_TIMEOUT_SECONDS,
           settings.BOULEVARD_AVAILABILITY_CACHE_SECONDS, settings.BOULEVARD_BOOKING_URL)
    cached = getattr(_local, "calendar", None)
    if cached is None or cached[0] != key:
        cached = (key, BoulevardCalendar.from_settings())
        _local.calendar = cached
    return cached[1]
