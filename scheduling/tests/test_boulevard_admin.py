"""At a Boulevard clinic, admin edits only what Boulevard does not hold, and says so."""

import pytest

from scheduling.models import Service

pytestmark = pytest.mark.django_db


def test_at_a_boulevard_clinic_the_synced_fields_are_read_only_and_the_page_says_so(settings, admin_client_owner):
    service = Service.objects.create(name="Botox", slug="botox", category="injectables", duration_minutes=30,
                                     price_min=300, price_max=600, boulevard_id="item-botox")
    settings.CALENDAR_BACKEND = "boulevard"

    page = admin_client_owner.get(f"/admin/scheduling/service/{service.pk}/change/").content.decode()
    assert "Kept in Boulevard and copied here by the catalogue sync" in page
    assert 'name="name"' not in page and 'name="preparation"' in page

    response = admin_client_owner.post(f"/admin/scheduling/service/{service.pk}/change/", {
        "name": "Cheap Botox", "price_min": "1", "price_max": "2", "duration_minutes": "5",
        "slug": "botox", "category": "injectables", "display_order": "0", "buffer_minutes": "10",
        "preparation": "No blood thinners for a week.",
    })
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.name, service.price_min, service.duration_minutes) == ("Botox", 300, 30)
    assert service.preparation == "No blood thinners for a week."
    assert service.is_active  # not a field here, so not switched off by its absence


def test_at_a_boulevard_clinic_the_service_list_edits_the_order_but_not_whether_ava_offers_it(settings, admin_client_owner):
    Service.objects.create(name="Botox", slug="botox", category="injectables", duration_minutes=30, boulevard_id="b")
    settings.CALENDAR_BACKEND = "boulevard"

    page = admin_client_owner.get("/admin/scheduling/service/").content.decode()
    assert "form-0-display_order" in page and "form-0-is_active" not in page


def test_elsewhere_every_catalogue_field_stays_editable(admin_client_owner):
    service = Service.objects.create(name="Botox", slug="botox", category="injectables", duration_minutes=30)

    page = admin_client_owner.get(f"/admin/scheduling/service/{service.pk}/change/").content.decode()
    assert "Kept in Boulevard" not in page and 'name="name"' in page
    assert "form-0-is_active" in admin_client_owner.get("/admin/scheduling/service/").content.decode()


def test_at_a_boulevard_clinic_the_clinic_and_provider_pages_open_with_their_synced_fields_read_only(settings, admin_client_owner):
    from scheduling.models import Provider

    provider = Provider.objects.create(name="Dana Lee", boulevard_id="staff-dana")
    settings.CALENDAR_BACKEND = "boulevard"

    clinic_page = admin_client_owner.get("/admin/scheduling/clinicsettings/1/change/").content.decode()
    provider_page = admin_client_owner.get(f"/admin/scheduling/provider/{provider.pk}/change/").content.decode()
    assert 'name="time_zone"' not in clinic_page and 'name="persona"' in clinic_page
    assert 'name="services"' not in provider_page and 'name="title"' in provider_page
    assert "Kept in Boulevard" in clinic_page and "Kept in Boulevard" in provider_page
