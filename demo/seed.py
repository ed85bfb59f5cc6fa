"""The demo clinic: `seed_demo()` loads it (idempotently), `delete_demo()` removes it.

Used by `manage.py seed_demo`, which `make run` calls on every start.
"""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from communications.models import Conversation, Customer
from demo.catalogue import demo_catalogue_filter, ensure_catalogue, upcoming_closures
from demo.history import HistoryBuilder
from scheduling.models import Appointment, BusinessHours, ClinicSettings, Closure

STAFF_USERNAME = "staff"
STAFF_PASSWORD = "ava-demo-staff"


@dataclass
class SeedReport:
    clinic: str
    catalogue_created: dict
    history: dict | None  # None when the history was already there
    existing_conversations: int = 0
    staff_created: bool = False
    staff_password_is_demo: bool = True
    deleted: dict = field(default_factory=dict)


def demo_conversations():
    """Conversations written by the demo history (metadata {"demo": true})."""
    return Conversation.objects.filter(metadata__demo=True)


def delete_demo(*, today):
    """Delete the demo conversations, their customers, every appointment touching them or the demo catalogue, and the catalogue."""
    conversations = demo_conversations()
    customer_ids = list(Customer.objects.filter(conversations__in=conversations).values_list("id", flat=True).distinct())
    catalogue = demo_catalogue_filter()
    deleted = {}
    deleted["appointments"] = Appointment.objects.filter(
        Q(customer_id__in=customer_ids) | Q(conversation__in=conversations)
        | Q(service__in=catalogue["services"]) | Q(provider__in=catalogue["providers"])
    ).delete()[0]
    deleted["conversations"] = conversations.count()
    conversations.delete()
    deleted["customers"] = Customer.objects.filter(id__in=customer_ids).delete()[1].get("communications.Customer", 0)
    deleted["providers"] = catalogue["providers"].delete()[1].get("scheduling.Provider", 0)
    deleted["services"] = catalogue["services"].delete()[1].get("scheduling.Service", 0)
    deleted["faqs"] = catalogue["faqs"].delete()[0]
    BusinessHours.objects.filter(clinic_id=ClinicSettings.load().pk).delete()
    Closure.objects.filter(date__in=[day for day, _ in upcoming_closures(today)]).delete()
    return deleted


def ensure_staff_user(*, reset=False):
    """The demo login (staff / ava-demo-staff). An existing user keeps its password unless `reset`."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=STAFF_USERNAME, defaults={"email": "staff@lumieremedspa.example", "is_staff": True, "is_superuser": True}
    )
    if created or reset:
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(STAFF_PASSWORD)
        user.save()
    return user, created


def seed_demo(*, reset=False, now=None):
    """Load the demo clinic and its history; with `reset`, delete the demo data first.

    The catalogue is filled in where rows are missing; the history (about 90 days of
    conversations and appointments) is written only when no demo conversation exists.
    """
    with transaction.atomic():
        clinic = ClinicSettings.load()
        today = clinic.local_now().date() if now is None else now.astimezone(clinic.tz).date()
        deleted = delete_demo(today=today) if reset else {}
        clinic, created = ensure_catalogue(today=today, overwrite_clinic=reset)
        existing = demo_conversations().count()
        history = None if existing else HistoryBuilder(clinic=clinic, now=now).build().save()
        user, staff_created = ensure_staff_user(reset=reset)
    return SeedReport(
        clinic=clinic.name, catalogue_created=created, history=history, existing_conversations=existing,
        staff_created=staff_created, staff_password_is_demo=user.check_password(STAFF_PASSWORD), deleted=deleted,
    )
