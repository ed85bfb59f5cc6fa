"""Tools that answer from the clinic's data: the time, the clinic, its services and providers."""

import re
from datetime import timedelta

from django.utils import timezone

from receptionist.tools.registry import ToolRefusal, tool
from scheduling.models import FAQ, BusinessHours, ClinicSettings, Closure, Provider, Service, Weekday
from scheduling.spoken import clock_time, spoken_datetime

CLOSURES_AHEAD_DAYS = 60  # closures get_business_info mentions
_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "do", "you", "your", "is", "are", "of", "for", "to", "i", "can", "what", "how", "my",
         "and", "or", "in", "on", "at", "it", "we", "have", "has", "there", "any", "about", "me", "with", "does"}


def words(text):
    return {w.rstrip("s") for w in _WORD.findall((text or "").lower()) if w not in _STOP}


def local_now(context, clinic=None):
    clinic = clinic or ClinicSettings.load()
    return (context.now or timezone.now()).astimezone(clinic.tz)


def find_service(name):
    """The active service a caller means by `name` (slug, name, or most of its words)."""
    services = list(Service.objects.filter(is_active=True))
    wanted = (name or "").strip().lower()
    squashed = wanted.replace(" ", "").replace("-", "")
    for test in (lambda s: s.slug == wanted, lambda s: s.name.lower() == wanted,
                 lambda s: squashed and squashed in s.name.lower().replace(" ", "").replace("-", ""),
                 lambda s: s.name.lower() in wanted):
        hits = [s for s in services if test(s)]
        if hits:
            return min(hits, key=lambda s: len(s.name))
    asked = words(wanted)
    scored = sorted(((len(asked & words(s.name)), s) for s in services), key=lambda pair: -pair[0])
    if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
        return scored[0][1]
    raise ToolRefusal(f"We do not offer a service called “{name}”.", code="unknown_service",
                      services=[s.name for s in services])


def find_provider(name):
    providers = list(Provider.objects.filter(is_active=True))
    asked = words(name)
    hits = [p for p in providers if p.name.lower() == (name or "").strip().lower()] or \
           [p for p in providers if asked and asked <= words(p.name)] or \
           [p for p in providers if asked & words(p.name)]
    if len(hits) == 1:
        return hits[0]
    raise ToolRefusal(f"No single provider matches “{name}”.", code="unknown_provider",
                      providers=[p.name for p in providers])


def service_dict(service, *, brief=False):
    data = {"name": service.name, "category": service.get_category_display(),
            "duration_minutes": service.duration_minutes, "price": service.spoken_price(),
            "requires_consultation_for_new_clients": service.requires_consultation}
    if not brief:
        data.update(description=service.description, preparation=service.preparation, aftercare=service.aftercare,
                    providers=[p.name for p in service.providers.all() if p.is_active])
    return data


@tool("get_current_datetime", "The clinic's current date, weekday and time, in its own time zone.")
def get_current_datetime(*, context):
    clinic = ClinicSettings.load()
    now = local_now(context, clinic)
    return {"date": now.date().isoformat(), "weekday": f"{now:%A}", "time": f"{now:%H:%M}",
            "time_zone": clinic.time_zone, "spoken": spoken_datetime(now), "iso": now.isoformat()}


@tool(
    "get_business_info",
    "The clinic's name, address, phone, opening hours, closures, policies and the answers to frequently asked "
    "questions. Give a topic (e.g. 'parking', 'payment', 'cancellation') to get the most relevant answers.",
    {"topic": {"type": "string", "description": "What the caller asked about, in a few words."}},
)
def get_business_info(*, context, topic=""):
    clinic = ClinicSettings.load()
    now = local_now(context, clinic)
    faqs = list(FAQ.objects.filter(is_active=True))
    if topic:
        asked = words(topic)
        ranked = sorted(((len(asked & (words(f.question) | words(f.category))), f) for f in faqs),
                        key=lambda pair: -pair[0])
        matching = [f for score, f in ranked if score]
        faqs = matching[:5] or faqs
    closures = Closure.objects.filter(date__gte=now.date(), date__lte=now.date() + timedelta(days=CLOSURES_AHEAD_DAYS))
    return business_info_result(
        clinic=clinic, today=now.date(), hours=BusinessHours.objects.filter(clinic=clinic).order_by("weekday", "opens_at"),
        closures=[(c.date, c.reason) for c in closures], faqs=faqs[:20],
    )


@tool(
    "get_service_info",
    "Services (treatments) with price, duration, description, preparation and aftercare. Name one service to get "
    "its details; leave it empty to list them all.",
    {"service": {"type": "string", "description": "The treatment the caller named, e.g. 'Botox' or 'HydraFacial'."}},
)
def get_service_info(*, context, service=""):
    if service:
        try:
            return service_found_result(find_service(service))
        except ToolRefusal:
            pass
    return services_listed_result(Service.objects.filter(is_active=True), asked=service)


@tool(
    "get_provider_info",
    "The clinic's providers: title, credentials, specialties, biography and the services each performs. Filter by "
    "a provider's name or by a service.",
    {"provider": {"type": "string", "description": "A provider's name."},
     "service": {"type": "string", "description": "Only providers who perform this service."}},
)
def get_provider_info(*, context, provider="", service=""):
    providers = Provider.objects.filter(is_active=True).prefetch_related("services", "schedules")
    if provider:
        providers = [find_provider(provider)]
    if service:
        wanted = find_service(service)
        providers = [p for p in providers if wanted in p.services.all()]
    return providers_result(providers)


# --- the answers' shapes (also what the demo history records) ----------------------------------

def business_info_result(*, clinic, today, hours, closures, faqs):
    """get_business_info's answer from the rows chosen: BusinessHours rows in order, (date, reason) closures, FAQs."""
    by_day = {}
    for row in hours:
        by_day.setdefault(row.weekday, []).append(f"{clock_time(row.opens_at)} to {clock_time(row.closes_at)}")
    return {
        "clinic": {"name": clinic.name, "assistant_name": clinic.assistant_name, "phone": clinic.phone,
                   "email": clinic.email, "address": clinic.address, "website": clinic.website,
                   "time_zone": clinic.time_zone},
        "today": today.isoformat(),
        "hours": [{"day": day.label, "hours": " and ".join(by_day[day.value]) if day.value in by_day else "closed"}
                  for day in Weekday],
        "closures": [{"date": day.isoformat(), "reason": reason} for day, reason in closures],
        "policies": {"cancellation": clinic.cancellation_policy,
                     "cancellation_notice_hours": clinic.cancellation_notice_hours,
                     "min_booking_notice_minutes": clinic.min_booking_notice_minutes,
                     "booking_horizon_days": clinic.booking_horizon_days},
        "faq": [{"question": f.question, "answer": f.answer, "category": f.category} for f in faqs],
    }


def service_found_result(service):
    return {"services": [service_dict(service)], "matched": True}


def services_listed_result(services, *, asked=""):
    """Every service, briefly; with `asked`, the note that nothing matched it."""
    result = {"services": [service_dict(s, brief=True) for s in services], "matched": not asked}
    if asked:
        result["note"] = f"No service matches “{asked}”; these are all the services offered."
    return result


def providers_result(providers):
    """get_provider_info's answer (providers with their services and schedules prefetched)."""
    return {"providers": [
        {"id": p.pk, "name": p.name, "title": p.title, "credentials": p.credentials, "bio": p.bio,
         "specialties": [s.strip() for s in p.specialties.split(",") if s.strip()],
         "services": [s.name for s in p.services.all() if s.is_active],
         "working_days": sorted({Weekday(s.weekday).label for s in p.schedules.all()},
                                key=[d.label for d in Weekday].index)}
        for p in providers
    ]}
