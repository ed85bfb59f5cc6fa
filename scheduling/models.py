"""The clinic's catalogue and calendar: what is offered, by whom, when, and what is booked."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def validate_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"“{value}” is not a time zone. Use a name such as America/New_York.") from None


# The clinic's row as read for the request being answered (scheduling.middleware): one query per
# page however many helpers ask for it. Outside a request (tasks, sockets) each load() reads it.
_request_clinic = ContextVar("request_clinic", default=None)


class ClinicSettings(models.Model):
    """The clinic itself. One row (pk=1), read with ClinicSettings.load()."""

    name = models.CharField(max_length=200, default="Our Med Spa")
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    website = models.URLField(blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
    assistant_name = models.CharField(max_length=50, default="Ava")
    greeting = models.TextField(
        blank=True,
        help_text="What the assistant says first. Empty: “Thank you for calling {clinic}. I'm {assistant}, how can I help you today?”",
    )
    persona = models.TextField(
        blank=True, help_text="Extra guidance on tone and manner, added to the assistant's instructions."
    )
    cancellation_policy = models.TextField(blank=True)
    cancellation_notice_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling with less notice than this is allowed but flagged as late."
    )
    min_booking_notice_minutes = models.PositiveIntegerField(
        default=120, help_text="The soonest a new appointment may start, counted from now."
    )
    booking_horizon_days = models.PositiveIntegerField(
        default=90, validators=[MinValueValidator(1)], help_text="How far ahead callers may book."
    )

    class Meta:
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="clinic_settings_single_row")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        kept = _request_clinic.get()
        if kept is not None and kept is not self:
            # Saved from another copy (the admin's form) during a request: what load() returns follows.
            for field in self._meta.concrete_fields:
                setattr(kept, field.attname, getattr(self, field.attname))

    @classmethod
    def load(cls):
        """The clinic's row: the request's copy while a request is answered, else read from the database.

        The row exists from migration 0002 on; it is created here when missing (a test database that
        was flushed), with the default zone.
        """
        clinic = _request_clinic.get()
        if clinic is None:
            clinic, _ = cls.objects.get_or_create(pk=1, defaults={"time_zone": settings.CLINIC_DEFAULT_TIME_ZONE})
        return clinic

    @staticmethod
    @contextmanager
    def kept_for_request(clinic):
        """Within this block load() returns `clinic` (the middleware reads the row once per request)."""
        token = _request_clinic.set(clinic)
        try:
            yield clinic
        finally:
            _request_clinic.reset(token)

    @property
    def tz(self):
        return ZoneInfo(self.time_zone)

    def local_now(self):
        return timezone.now().astimezone(self.tz)

    def greeting_text(self):
        if self.greeting:
            return self.greeting.format(clinic=self.name, assistant=self.assistant_name)
        return f"Thank you for calling {self.name}. I'm {self.assistant_name}, how can I help you today?"


def _check_times(opens, closes, *, opens_field, closes_field):
    if opens and closes and closes <= opens:
        raise ValidationError({closes_field: "The end must be after the start."})


class BusinessHours(models.Model):
    """Opening hours of one weekday. A weekday with no rows is closed; two rows make a split day."""

    clinic = models.ForeignKey(ClinicSettings, on_delete=models.CASCADE, related_name="hours", default=1)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="hours_close_after_open")
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self):
        _check_times(self.opens_at, self.closes_at, opens_field="opens_at", closes_field="closes_at")


class Closure(models.Model):
    """A day the clinic is closed (a holiday, training day)."""

    clinic = models.ForeignKey(ClinicSettings, on_delete=models.CASCADE, related_name="closures", default=1)
    date = models.DateField(unique=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"Closed {self.date:%Y-%m-%d}" + (f" ({self.reason})" if self.reason else "")


class Service(models.Model):
    class Category(models.TextChoices):
        INJECTABLES = "injectables", "Injectables"
        LASER = "laser", "Laser"
        FACIALS = "facials", "Facials and skin"
        BODY = "body", "Body contouring"
        CONSULTATION = "consultation", "Consultations"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices)
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    buffer_minutes = models.PositiveIntegerField(default=0, help_text="Clean-up time after, not bookable.")
    price_min = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    price_text = models.CharField(
        max_length=300, blank=True, help_text="How the assistant says the price, e.g. “$12 to $15 a unit, most visits $300 to $600”."
    )
    description = models.TextField(blank=True)
    preparation = models.TextField(blank=True)
    aftercare = models.TextField(blank=True)
    requires_consultation = models.BooleanField(
        "requires a consultation for new clients", default=False,
        help_text="New clients must book a consultation first.",
    )
    is_active = models.BooleanField("active", default=True)
    display_order = models.PositiveIntegerField(default=0)
    # Kept by the Boulevard catalogue sync (docs/boulevard.md); empty on other backends.
    boulevard_id = models.CharField("Boulevard id", max_length=255, blank=True, default="")
    boulevard_staff_variants = models.JSONField(
        "Boulevard staff variants", default=dict, blank=True,
        help_text="Boulevard staff id to the staff variant id this service is booked with.",
    )

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["boulevard_id"], condition=~models.Q(boulevard_id=""),
                                    name="service_unique_boulevard_id"),
            models.CheckConstraint(
                condition=models.Q(price_min__isnull=True) | models.Q(price_max__isnull=True) | models.Q(price_min__lte=models.F("price_max")),
                name="service_price_min_lte_max",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValidationError({"price_max": "The highest price is below the lowest price."})

    @property
    def blocked_minutes(self):
        """How long the provider is taken by one booking: the treatment and its buffer."""
        return self.duration_minutes + self.buffer_minutes

    def spoken_price(self):
        if self.price_text:
            return self.price_text
        if self.price_min is None and self.price_max is None:
            return "complimentary" if self.category == self.Category.CONSULTATION else "priced at your consultation"
        if self.price_min == self.price_max or self.price_max is None:
            return f"${self.price_min:,.0f}"
        if self.price_min is None:
            return f"up to ${self.price_max:,.0f}"
        return f"${self.price_min:,.0f} to ${self.price_max:,.0f}"


class Provider(models.Model):
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=200, blank=True, help_text="e.g. Nurse Injector")
    credentials = models.CharField(max_length=100, blank=True, help_text="e.g. RN, BSN")
    bio = models.TextField(blank=True)
    specialties = models.CharField(max_length=300, blank=True, help_text="Comma separated.")
    services = models.ManyToManyField(Service, related_name="providers", blank=True)
    is_active = models.BooleanField("active", default=True)
    calendar_id = models.CharField(
        "Google calendar", max_length=255, blank=True,
        help_text="This provider's own Google calendar: its busy times block bookings and their appointments go there. "
        "Empty: appointments go to the clinic calendar (GOOGLE_CALENDAR_ID).",
    )
    # Kept by the Boulevard catalogue sync (docs/boulevard.md); empty on other backends.
    boulevard_id = models.CharField("Boulevard staff id", max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["boulevard_id"], condition=~models.Q(boulevard_id=""),
                                    name="provider_unique_boulevard_id"),
        ]

    def __str__(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name


class ProviderSchedule(models.Model):
    """A provider's weekly working hours. Several rows on one weekday make a split day."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="schedules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "starts_at"]
        verbose_name = "weekly hours"
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="schedule_end_after_start")
        ]

    def __str__(self):
        return f"{self.provider.name}: {self.get_weekday_display()} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    def clean(self):
        _check_times(self.starts_at, self.ends_at, opens_field="starts_at", closes_field="ends_at")


class TimeOff(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="time_off_end_after_start")
        ]

    def __str__(self):
        return f"{self.provider.name} off {self.starts_at:%Y-%m-%d}"

    def clean(self):
        _check_times(self.starts_at, self.ends_at, opens_field="starts_at", closes_field="ends_at")


class FAQ(models.Model):
    """What the assistant may say beyond the catalogue."""

    class Category(models.TextChoices):
        POLICIES = "policies", "Policies"
        PARKING = "parking", "Parking and directions"
        FIRST_VISIT = "first_visit", "First visit"
        PAYMENT = "payment", "Payment"
        PROMOTIONS = "promotions", "Promotions"

    question = models.CharField(max_length=300)
    answer = models.TextField()
    category = models.CharField(max_length=20, choices=Category.choices)
    is_active = models.BooleanField("active", default=True)
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["category", "display_order", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"

    def __str__(self):
        return self.question


class Appointment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class BookedBy(models.TextChoices):
        AI = "ai", "Assistant"
        STAFF = "staff", "Staff"
        ONLINE = "online", "Online"

    customer = models.ForeignKey("communications.Customer", on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    # The provider is taken until `end`: the treatment plus the service's buffer.
    end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    booked_by = models.CharField(max_length=10, choices=BookedBy.choices, default=BookedBy.STAFF)
    conversation = models.ForeignKey(
        "communications.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    calendar_event_id = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    cancellation_reason = models.TextField(blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=BookedBy.choices, blank=True)
    late_cancellation = models.BooleanField(
        default=False, help_text="Cancelled with less notice than the clinic's policy asks (allowed, but flagged)."
    )
    # History a person may want later: earlier times of a rescheduled appointment, and who moved it.
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["provider", "start"], name="appointment_provider_start"),
            models.Index(fields=["start"], name="appointment_start"),
            models.Index(fields=["status", "start"], name="appointment_status_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start")
        ]

    def __str__(self):
        return f"{self.service} with {self.provider.name} at {self.start:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must be after the start."})

    def overlaps(self, start, end):
        """Does this appointment hold its provider anywhere in [start, end)?"""
        return self.status != self.Status.CANCELLED and self.start < end and start < self.end

    def is_late_cancellation(self, *, now, notice_hours):
        """Would cancelling at `now` give less notice than the clinic asks for?"""
        return self.start - now < timedelta(hours=notice_hours)

    @staticmethod
    def end_for(service, start):
        # In UTC: adding to a clinic-zone datetime is wall-clock arithmetic, an hour off across a DST change.
        return _utc(start) + timedelta(minutes=service.blocked_minutes)

    @property
    def treatment_end(self):
        return _utc(self.start) + timedelta(minutes=self.service.duration_minutes)

    def local_start(self, tz=None):
        return self.start.astimezone(tz or ClinicSettings.load().tz)


def _utc(moment):
    return moment.astimezone(dt_timezone.utc) if moment.tzinfo is not None else moment
