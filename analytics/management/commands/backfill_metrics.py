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
    help = (
        "Recompute DailyMetric rows for every clinic-local day from --start to --end (both included), "
        "or for the last --days days up to today."
    )

    def add_arguments(self, parser):
        parser.add_argument("--start", type=_date, help="First date, YYYY-MM-DD.")
        parser.add_argument("--end", type=_date, help="Last date, YYYY-MM-DD.")
        parser.add_argument("--days", type=int, help="The last N clinic-local days, today included.")

    def handle(self, *args, start, end, days, **options):
        clinic = ClinicSettings.load()
        tz = clinic.tz
        if days is not None:
            if start or end or days < 1:
                raise CommandError("Give either --days N (N >= 1) or --start and --end.")
            end = clinic.local_now().date()
            start = end - timedelta(days=days - 1)
        if start is None or end is None:
            raise CommandError("Give --start and --end, or --days.")
        if end < start:
            raise CommandError("--end is before --start.")
        rows = 0
        first = start
        while first <= end:
            last = min(end, first + timedelta(days=CHUNK_DAYS - 1))
            rows += services.rollup_days(first=first, last=last, tz=tz)
            first = last + timedelta(days=1)
        days = (end - start).days + 1
        self.stdout.write(self.style.SUCCESS(f"Rolled up {days} day(s), {rows} row(s), {start} to {end}."))
