"""`manage.py sync_boulevard`: bring Boulevard's services, staff and location into Ava's catalogue now."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from scheduling.exceptions import SchedulingError


class Command(BaseCommand):
    help = "Sync services (durations, prices), staff (who performs what) and the location from Boulevard."

    def handle(self, *args, **options):
        if settings.CALENDAR_BACKEND != "boulevard":
            raise CommandError("CALENDAR_BACKEND is not boulevard; set it and the BOULEVARD_* settings first.")
        from scheduling.calendars import get_calendar
        from scheduling.calendars.boulevard.sync import sync_catalogue

        try:
            counts = sync_catalogue(calendar=get_calendar())
        except SchedulingError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"Synced {counts['services']} services and {counts['providers']} providers from Boulevard "
            f"({counts['deactivated_services']} services and {counts['deactivated_providers']} providers no longer "
            "there were deactivated)."
        )
