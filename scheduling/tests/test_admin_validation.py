"""Managers edit the catalogue in admin and get plain-words errors, not a server error."""

import pytest

from scheduling.models import BusinessHours, ClinicSettings, Provider, ProviderSchedule, Service

pytestmark = pytest.mark.django_db


def inline_management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def service_form(**overrides):
    data = {
        "name": "Botox", "slug": "botox", "category": "injectables", "is_active": "on", "display_order": "0",
        "duration_minutes": "30", "buffer_minutes": "10", "price_min": "300", "price_max": "600",
    }
    data.update(overrides)
    return data


def clinic_form(hours):
    clinic = ClinicSettings.load()
    data = {
        "name": "Lumière Med Spa", "time_zone": "America/New_York", "assistant_name": "Ava",
        "min_booking_notice_minutes": "120", "booking_horizon_days": "90", "cancellation_notice_hours": "24",
        **inline_management("hours", len(hours)), **inline_management("closures", 0),
    }
    for i, (weekday, opens, closes) in enumerate(hours):
        data.update({f"hours-{i}-weekday": str(weekday), f"hours-{i}-opens_at": opens, f"hours-{i}-closes_at": closes,
                     f"hours-{i}-clinic": str(clinic.pk)})
    return data


def test_it_saves_a_valid_service(admin_client_owner):
    response = admin_client_owner.post("/admin/scheduling/service/add/", service_form())
    assert response.status_code == 302
    assert Service.objects.get(slug="botox").price_max == 600


def test_it_refuses_a_minimum_price_above_the_maximum(admin_client_owner):
    response = admin_client_owner.post("/admin/scheduling/service/add/", service_form(price_min="700", price_max="600"))
    assert response.status_code == 200
    assert "The highest price is below the lowest price." in response.content.decode()
    assert not Service.objects.exists()


def test_it_saves_the_clinic_hours(admin_client_owner):
    response = admin_client_owner.post("/admin/scheduling/clinicsettings/1/change/", clinic_form([(0, "09:00", "19:00"), (5, "10:00", "17:00")]))
    assert response.status_code == 302
    assert BusinessHours.objects.count() == 2
    assert ClinicSettings.load().name == "Lumière Med Spa"


def test_it_refuses_hours_that_close_before_they_open(admin_client_owner):
    response = admin_client_owner.post("/admin/scheduling/clinicsettings/1/change/", clinic_form([(0, "19:00", "09:00")]))
    assert response.status_code == 200
    assert "The end must be after the start." in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_it_refuses_overlapping_hours_on_one_day(admin_client_owner):
    response = admin_client_owner.post(
        "/admin/scheduling/clinicsettings/1/change/", clinic_form([(0, "09:00", "13:00"), (0, "12:00", "17:00")])
    )
    assert response.status_code == 200
    assert "Monday has overlapping hours" in response.content.decode()
    assert not BusinessHours.objects.exists()


def test_it_accepts_a_split_day_with_a_lunch_break(admin_client_owner):
    response = admin_client_owner.post(
        "/admin/scheduling/clinicsettings/1/change/", clinic_form([(0, "09:00", "12:00"), (0, "13:00", "17:00")])
    )
    assert response.status_code == 302
    assert BusinessHours.objects.filter(weekday=0).count() == 2


def test_it_refuses_overlapping_weekly_hours_for_a_provider(admin_client_owner):
    data = {
        "name": "Dr. Maya Chen", "is_active": "on",
        **inline_management("schedules", 2), **inline_management("time_off", 0),
        "schedules-0-weekday": "1", "schedules-0-starts_at": "09:00", "schedules-0-ends_at": "15:00",
        "schedules-1-weekday": "1", "schedules-1-starts_at": "14:00", "schedules-1-ends_at": "18:00",
    }
    response = admin_client_owner.post("/admin/scheduling/provider/add/", data)
    assert response.status_code == 200
    assert "Tuesday has overlapping hours" in response.content.decode()
    assert not Provider.objects.exists()
    assert not ProviderSchedule.objects.exists()


def test_there_is_one_clinic_and_it_cannot_be_deleted_or_added(admin_client_owner):
    assert admin_client_owner.get("/admin/scheduling/clinicsettings/add/").status_code == 403
    assert admin_client_owner.post("/admin/scheduling/clinicsettings/1/delete/").status_code == 403
    assert ClinicSettings.objects.count() == 1


def test_the_admin_pages_open_for_every_model(admin_client_owner):
    for path in ["scheduling/service", "scheduling/provider", "scheduling/faq",
                 "communications/customer", "communications/conversation"]:
        assert admin_client_owner.get(f"/admin/{path}/").status_code == 200, path
        assert admin_client_owner.get(f"/admin/{path}/add/").status_code == 200, path
    # The delivery log and appointments can be read, never written by hand (appointments change on the dashboard).
    for path in ["communications/outboundmessage", "scheduling/appointment"]:
        assert admin_client_owner.get(f"/admin/{path}/").status_code == 200, path
        assert admin_client_owner.get(f"/admin/{path}/add/").status_code == 403, path
