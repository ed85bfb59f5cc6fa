"""Appointments in a real browser: the day view per provider, and staff booking with open times loaded by htmx."""

import re
from datetime import datetime, time, timedelta

import pytest

from communications.tests.factories import CustomerFactory
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.factories import EVERY_DAY, AppointmentFactory, ProviderFactory, ServiceFactory, open_clinic
from tests.browser.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_book_an_appointment_and_see_it_on_the_day(page, live_asgi, staff_login, pinned_now):
    open_clinic(min_booking_notice_minutes=0, booking_horizon_days=90, cancellation_notice_hours=24)
    botox = ServiceFactory(name="Botox", slug="botox", duration_minutes=30)
    dana = ProviderFactory(name="Dana Lee", services=[botox], weekly_hours=EVERY_DAY)
    ProviderFactory(name="Omar Haddad", services=[botox], weekly_hours=EVERY_DAY)
    tz = ClinicSettings.load().tz
    day = datetime.now(tz).date() + timedelta(days=2)
    AppointmentFactory(service=botox, provider=dana, start=datetime.combine(day, time(9), tzinfo=tz),
                       customer=CustomerFactory(name="Mia Chen"))
    CustomerFactory(name="Jane Doe", phone="+12125550199")

    staff_login(page, live_asgi)
    page.get_by_role("link", name="Appointments", exact=True).click()
    page.wait_for_url("**/dashboard/appointments/")
    page.get_by_role("link", name="Book an appointment").click()
    page.get_by_label("Service").select_option(label="Botox")
    page.get_by_label("Provider").select_option(label="Dana Lee, RN")
    page.get_by_label("Date").fill(day.isoformat())
    # The open times arrive with htmx, once per change (service, then provider, then date): the earlier answers
    # (tomorrow, any provider) also show Dana, so wait for her openings on the chosen day. Mia's 9:00 is not among them.
    page.locator(f'#openings input[name="slot"][value^="{dana.pk}|{day.isoformat()}T"]').first.wait_for()
    assert page.locator("#openings legend").all_inner_texts() == ["Dana Lee"]
    assert page.get_by_role("radio", name="9:30 AM").is_visible()
    assert page.get_by_role("radio", name="9:00 AM").count() == 0
    page.get_by_role("radio", name="10:30 AM").check()
    page.get_by_label("Find a customer").fill("jane")
    page.get_by_role("radio", name=re.compile("Jane Doe")).check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-appointment-book.png"), full_page=True)
    page.get_by_role("button", name="Book", exact=True).click()

    page.wait_for_url(re.compile(r".*/dashboard/appointments/\d+/$"))
    assert page.get_by_text("Booked Botox with Dana Lee for Jane Doe.").is_visible()
    appointment = Appointment.objects.get(customer__name="Jane Doe")
    assert appointment.start == datetime.combine(day, time(10, 30), tzinfo=tz)
    page.screenshot(path=str(ARTIFACTS / "dashboard-appointment-detail.png"), full_page=True)

    page.goto(f"{live_asgi}/dashboard/appointments/?date={day.isoformat()}")
    grid = page.locator(".day-grid")
    assert grid.locator(".col-head").all_inner_texts()[1:] == ["Dana Lee\nNurse Injector", "Omar Haddad\nNurse Injector"]
    assert grid.get_by_role("link", name="10:30–11:00 AM Botox Jane Doe with Dana Lee").is_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-appointments-day.png"), full_page=True)

    # The week, then the list filtered to one provider, each swapped in place with a true address.
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url("**view=week**")
    page.get_by_role("heading", name=re.compile("^Week of")).wait_for()
    page.goto(f"{live_asgi}/dashboard/appointments/list/")
    page.get_by_label("Provider").select_option(label="Dana Lee, RN")
    page.wait_for_url(f"**provider={dana.pk}**")
    assert page.locator("#results tbody tr").count() == 2
    page.screenshot(path=str(ARTIFACTS / "dashboard-appointments-list.png"), full_page=True)
