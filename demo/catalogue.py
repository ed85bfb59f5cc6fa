"""The demo clinic's catalogue: settings, hours, services, providers and FAQ entries.

Rows are found by their natural keys (service slug, provider name, FAQ question)
and created when missing. Existing rows are left as they are, because `make run`
seeds on every start and must not undo what a manager changed in admin; `--reset`
deletes the demo catalogue first, so it comes back exactly as written here.
"""

from datetime import date, time, timedelta

from demo.treatments import SERVICES
from scheduling.models import FAQ, BusinessHours, ClinicSettings, Closure, Provider, ProviderSchedule, Service, Weekday

CLINIC = {
    "name": "Lumière Med Spa",
    "phone": "(212) 555-0100",
    "email": "hello@lumieremedspa.example",
    "address": "418 Madison Avenue, Suite 5B\nNew York, NY 10017",
    "website": "https://lumieremedspa.example",
    "time_zone": "America/New_York",
    "assistant_name": "Ava",
    "greeting": "",
    "persona": (
        "Warm, calm and unhurried, like a front-desk coordinator who has worked here for years. "
        "Use plain words rather than medical terms. Never diagnose and never promise results; when "
        "someone is unsure which treatment fits, offer the complimentary consultation. On the phone, "
        "keep each answer to a sentence or two and let the caller lead."
    ),
    "cancellation_policy": (
        "Please give us at least 24 hours' notice to cancel or reschedule. Cancellations with less "
        "notice, and missed appointments, carry a $50 fee, or forfeit the deposit for treatments that "
        "required one."
    ),
    "cancellation_notice_hours": 24,
    "min_booking_notice_minutes": 120,
    "booking_horizon_days": 90,
}

# The clinic's number in E.164, as SMS details and caller ID show it.
CLINIC_SMS_NUMBER = "+12125550100"

HOURS = [
    *[(day, time(9), time(19)) for day in range(Weekday.MONDAY, Weekday.FRIDAY + 1)],
    (Weekday.SATURDAY, time(10), time(17)),
]

# Weekly hours are (weekday, start, end); each day lies inside the clinic's hours.
PROVIDERS = [
    {
        "name": "Sofia Reyes",
        "title": "Nurse Practitioner, Lead Injector",
        "credentials": "MSN, APRN, FNP-C",
        "bio": (
            "Sofia has specialised in aesthetic injectables for nine years and trains other injectors for "
            "Allergan. She is known for a light hand and natural-looking lips and cheeks, and she'll tell "
            "you honestly when less is more."
        ),
        "specialties": "Botox and Dysport, lip filler, cheek and jawline contouring, PRP",
        "services": ["consultation", "botox", "dermal-fillers", "prp-facial", "microneedling"],
        "schedule": [
            (Weekday.MONDAY, time(9), time(17)),
            (Weekday.TUESDAY, time(9), time(17)),
            (Weekday.THURSDAY, time(11), time(19)),
            (Weekday.FRIDAY, time(9), time(17)),
            (Weekday.SATURDAY, time(10), time(15)),
        ],
    },
    {
        "name": "Hannah Cole",
        "title": "Lead Aesthetician",
        "credentials": "LE, CLT",
        "bio": (
            "Hannah is a licensed aesthetician and certified laser technician with a background in "
            "dermatology practices. She builds skin plans around HydraFacials, peels and microneedling, "
            "and runs our laser hair removal programme."
        ),
        "specialties": "HydraFacial, chemical peels, microneedling, laser hair removal, acne scarring",
        "services": ["consultation", "hydrafacial", "chemical-peel", "microneedling", "laser-hair-removal"],
        "schedule": [
            (Weekday.MONDAY, time(10), time(19)),
            (Weekday.WEDNESDAY, time(9), time(19)),
            (Weekday.THURSDAY, time(10), time(19)),
            (Weekday.FRIDAY, time(10), time(19)),
            (Weekday.SATURDAY, time(10), time(17)),
        ],
    },
    {
        "name": "Marcus Bennett",
        "title": "Physician Assistant",
        "credentials": "PA-C",
        "bio": (
            "Marcus spent six years in plastic surgery before joining Lumière. He leads our body contouring "
            "and also treats with Botox, fillers and lasers; many of our male clients ask for him."
        ),
        "specialties": "CoolSculpting, Botox for men, jawline filler, laser hair removal",
        "services": [
            "consultation", "botox", "dermal-fillers", "coolsculpting", "laser-hair-removal", "prp-facial",
        ],
        "schedule": [
            (Weekday.MONDAY, time(9), time(18)),
            (Weekday.TUESDAY, time(10), time(19)),
            (Weekday.WEDNESDAY, time(9), time(18)),
            (Weekday.FRIDAY, time(11), time(19)),
        ],
    },
]

FAQS = [
    (FAQ.Category.POLICIES, "What is your cancellation policy?",
     "We ask for 24 hours' notice to cancel or reschedule. Later cancellations and missed appointments "
     "carry a $50 fee, or forfeit the deposit for treatments that required one."),
    (FAQ.Category.POLICIES, "Do I need a deposit to book?",
     "Only for dermal fillers, CoolSculpting and the PRP facial: a $100 deposit, applied to your "
     "treatment. Everything else is booked without one."),
    (FAQ.Category.POLICIES, "Is there an age requirement?",
     "Clients must be 18 or older for injectables, lasers and peels. Teens aged 14 to 17 may have "
     "HydraFacials with a parent or guardian present."),
    (FAQ.Category.PARKING, "Where do I park?",
     "The Icon garage at 125 East 48th Street, half a block away, validates for two hours with us; bring "
     "your ticket to the front desk. Street parking is metered."),
    (FAQ.Category.PARKING, "How do I get there by subway?",
     "Grand Central–42nd Street (4, 5, 6, 7 and S trains) is a five-minute walk. We're on Madison between "
     "47th and 48th, fifth floor, Suite 5B."),
    (FAQ.Category.FIRST_VISIT, "What should I expect at my first visit?",
     "Please arrive 10 minutes early to fill in a short health questionnaire and consent form. Your "
     "provider will go over your goals before any treatment, and there is never pressure to buy."),
    (FAQ.Category.FIRST_VISIT, "Can I get a treatment the same day as my consultation?",
     "Usually yes for Botox, facials and peels if time allows. Fillers and CoolSculpting need a "
     "consultation first for new clients, and we'll book the treatment for another day if needed."),
    (FAQ.Category.PAYMENT, "What forms of payment do you accept?",
     "Visa, Mastercard, American Express, Discover, Apple Pay, HSA and FSA cards, and Cherry financing. "
     "We don't take checks."),
    (FAQ.Category.PAYMENT, "Do you offer financing?",
     "Yes, through Cherry: plans from 3 to 24 months, with 0% options for qualifying purchases. Applying "
     "takes about a minute and doesn't affect your credit score."),
    (FAQ.Category.PAYMENT, "Does insurance cover your treatments?",
     "Aesthetic treatments aren't covered by insurance, but HSA and FSA cards can often be used for "
     "medical treatments such as Botox for migraines; check with your plan."),
    (FAQ.Category.PROMOTIONS, "Do you have any specials right now?",
     "New clients get $50 off their first HydraFacial, and Botox is $12 a unit instead of $14 on the "
     "first Tuesday of each month. Members of the Lumière Glow Club save 10% on everything."),
    (FAQ.Category.PROMOTIONS, "Do you have a referral programme?",
     "Yes: when a friend you refer completes their first treatment, you both get a $50 credit."),
    (FAQ.Category.PROMOTIONS, "Do you sell gift cards?",
     "Yes, in any amount, at the front desk or on our website; they never expire."),
]


def upcoming_closures(today):
    """The next Thanksgiving, Christmas Day and New Year's Day on or after `today`."""

    def thanksgiving(year):
        first = date(year, 11, 1)
        first_thursday = first + timedelta(days=(Weekday.THURSDAY - first.weekday()) % 7)
        return first_thursday + timedelta(weeks=3)

    def next_of(make):
        return make(today.year) if make(today.year) >= today else make(today.year + 1)

    return [
        (next_of(thanksgiving), "Thanksgiving"),
        (next_of(lambda year: date(year, 12, 25)), "Christmas Day"),
        (next_of(lambda year: date(year + 1, 1, 1)), "New Year's Day"),
    ]


def demo_catalogue_filter():
    """Lookups for the demo catalogue rows, for --reset."""
    return {
        "services": Service.objects.filter(slug__in=[s["slug"] for s in SERVICES]),
        "providers": Provider.objects.filter(name__in=[p["name"] for p in PROVIDERS]),
        "faqs": FAQ.objects.filter(question__in=[question for _, question, _ in FAQS]),
    }


def ensure_catalogue(*, today, overwrite_clinic=False):
    """Create what is missing of the demo clinic; return counts of rows created."""
    created = {"services": 0, "providers": 0, "faqs": 0, "hours": 0, "closures": 0}
    clinic = ClinicSettings.load()
    # Fill the clinic only while it still has the defaults of a fresh install.
    if overwrite_clinic or (clinic.name == ClinicSettings._meta.get_field("name").default and not clinic.phone):
        for field, value in CLINIC.items():
            setattr(clinic, field, value)
        clinic.save()

    if not clinic.hours.exists():
        BusinessHours.objects.bulk_create(
            BusinessHours(clinic=clinic, weekday=day, opens_at=opens, closes_at=closes) for day, opens, closes in HOURS
        )
        created["hours"] = len(HOURS)

    for day, reason in upcoming_closures(today):
        _, new = Closure.objects.get_or_create(date=day, defaults={"clinic": clinic, "reason": reason})
        created["closures"] += new

    services = {}
    for spec in SERVICES:
        fields = {key: value for key, value in spec.items() if key != "slug"}
        services[spec["slug"]], new = Service.objects.get_or_create(slug=spec["slug"], defaults=fields)
        created["services"] += new

    for spec in PROVIDERS:
        fields = {key: spec[key] for key in ("title", "credentials", "bio", "specialties")}
        provider, new = Provider.objects.get_or_create(name=spec["name"], defaults=fields)
        if new:
            provider.services.set([services[slug] for slug in spec["services"]])
            ProviderSchedule.objects.bulk_create(
                ProviderSchedule(provider=provider, weekday=day, starts_at=start, ends_at=end)
                for day, start, end in spec["schedule"]
            )
            created["providers"] += 1

    for order, (category, question, answer) in enumerate(FAQS):
        _, new = FAQ.objects.get_or_create(
            question=question, defaults={"category": category, "answer": answer, "display_order": order}
        )
        created["faqs"] += new
    return clinic, created
