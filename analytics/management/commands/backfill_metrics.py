"""Recompute the daily metrics of a range of clinic-local dates (upserts; safe to run again)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from analytics import services
from scheduling.models import ClinicSettings

# Days computed per query batch: bounded memory on a long range.
CHUNK_DAYS = 31


def _date(value):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Recompute DailyMetric rows for every clinic-local day from --start to --end (both included)."

    def add_arguments(self, parser):
        parser.add_argument("--start", required=True, type=_date, help="First date, YYYY-MM-DD.")
        parser.add_argument("--end", required=True, type=_date, help="Last date, YYYY-MM-DD.")

    def handle(self, *args, start, end, **options):
        if end < start:
            raise CommandError("--end is before --start.")
        tz = ClinicSettings.load().tz
        rows = 0
        first = start
        while first <= end:
            last = min(end, first + timedelta(days=CHUNK_DAYS - 1))
            rows += services.rollup_days(first=first, last=last, tz=tz)
            first = last + timedelta(days=1)
        days = (end - start).days + 1
        self.stdout.write(self.style.SUCCESS(f"Rolled up {days} day(s), {rows} row(s), {start} to {end}."))
