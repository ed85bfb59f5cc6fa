"""Catalogue sync: Boulevard's location, services and staff into Ava's catalogue (one direction).

What Boulevard holds wins: the clinic's name, phone, address and time zone (the location);
services' names, descriptions, durations and prices; staff names and bios and who performs what
(each service's staff variants, whose ids booking needs). Rows keep Boulevard's ids; a service or
provider no longer in Boulevard is deactivated, never deleted (appointments point at it).
Ava keeps what Boulevard does not hold: FAQ, persona, buffers, preparation and aftercare, price
wording, consultation rules, and categories once set.

Opening hours are not in the Client API's types, so they are not synced; availability comes
from Boulevard's bookable times, which follow the hours set in Boulevard.
"""

from decimal import Decimal

from django.db import transaction
from django.utils.text import slugify

from scheduling.calendars.boulevard.client import BoulevardDown, BoulevardRefused
from scheduling.exceptions import CalendarUnavailable, SchedulingError
from scheduling.models import ClinicSettings, Provider, Service

# What the sync writes; admin shows these read-only at a Boulevard clinic, since the next sync
# would overwrite an edit made in Ava.
CLINIC_FIELDS = ["name", "phone", "address", "time_zone"]
SERVICE_FIELDS = ["name", "description", "duration_minutes", "price_min", "price_max", "is_active"]
PROVIDER_FIELDS = ["name", "bio", "services", "is_active"]

_CATEGORY_WORDS = [
    ("consult", Service.Category.CONSULTATION), ("inject", Service.Category.INJECTABLES),
    ("botox", Service.Category.INJECTABLES), ("filler", Service.Category.INJECTABLES),
    ("neuro", Service.Category.INJECTABLES), ("laser", Service.Category.LASER), ("ipl", Service.Category.LASER),
    ("body", Service.Category.BODY), ("sculpt", Service.Category.BODY), ("facial", Service.Category.FACIALS),
    ("skin", Service.Category.FACIALS), ("peel", Service.Category.FACIALS),
]


def sync_catalogue(*, calendar):
    """Read the catalogue from Boulevard, then write it in one transaction. Returns counts."""
    try:
        location = _location(calendar)
        items = _bookable_items(calendar)
    except (BoulevardDown, BoulevardRefused) as error:
        raise CalendarUnavailable("Boulevard did not answer, so the catalogue was not changed.") from error
    with transaction.atomic():
        _write_location(location)
        return _write_items(items)


def _location(calendar):
    edges = calendar.client.execute("GetLocations")["locations"]["edges"] or []
    for edge in edges:
        if edge and edge["node"]["id"] == calendar.location_id:
            return edge["node"]
    raise SchedulingError(f"Boulevard has no location {calendar.location_id} for this key (BOULEVARD_LOCATION_ID).",
                          code="boulevard_location_missing")


def _bookable_items(calendar):
    client = calendar.client
    cart_id = client.execute("CreateCart", {"input": {"locationId": calendar.location_id}})["createCart"]["cart"]["id"]
    categories = client.execute("CartAvailableCategories", {"id": cart_id})["cart"]["availableCategories"]
    items = []
    for category in categories:
        for item in category["availableItems"]:
            if item["__typename"] != "CartAvailableBookableItem" or item["disabled"]:
                continue
            found = client.execute("CartStaffVariants", {"cartId": cart_id, "id": item["id"]})["cart"]["availableItem"]
            items.append({**item, "category": category["name"], "staffVariants": (found or {}).get("staffVariants", [])})
    return items


def _write_location(location):
    clinic = ClinicSettings.load()
    address = location.get("address") or {}
    street = ", ".join(part for part in (address.get("line1"), address.get("line2")) if part)
    town = " ".join(part for part in (address.get("city") and f"{address['city']},", address.get("state"),
                                      address.get("zip")) if part)
    clinic.name = location.get("businessName") or clinic.name
    clinic.phone = location.get("phoneNumber") or clinic.phone
    clinic.address = "\n".join(part for part in (street, town) if part) or clinic.address
    clinic.time_zone = location.get("tz") or clinic.time_zone
    clinic.save()


def _write_items(items):
    counts = {"services": 0, "providers": 0, "deactivated_services": 0, "deactivated_providers": 0}
    performs = {}  # Boulevard staff id -> set of service pks
    seen_services, seen_staff = set(), {}
    for item in items:
        service = Service.objects.filter(boulevard_id=item["id"]).first() or Service(
            boulevard_id=item["id"], slug=_free_slug(item["name"]), category=_category(item),
        )
        durations, prices = item.get("listDurationRange") or {}, item.get("listPriceRange") or {}
        service.name = item["name"]
        if item.get("description"):
            service.description = item["description"]
        service.duration_minutes = max(5, durations.get("min") or service.duration_minutes or 5)
        service.price_min = _dollars(prices.get("min"))
        service.price_max = _dollars(prices.get("max"))
        service.is_active = True
        service.boulevard_staff_variants = {variant["staff"]["id"]: variant["id"] for variant in item["staffVariants"]}
        service.save()
        seen_services.add(service.pk)
        counts["services"] += 1
        for variant in item["staffVariants"]:
            seen_staff[variant["staff"]["id"]] = variant["staff"]
            performs.setdefault(variant["staff"]["id"], set()).add(service.pk)
    for staff_id, staff in seen_staff.items():
        provider = Provider.objects.filter(boulevard_id=staff_id).first() or Provider(boulevard_id=staff_id)
        provider.name = staff.get("displayName") or f"{staff['firstName']} {staff['lastName']}".strip()
        if staff.get("bio"):
            provider.bio = staff["bio"]
        provider.title = provider.title or (staff.get("role") or {}).get("name", "")
        provider.is_active = True
        provider.save()
        # Who performs what is Boulevard's, among Boulevard's services; services only Ava has are kept.
        ava_only = provider.services.filter(boulevard_id="")
        provider.services.set([*ava_only, *Service.objects.filter(pk__in=performs[staff_id])])
        counts["providers"] += 1
    counts["deactivated_services"] = (Service.objects.exclude(boulevard_id="").exclude(pk__in=seen_services)
                                      .filter(is_active=True).update(is_active=False))
    counts["deactivated_providers"] = (Provider.objects.exclude(boulevard_id="").exclude(boulevard_id__in=seen_staff)
                                       .filter(is_active=True).update(is_active=False))
    return counts


def _category(item):
    text = f"{item['category']} {item['name']}".lower()
    return next((category for word, category in _CATEGORY_WORDS if word in text), Service.Category.FACIALS)


def _dollars(cents):
    return None if cents is None else (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def _free_slug(name):
    base = slugify(name)[:40] or "service"
    slug, n = base, 2
    while Service.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug
