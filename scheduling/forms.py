"""Forms of the staff appointment pages: the calendar's and list's filters, booking, cancelling, moving."""

from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Q
from django.utils import timezone

from communications.models import Customer
from scheduling.models import Appointment, Provider, Service

VIEWS = [("day", "Day"), ("week", "Week")]


def clinic_today():
    return timezone.localdate()  # ClinicTimeZoneMiddleware has activated the clinic's zone


def day_bounds(first, last, tz=None):
    """[start of `first`, start of the day after `last`) as aware datetimes in the clinic's zone."""
    tz = tz or timezone.get_current_timezone()
    return (datetime.combine(first, time.min, tzinfo=tz),
            datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz))


class CalendarForm(forms.Form):
    view = forms.ChoiceField(required=False, choices=VIEWS)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ModelChoiceField(required=False, queryset=Provider.objects.filter(is_active=True),
                                      empty_label="All providers")

    def values(self):
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("view") or "day", data.get("date") or clinic_today(), data.get("provider")


class AppointmentFilterForm(forms.Form):
    """The list's filters, read from the query string so a filtered list can be bookmarked."""

    q = forms.CharField(required=False, label="Customer", max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, phone or email"}))
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ModelChoiceField(required=False, queryset=Provider.objects.all(), empty_label="All providers")
    service = forms.ModelChoiceField(required=False, queryset=Service.objects.all(), empty_label="All services")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Appointment.Status.choices])
    late = forms.BooleanField(required=False, label="Late cancellations only")
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def appointments(self):
        """The matching appointments, soonest first. With no dates: from today on."""
        data = self.cleaned_data if self.is_valid() else {}
        qs = Appointment.objects.select_related("customer", "service", "provider")
        first, last = data.get("date_from"), data.get("date_to")
        if first is None and last is None:
            first = clinic_today()
        if first is not None:
            qs = qs.filter(start__gte=day_bounds(first, first)[0])
        if last is not None:
            qs = qs.filter(start__lt=day_bounds(last, last)[1])
        if data.get("provider"):
            qs = qs.filter(provider=data["provider"])
        if data.get("service"):
            qs = qs.filter(service=data["service"])
        if data.get("status"):
            qs = qs.filter(status=data["status"])
        if data.get("late"):
            qs = qs.filter(late_cancellation=True)
        if data.get("q"):
            qs = qs.filter(customer_matching(data["q"].strip(), prefix="customer__"))
        return qs.order_by("start", "provider__name", "pk")


def customer_matching(text, *, prefix=""):
    """A Q for customers whose name or email contains `text`, or whose phone contains its digits."""
    match = Q(**{f"{prefix}name__icontains": text}) | Q(**{f"{prefix}email__icontains": text})
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4:
        match |= Q(**{f"{prefix}phone__contains": digits})
    return match


class OpeningsForm(forms.Form):
    """Which open times to show: a service on a date, with one provider or any."""

    service = forms.ModelChoiceField(queryset=Service.objects.filter(is_active=True).order_by("display_order", "name"))
    provider = forms.ModelChoiceField(required=False, queryset=Provider.objects.filter(is_active=True),
                                      empty_label="Any provider")
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class SlotField(forms.CharField):
    """A chosen opening, posted as "<provider id>|<ISO start>"; cleaned to (Provider, aware datetime)."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            provider_id, start = value.split("|", 1)
            start = datetime.fromisoformat(start)
            provider = Provider.objects.get(pk=int(provider_id))
        except (ValueError, Provider.DoesNotExist):
            raise forms.ValidationError("Choose one of the open times.") from None
        if timezone.is_naive(start):
            raise forms.ValidationError("Choose one of the open times.")
        return provider, start


class BookingForm(OpeningsForm):
    slot = SlotField(required=False, label="Time")
    customer = forms.ModelChoiceField(required=False, queryset=Customer.objects.all(), widget=forms.HiddenInput)
    name = forms.CharField(required=False, max_length=200)
    phone = forms.CharField(required=False, max_length=40, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    email = forms.EmailField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if not data.get("slot") and not self.has_error("slot"):
            self.add_error("slot", "Choose one of the open times.")
        if not data.get("customer") and not (data.get("phone") or "").strip() and not (data.get("email") or "").strip():
            self.add_error("phone", "Choose a customer, or give a phone number or email for a new one.")
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(required=False, max_length=500, label="Reason",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. feeling unwell"}))


class RescheduleForm(forms.Form):
    slot = SlotField(label="New time")
