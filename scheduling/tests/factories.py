"""factory_boy factories for the catalogue and the calendar, shared by every app's tests.

ProviderFactory gives a provider a weekly schedule (Monday to Friday, 9:00 to 17:00 by
default; pass `weekly_hours=[(weekday, "09:00", "13:00"), ...]` or `weekly_hours=[]`) and
the services they perform (`services=[botox]`). `open_clinic()` sets business hours.
"""

from datetime import time, timedelta, timezone
from types import SimpleNamespace

import factory

from communications.tests.factories import CustomerFactory
from scheduling.models import (
    FAQ,
    Appointment,
    BusinessHours,
    ClinicSettings,
    Closure,
    Provider,
    ProviderSchedule,
    Service,
    TimeOff,
)

WEEKDAYS = range(5)


def _time(value):
    return value if isinstance(value, time) else time.fromisoformat(value)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Treatment {n}")
    slug = factory.Sequence(lambda n: f"treatment-{n}")
    category = Service.Category.FACIALS
    duration_minutes = 60
    buffer_minutes = 0
    price_min = 100
    price_max = 200


class ConsultationFactory(ServiceFactory):
    name = "Complimentary consultation"
    slug = "consultation"
    category = Service.Category.CONSULTATION
    duration_minutes = 30
    price_min = None
    price_max = None


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Provider {n:02d}")
    title = "Nurse Injector"
    credentials = "RN"

    @factory.post_generation
    def weekly_hours(self, create, extracted, **kwargs):
        if not create:
            return
        rows = extracted if extracted is not None else [(day, "09:00", "17:00") for day in WEEKDAYS]
        ProviderSchedule.objects.bulk_create(
            ProviderSchedule(provider=self, weekday=day, starts_at=_time(start), ends_at=_time(end))
            for day, start, end in rows
        )

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.add(*extracted)


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHours

    clinic_id = 1
    weekday = 0
    opens_at = time(9)
    closes_at = time(17)


EVERY_DAY = [(day, "09:00", "17:00") for day in range(7)]


def open_clinic(*, hours=None, time_zone="America/New_York", **clinic_fields):
    """Set the clinic's zone and rules, and its business hours (default: every day 9:00-17:00)."""
    clinic = ClinicSettings.load()
    clinic.time_zone = time_zone
    for name, value in clinic_fields.items():
        setattr(clinic, name, value)
    clinic.save()
    BusinessHours.objects.all().delete()
    rows = hours if hours is not None else EVERY_DAY
    BusinessHours.objects.bulk_create(
        BusinessHours(clinic=clinic, weekday=day, opens_at=_time(start), closes_at=_time(end)) for day, start, end in rows
    )
    return clinic


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    clinic_id = 1
    reason = "Holiday"


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    provider = factory.SubFactory(ProviderFactory)
    reason = "Vacation"


class AppointmentFactory(factory.django.DjangoModelFactory):
    """An appointment; `end` follows from the service (duration + buffer) unless given."""

    class Meta:
        model = Appointment

    customer = factory.SubFactory(CustomerFactory)
    service = factory.SubFactory(ServiceFactory)
    provider = factory.SubFactory(ProviderFactory)
    start = factory.Faker("future_datetime", tzinfo=timezone.utc)
    end = factory.LazyAttribute(lambda a: Appointment.end_for(a.service, a.start))
    status = Appointment.Status.SCHEDULED
    booked_by = Appointment.BookedBy.STAFF


def glow_med_spa():
    """The small clinic the assistant's tests talk to: Botox and a HydraFacial with Dana, every day 9-17, one FAQ."""
    clinic = open_clinic(name="Glow Med Spa", phone="+1 212 555 0100", assistant_name="Ava",
                         address="12 Spring St, New York", min_booking_notice_minutes=120, booking_horizon_days=90,
                         cancellation_notice_hours=24, cancellation_policy="Please give 24 hours' notice.")
    botox = ServiceFactory(name="Botox", slug="botox", category=Service.Category.INJECTABLES, duration_minutes=30,
                           price_min=None, price_max=None, price_text="$12 a unit")
    hydrafacial = ServiceFactory(name="HydraFacial", slug="hydrafacial", duration_minutes=60, price_min=199,
                                 price_max=199)
    dana = ProviderFactory(name="Dana Reyes", services=[botox, hydrafacial], weekly_hours=EVERY_DAY)
    FAQ.objects.create(question="Where do I park?", answer="Free parking is behind the building on Mercer Street.",
                       category=FAQ.Category.PARKING)
    tomorrow = (clinic.local_now() + timedelta(days=1)).date()
    return SimpleNamespace(clinic=clinic, botox=botox, hydrafacial=hydrafacial, dana=dana, tomorrow=tomorrow)
