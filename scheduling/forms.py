"""Forms of the staff appointment pages and the appointments API: the calendar, the filters of appointments, booking, cancelling, moving."""

from datetime import datetime

from django import forms
from django.utils import timezone

from communications.models import Customer
from communications.phones import normalise_phone
from conventions.clinic_time import clinic_today
from scheduling.availability import SANE_YEARS
from scheduling.models import Appointment, Provider, Service

VIEWS = [("day", "Day"), ("week", "Week")]


class CalendarForm(forms.Form):
    view = forms.ChoiceField(required=False, choices=VIEWS)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    provider = forms.ModelChoiceField(required=False, queryset=Provider.objects.filter(is_active=True),
                                      empty_label="All providers")

    def values(self):
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("view") or "day", data.get("date") or clinic_today(), data.get("provider")


class ClinicDateField(forms.DateField):
    """A clinic date as YYYY-MM-DD (what date inputs send), in years a calendar can hold."""

    def __init__(self, **kwargs):
        super().__init__(input_formats=["%Y-%m-%d"], widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Give a date as YYYY-MM-DD."}, **kwargs)

    def validate(self, value):
        super().validate(value)
        # A far year would overflow the day's bounds (9999-12-31 has no next day).
        if value and not SANE_YEARS[0] <= value.year <= SANE_YEARS[1]:
            raise forms.ValidationError("Give a date between %(first)s and %(last)s.", code="out_of_range",
                                        params={"first": SANE_YEARS[0], "last": SANE_YEARS[1]})


class AppointmentFilterForm(forms.Form):
    """The filters of appointments, read from a query string: one meaning for the list page and the API.

    Cleaned, it gives scheduling.selectors.appointments_for() its arguments (filters()).
    """

    q = forms.CharField(required=False, label="Customer", max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, phone or email"}))
    start_date = ClinicDateField(required=False, label="From")
    end_date = ClinicDateField(required=False, label="To")
    provider = forms.ModelChoiceField(required=False, queryset=Provider.objects.all(), empty_label="All providers")
    service = forms.ModelChoiceField(required=False, queryset=Service.objects.all(), empty_label="All services")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Appointment.Status.choices],
                               error_messages={"invalid_choice": "Use one of: %s." % ", ".join(Appointment.Status.values)})
    late = forms.BooleanField(required=False, label="Late cancellations only")
    # Links from elsewhere (a customer's page, an integration) narrow by who; the page's own search is `q`.
    customer = forms.ModelChoiceField(required=False, queryset=Customer.objects.all(), widget=forms.HiddenInput)
    phone = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def clean_phone(self):
        return normalise_phone(self.cleaned_data["phone"]) or ""

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", "The end date is before the start date.")
        return data

    def filters(self):
        """appointments_for()'s keyword arguments; call after is_valid()."""
        data = self.cleaned_data
        return {
            "start_date": data.get("start_date"), "end_date": data.get("end_date"),
            "provider": data.get("provider"), "service": data.get("service"), "customer": data.get("customer"),
            "status": data.get("status", ""), "phone": data.get("phone", ""), "text": data.get("q", ""),
            "late_only": data.get("late", False),
        }


class AppointmentListForm(AppointmentFilterForm):
    """The list page's filters and which page of the results it shows."""

    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


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
