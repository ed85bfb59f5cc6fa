"""manage.py seed_demo: load the demo clinic (idempotent); --reset to start over."""

from django.core.management.base import BaseCommand

from demo.seed import STAFF_PASSWORD, STAFF_USERNAME, seed_demo


class Command(BaseCommand):
    help = (
        "Load the demo med spa: clinic settings, hours, services, providers, FAQ entries, about 90 days of "
        "conversations and appointments, and a staff login. Safe to run again; --reset starts over."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true",
            help="Delete the demo data (conversations, their customers, appointments, catalogue) and seed again.",
        )

    def handle(self, *args, reset=False, **options):
        report = seed_demo(reset=reset)
        out = self.stdout
        if report.deleted:
            d = report.deleted
            out.write(
                f"Deleted the demo data: {d['conversations']} conversations, {d['customers']} customers, "
                f"{d['appointments']} appointments, {d['services']} services, {d['providers']} providers."
            )
        made = report.catalogue_created
        if any(made.values()):
            out.write(
                f"{report.clinic}: added {made['services']} services, {made['providers']} providers, "
                f"{made['faqs']} FAQ entries, {made['hours']} opening-hours rows, {made['closures']} closures."
            )
        else:
            out.write(f"{report.clinic}: catalogue already in place.")
        if report.history:
            h = report.history
            channels = ", ".join(f"{h['by_channel'].get(c, 0)} {c}" for c in ("voice", "sms", "email"))
            out.write(
                f"History: {h['conversations']} conversations ({channels}; {h['escalated']} escalated), "
                f"{h['messages']} messages, {h['customers']} customers, {h['appointments']} appointments "
                f"({h['upcoming']} upcoming)."
            )
        else:
            out.write(f"History already present ({report.existing_conversations} demo conversations); nothing added. Use --reset to start over.")
        if report.staff_password_is_demo:
            out.write(self.style.SUCCESS(f"Demo staff login: {STAFF_USERNAME} / {STAFF_PASSWORD}"))
        else:
            out.write(self.style.WARNING(
                f"Demo staff login: {STAFF_USERNAME} (its password was changed; `seed_demo --reset` restores {STAFF_PASSWORD})"
            ))
