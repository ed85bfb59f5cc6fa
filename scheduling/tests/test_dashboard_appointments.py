"""Staff appointment pages: day and week per provider, the filterable list, and booking, cancelling and
rescheduling through scheduling.services, with refusals in plain words and alternatives offered."""

import re
from datetime import datetime, time, timedelta

import pytest

from communications.models import Customer
from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.factories import (
    EVERY_DAY,
    AppointmentFactory,
    ConsultationFactory,
    ProviderFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def spa(clinic):
    """Booking from the pages uses the real clock: the clinic books from now on, with 24 h cancellation notice."""
    ClinicSettings.objects.filter(pk=1).update(min_booking_notice_minutes=0, booking_horizon_days=400,
                                               cancellation_notice_hours=24)
    botox = ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)
    facial = ServiceFactory(name="HydraFacial", slug="hydrafacial", duration_minutes=60)
    dana = ProviderFactory(name="Dana Lee", title="Nurse Injector", services=[botox, facial], weekly_hours=EVERY_DAY)
    omar = ProviderFactory(name="Omar Haddad", title="Aesthetician", services=[facial],
                           weekly_hours=[(day, "12:00", "17:00") for day in range(7)])
    tz = ClinicSettings.load().tz
    day = datetime.now(tz).date() + timedelta(days=3)
    return type("Spa", (), {"botox": botox, "facial": facial, "dana": dana, "omar": omar, "tz": tz, "day": day,
                            "at": lambda self, hour, minute=0, days=0: datetime.combine(day + timedelta(days=days),
                                                                                        time(hour, minute), tzinfo=tz)})()


def slot(provider, start):
    return f"{provider.pk}|{start.isoformat()}"


def htmx(client, url):
    return client.get(url, headers={"HX-Request": "true"})


# --- staff only ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/dashboard/appointments/", "/dashboard/appointments/list/", "/dashboard/appointments/new/",
                                 "/dashboard/appointments/openings/?service=1&date=2030-01-01",
                                 "/dashboard/appointments/customers/?customer_search=dana", "/dashboard/appointments/1/"])
def test_appointment_pages_are_staff_only(client, django_user_model, url):
    assert client.get(url)["Location"].startswith("/accounts/login/")
    django_user_model.objects.create_user("caller", password="a-long-test-password")
    client.login(username="caller", password="a-long-test-password")
    assert client.get(url).status_code == 302


@pytest.mark.parametrize("url", ["/dashboard/appointments/new/", "/dashboard/appointments/1/cancel/",
                                 "/dashboard/appointments/1/reschedule/"])
def test_appointment_changes_are_staff_only(client, url):
    assert client.post(url)["Location"].startswith("/accounts/login/")
    assert Appointment.objects.count() == 0


# --- the calendar -------------------------------------------------------------------------------------

def test_the_day_view_has_a_column_per_provider_in_the_clinic_s_zone(staff_client, spa):
    jane = CustomerFactory(name="Jane Doe")
    AppointmentFactory(customer=jane, service=spa.botox, provider=spa.dana, start=spa.at(10, 15))
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(13))
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(15), status=Appointment.Status.CANCELLED)
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(13, days=1))  # another day

    response = staff_client.get(f"/dashboard/appointments/?date={spa.day:%Y-%m-%d}")
    assert response.status_code == 200
    page = response.content.decode()
    heads = re.findall(r'<div class="col-head" style="grid-column: (\d+); grid-row: 1;">([^<]+)<small>', page)
    assert heads == [("2", "Dana Lee"), ("3", "Omar Haddad")]
    blocks = re.findall(r'class="appt scheduled" style="grid-column: (\d+); grid-row: (\d+) / span (\d+);"', page)
    # 9 AM is the first row (row 2); 10:15 is five quarter hours later; Botox holds 30 + 15 minutes.
    assert blocks == [("2", "7", "3"), ("3", "18", "4")]
    assert "10:15–10:45 AM Botox" in page and "Jane Doe" in page
    assert page.count('class="appt ') == 2  # the cancelled one and the next day's are not in the grid
    # Omar works from noon: his morning rows are shaded.
    assert 'class="lane off" style="grid-column: 3; grid-row: 2;"' in page
    assert 'class="lane" style="grid-column: 2; grid-row: 2;"' in page


def test_the_week_view_lists_each_day_per_provider(staff_client, spa):
    AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10))
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(14, days=1))
    page = staff_client.get(f"/dashboard/appointments/?view=week&date={spa.day:%Y-%m-%d}").content.decode()
    monday = spa.day - timedelta(days=spa.day.weekday())
    assert f"Week of {monday:%A, %B} {monday.day}, {monday.year}" in page
    rows = re.findall(r'<th scope="row" class="day-name">.*?</tr>', page, re.S)
    assert len(rows) == 7
    in_week = [row for row in rows if "class=\"appt" in row]
    assert len(in_week) == (2 if spa.day.weekday() < 6 else 1)
    assert "10:00 AM Botox" in page


def test_the_calendar_swaps_in_place_and_filters_by_provider(staff_client, spa):
    AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10))
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(13))
    response = htmx(staff_client, f"/dashboard/appointments/?date={spa.day:%Y-%m-%d}&provider={spa.omar.pk}")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar"')
    assert "Omar Haddad" in html and "Botox" not in html
    next_day = spa.day + timedelta(days=1)
    assert f'hx-get="/dashboard/appointments/?view=day&amp;date={next_day:%Y-%m-%d}&amp;provider={spa.omar.pk}"' in html
    assert 'hx-push-url="true"' in html


def test_a_bad_calendar_date_falls_back_to_today(staff_client, spa):
    page = staff_client.get("/dashboard/appointments/?date=not-a-date&view=fortnight").content.decode()
    assert '<span class="badge">Today</span>' in page


# --- the list ----------------------------------------------------------------------------------------

def test_the_list_filters_by_dates_provider_status_service_and_customer(staff_client, spa):
    jane = CustomerFactory(name="Jane Doe", phone="+12125550199", email="jane@example.com")
    mia = CustomerFactory(name="Mia Chen")
    first = AppointmentFactory(customer=jane, service=spa.botox, provider=spa.dana, start=spa.at(10))
    second = AppointmentFactory(customer=mia, service=spa.facial, provider=spa.omar, start=spa.at(13, days=2))
    late = AppointmentFactory(customer=mia, service=spa.facial, provider=spa.omar, start=spa.at(15),
                              status=Appointment.Status.CANCELLED, late_cancellation=True)

    def listed(query=""):
        response = staff_client.get(f"/dashboard/appointments/list/?{query}")
        assert response.status_code == 200
        return [int(pk) for pk in re.findall(r'href="/dashboard/appointments/(\d+)/"', response.content.decode())]

    assert listed() == [first.pk, late.pk, second.pk]
    assert listed(f"provider={spa.omar.pk}") == [late.pk, second.pk]
    assert listed(f"service={spa.botox.pk}") == [first.pk]
    assert listed("status=cancelled") == [late.pk]
    assert listed("late=on") == [late.pk]
    assert listed("q=jane") == [first.pk]
    assert listed("q=555-0199") == [first.pk]
    assert listed(f"start_date={spa.day + timedelta(days=1):%Y-%m-%d}") == [second.pk]
    assert listed(f"end_date={spa.day:%Y-%m-%d}") == [first.pk, late.pk]
    page = staff_client.get("/dashboard/appointments/list/?status=cancelled").content.decode()
    assert '<span class="badge late">Late cancellation</span>' in page


def test_the_list_swaps_its_results_for_htmx_and_reports_bad_dates(staff_client, spa):
    AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10))
    html = htmx(staff_client, "/dashboard/appointments/list/").content.decode()
    assert html.lstrip().startswith('<section id="results"') and "Botox" in html
    page = staff_client.get(f"/dashboard/appointments/list/?start_date={spa.day:%Y-%m-%d}&end_date=2000-01-01").content.decode()
    assert "The end date is before the start date." in page


# --- booking ----------------------------------------------------------------------------------------

def test_the_booking_form_shows_open_times_per_provider(staff_client, spa):
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(12))
    html = htmx(staff_client, f"/dashboard/appointments/openings/?service={spa.facial.pk}&date={spa.day:%Y-%m-%d}").content.decode()
    legends = re.findall(r"<legend>([^<]+)</legend>", html)
    assert legends == ["Dana Lee", "Omar Haddad"]
    assert f'value="{slot(spa.dana, spa.at(9))}"' in html
    assert f'value="{slot(spa.omar, spa.at(12))}"' not in html  # taken
    assert f'value="{slot(spa.omar, spa.at(13))}"' in html
    only_omar = htmx(staff_client, f"/dashboard/appointments/openings/?service={spa.facial.pk}&date={spa.day:%Y-%m-%d}"
                                   f"&provider={spa.omar.pk}").content.decode()
    assert re.findall(r"<legend>([^<]+)</legend>", only_omar) == ["Omar Haddad"]


def test_without_javascript_show_open_times_reloads_the_form_with_them(staff_client, spa):
    page = staff_client.get(f"/dashboard/appointments/new/?service={spa.botox.pk}&provider=&date={spa.day:%Y-%m-%d}").content.decode()
    assert f'value="{slot(spa.dana, spa.at(9))}"' in page
    assert f'<option value="{spa.botox.pk}" selected>Botox</option>' in page


def test_staff_find_an_existing_customer_to_book_for(staff_client, spa):
    CustomerFactory(name="Jane Doe", phone="+12125550199")
    CustomerFactory(name="Mia Chen")
    html = htmx(staff_client, "/dashboard/appointments/customers/?customer_search=jane").content.decode()
    assert "Jane Doe" in html and "Mia Chen" not in html
    assert htmx(staff_client, "/dashboard/appointments/customers/?customer_search=0199").content.decode().count('name="customer"') == 2
    assert "No customer matches" in htmx(staff_client, "/dashboard/appointments/customers/?customer_search=zz").content.decode()


def test_staff_book_for_an_existing_customer(staff_client, spa):
    jane = CustomerFactory(name="Jane Doe")
    response = staff_client.post("/dashboard/appointments/new/", {
        "service": spa.botox.pk, "provider": "", "date": f"{spa.day:%Y-%m-%d}", "slot": slot(spa.dana, spa.at(11)),
        "customer": jane.pk, "notes": "First visit",
    })
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/dashboard/appointments/{appointment.pk}/"
    assert (appointment.customer, appointment.provider, appointment.start) == (jane, spa.dana, spa.at(11))
    assert appointment.booked_by == Appointment.BookedBy.STAFF and appointment.notes == "First visit"
    page = staff_client.get(response["Location"]).content.decode()
    assert "Booked Botox with Dana Lee for Jane Doe." in page


def test_staff_book_for_a_new_customer_found_or_created_by_phone(staff_client, spa):
    response = staff_client.post("/dashboard/appointments/new/", {
        "service": spa.facial.pk, "date": f"{spa.day:%Y-%m-%d}", "slot": slot(spa.omar, spa.at(14)),
        "name": "Sam Ortiz", "phone": "(305) 555-0100", "email": "sam@example.com",
    })
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert (customer.name, customer.phone, customer.email) == ("Sam Ortiz", "+13055550100", "sam@example.com")
    assert Appointment.objects.get().customer == customer


def test_a_slot_taken_meanwhile_is_refused_in_plain_words_with_nearby_times(staff_client, spa):
    # Someone else (the assistant, on the phone) took 10:00 after the page listed it.
    AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10), booked_by=Appointment.BookedBy.AI)
    response = staff_client.post("/dashboard/appointments/new/", {
        "service": spa.botox.pk, "date": f"{spa.day:%Y-%m-%d}", "slot": slot(spa.dana, spa.at(10)),
        "name": "Sam Ortiz", "phone": "3055550100",
    })
    assert response.status_code == 409
    page = response.content.decode()
    assert "That time was just taken." in page
    assert "Open times nearby" in page
    alternatives = re.findall(r'<input type="radio" name="slot" value="([^"]+)">\s*([^<]+) with Dana Lee', page)
    assert alternatives and all(value.startswith(f"{spa.dana.pk}|") for value, _ in alternatives)
    assert slot(spa.dana, spa.at(10)) not in [value for value, _ in alternatives]
    # What was typed is kept for the second try.
    assert 'value="Sam Ortiz"' in page
    assert Appointment.objects.count() == 1

    retry = staff_client.post("/dashboard/appointments/new/", {
        "service": spa.botox.pk, "date": f"{spa.day:%Y-%m-%d}", "slot": alternatives[0][0],
        "name": "Sam Ortiz", "phone": "3055550100",
    })
    assert retry.status_code == 302 and Appointment.objects.count() == 2


def test_a_rule_the_clinic_has_is_explained(staff_client, spa):
    ConsultationFactory()
    fillers = ServiceFactory(name="Fillers", slug="fillers", requires_consultation=True)
    spa.dana.services.add(fillers)
    response = staff_client.post("/dashboard/appointments/new/", {
        "service": fillers.pk, "date": f"{spa.day:%Y-%m-%d}", "slot": slot(spa.dana, spa.at(10)),
        "name": "New Person", "phone": "3055550101",
    })
    assert response.status_code == 409
    page = response.content.decode()
    assert "Fillers needs a consultation first for new clients." in page
    assert "Book a Complimentary consultation first" in page
    assert Appointment.objects.count() == 0


def test_a_booking_needs_a_time_and_someone_to_book_for(staff_client, spa):
    response = staff_client.post("/dashboard/appointments/new/", {"service": spa.botox.pk, "date": f"{spa.day:%Y-%m-%d}"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose one of the open times." in page
    assert "Choose a customer, or give a phone number or email for a new one." in page
    # The day's open times are offered again.
    assert f'value="{slot(spa.dana, spa.at(9))}"' in page
    forged = staff_client.post("/dashboard/appointments/new/", {"service": spa.botox.pk, "date": f"{spa.day:%Y-%m-%d}",
                                                                 "slot": "999|not-a-time", "phone": "3055550100"})
    assert forged.status_code == 422 and Appointment.objects.count() == 0


# --- one appointment: cancel, reschedule ------------------------------------------------------------

def test_the_appointment_page_offers_rescheduling_and_warns_of_a_late_cancellation(staff_client, spa):
    tz = spa.tz
    soon = AppointmentFactory(service=spa.botox, provider=spa.dana,
                              start=datetime.now(tz).replace(second=0, microsecond=0) + timedelta(hours=3))
    page = staff_client.get(f"/dashboard/appointments/{soon.pk}/").content.decode()
    assert "Cancelling now is a <strong>late cancellation</strong>: less than 24 hours' notice." in page
    assert "Move the appointment" in page
    later = AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10))
    page = staff_client.get(f"/dashboard/appointments/{later.pk}/").content.decode()
    assert "late cancellation" not in page
    assert staff_client.get("/dashboard/appointments/999999/").status_code == 404


def test_staff_cancel_with_a_reason(staff_client, spa):
    appointment = AppointmentFactory(service=spa.botox, provider=spa.dana, start=spa.at(10))
    response = staff_client.post(f"/dashboard/appointments/{appointment.pk}/cancel/", {"reason": "Feeling unwell"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert (appointment.cancellation_reason, appointment.cancelled_by) == ("Feeling unwell", "staff")
    assert not appointment.late_cancellation
    page = staff_client.get(response["Location"]).content.decode()
    assert "Cancelled." in page and "“Feeling unwell”" in page and "Move the appointment" not in page


def test_a_late_cancellation_is_allowed_and_shown(staff_client, spa):
    soon = AppointmentFactory(service=spa.botox, provider=spa.dana,
                              start=datetime.now(spa.tz).replace(second=0, microsecond=0) + timedelta(hours=2))
    response = staff_client.post(f"/dashboard/appointments/{soon.pk}/cancel/", {"reason": ""})
    soon.refresh_from_db()
    assert soon.status == Appointment.Status.CANCELLED and soon.late_cancellation
    page = staff_client.get(response["Location"]).content.decode()
    assert "This is a late cancellation" in page and '<span class="badge late">Late cancellation</span>' in page


def test_a_past_appointment_cannot_be_cancelled(staff_client, spa):
    past = AppointmentFactory(service=spa.botox, provider=spa.dana, start=datetime.now(spa.tz) - timedelta(days=1))
    response = staff_client.post(f"/dashboard/appointments/{past.pk}/cancel/", {"reason": "oops"})
    assert response.status_code == 409
    assert "That appointment has already started." in response.content.decode()
    past.refresh_from_db()
    assert past.status == Appointment.Status.SCHEDULED


def test_staff_reschedule_to_an_open_time(staff_client, spa):
    appointment = AppointmentFactory(service=spa.facial, provider=spa.dana, start=spa.at(10))
    response = staff_client.post(f"/dashboard/appointments/{appointment.pk}/reschedule/",
                                 {"slot": slot(spa.omar, spa.at(14, days=1))})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.start, appointment.provider) == (spa.at(14, days=1), spa.omar)
    page = staff_client.get(response["Location"]).content.decode()
    moved_to = spa.day + timedelta(days=1)
    assert f"Moved to {moved_to:%A, %B} {moved_to.day} at 2 PM with Omar Haddad." in page
    assert "Moved before" in page


def test_rescheduling_into_a_taken_time_is_refused_with_alternatives(staff_client, spa):
    appointment = AppointmentFactory(service=spa.facial, provider=spa.dana, start=spa.at(10))
    AppointmentFactory(service=spa.facial, provider=spa.omar, start=spa.at(14))
    response = staff_client.post(f"/dashboard/appointments/{appointment.pk}/reschedule/", {"slot": slot(spa.omar, spa.at(14))})
    assert response.status_code == 409
    page = response.content.decode()
    assert "That time was just taken." in page and "choose one and move it again" in page
    appointment.refresh_from_db()
    assert appointment.start == spa.at(10)
    assert staff_client.post(f"/dashboard/appointments/{appointment.pk}/reschedule/", {"slot": ""}).status_code == 422
