"""The demo clinic's treatments: what a real New York med spa offers, charges, and tells clients before and after."""

from decimal import Decimal

from scheduling.models import Service

SERVICES = [
    {
        "slug": "consultation",
        "name": "Consultation",
        "category": Service.Category.CONSULTATION,
        "duration_minutes": 30,
        "buffer_minutes": 0,
        "price_min": None,
        "price_max": None,
        "price_text": "complimentary",
        "description": (
            "A relaxed, no-obligation visit with one of our providers to talk through your goals, look at "
            "your skin or the area you'd like to treat, and put together a plan with honest pricing. "
            "Required before dermal fillers and CoolSculpting for new clients."
        ),
        "preparation": (
            "Come with a clean face if we'll be looking at your skin. Bring a list of medications and any "
            "photos of results you like."
        ),
        "aftercare": "Nothing to do afterwards. Your plan and quote are emailed to you the same day.",
        "requires_consultation": False,
        "display_order": 0,
    },
    {
        "slug": "botox",
        "name": "Botox",
        "category": Service.Category.INJECTABLES,
        "duration_minutes": 30,
        "buffer_minutes": 10,
        "price_min": Decimal("300"),
        "price_max": Decimal("600"),
        "price_text": "$14 a unit; most visits come to $300 to $600 depending on the areas treated",
        "description": (
            "Botox relaxes the muscles behind expression lines: forehead lines, frown lines between the "
            "brows and crow's feet. Treatment takes about 15 minutes, results show in 3 to 14 days and "
            "last three to four months. A free two-week touch-up is included for first-time clients."
        ),
        "preparation": (
            "Avoid alcohol, fish oil, ibuprofen and aspirin for 24 hours beforehand to lower the chance of "
            "bruising. Come without makeup on the areas being treated."
        ),
        "aftercare": (
            "Stay upright and skip exercise, facials and massage for 4 hours. Don't rub the treated areas "
            "the rest of the day. Small bumps fade within 30 minutes."
        ),
        "requires_consultation": False,
        "display_order": 10,
    },
    {
        "slug": "dermal-fillers",
        "name": "Dermal fillers",
        "category": Service.Category.INJECTABLES,
        "duration_minutes": 45,
        "buffer_minutes": 15,
        "price_min": Decimal("600"),
        "price_max": Decimal("1200"),
        "price_text": "$600 to $1,200 a syringe depending on the filler; most lip treatments take one syringe",
        "description": (
            "Hyaluronic acid fillers (Juvéderm and Restylane) restore volume and shape to lips, cheeks, "
            "jawline and under-eyes and soften deeper folds. Results are immediate and last 6 to 18 "
            "months depending on the area. New clients start with a complimentary consultation."
        ),
        "preparation": (
            "Avoid alcohol, fish oil, ibuprofen and aspirin for 48 hours beforehand. If you get cold sores, "
            "tell us before a lip treatment so we can prescribe a preventive. Avoid dental work two weeks "
            "either side of treatment."
        ),
        "aftercare": (
            "Expect some swelling and possibly bruising for 2 to 5 days; a cold compress helps. Skip "
            "strenuous exercise, saunas and alcohol for 24 hours. Call us right away about pain, blanching "
            "or skin colour changes."
        ),
        "requires_consultation": True,
        "display_order": 20,
    },
    {
        "slug": "laser-hair-removal",
        "name": "Laser hair removal",
        "category": Service.Category.LASER,
        "duration_minutes": 30,
        "buffer_minutes": 10,
        "price_min": Decimal("150"),
        "price_max": Decimal("450"),
        "price_text": (
            "$150 a session for small areas like the upper lip or underarms, up to $450 for full legs; "
            "a package of six sessions saves 20 percent"
        ),
        "description": (
            "Laser hair removal with a Candela GentleMax Pro, safe for light and darker skin tones. Most "
            "people need six to eight sessions, four to six weeks apart, for lasting reduction. Small areas "
            "take about 15 minutes."
        ),
        "preparation": (
            "Shave the area the day before, but don't wax, pluck or thread for four weeks beforehand. Avoid "
            "sun and self-tanner for two weeks, and come without lotion or deodorant on the area."
        ),
        "aftercare": (
            "Mild redness for a few hours is normal. Use SPF 30 or higher and avoid hot tubs and heavy "
            "workouts for 24 hours. Treated hairs shed over the next two weeks."
        ),
        "requires_consultation": False,
        "display_order": 30,
    },
    {
        "slug": "hydrafacial",
        "name": "HydraFacial",
        "category": Service.Category.FACIALS,
        "duration_minutes": 60,
        "buffer_minutes": 15,
        "price_min": Decimal("199"),
        "price_max": Decimal("299"),
        "price_text": "$199 for the Signature HydraFacial, or $299 for the Deluxe with a booster and LED light therapy",
        "description": (
            "A three-step treatment that cleanses and exfoliates, extracts, and hydrates with antioxidants "
            "and peptides. No downtime, so skin looks bright straight away; great before an event."
        ),
        "preparation": (
            "Stop retinol and exfoliating acids 48 hours beforehand. Avoid waxing the face for a week before."
        ),
        "aftercare": (
            "Skip makeup for 6 hours if you can, and retinol and exfoliants for 48 hours. Wear sunscreen."
        ),
        "requires_consultation": False,
        "display_order": 40,
    },
    {
        "slug": "chemical-peel",
        "name": "Chemical peel",
        "category": Service.Category.FACIALS,
        "duration_minutes": 45,
        "buffer_minutes": 15,
        "price_min": Decimal("150"),
        "price_max": Decimal("350"),
        "price_text": "$150 for a light glycolic peel, up to $350 for a medium-depth VI Peel",
        "description": (
            "Medical-grade peels that even out tone, fade sun spots and acne marks and smooth fine lines. "
            "Light peels have little downtime; a medium peel flakes for five to seven days."
        ),
        "preparation": (
            "Stop retinol, acids and scrubs five days beforehand, and avoid sun and waxing for a week. Tell "
            "us if you've taken isotretinoin (Accutane) in the past six months."
        ),
        "aftercare": (
            "Let the skin peel on its own; don't pick. Use a gentle cleanser, moisturiser and SPF 30 or "
            "higher daily, and avoid retinol for a week."
        ),
        "requires_consultation": False,
        "display_order": 50,
    },
    {
        "slug": "microneedling",
        "name": "Microneedling",
        "category": Service.Category.FACIALS,
        "duration_minutes": 60,
        "buffer_minutes": 15,
        "price_min": Decimal("350"),
        "price_max": Decimal("950"),
        "price_text": "$350 a session, or $950 for a series of three",
        "description": (
            "SkinPen microneedling stimulates collagen to soften acne scars, fine lines and large pores. "
            "Numbing cream is applied first. Most clients do three sessions, four to six weeks apart."
        ),
        "preparation": (
            "Stop retinol and exfoliants five days beforehand and avoid sunburn. Come with a clean face; "
            "plan on arriving 15 minutes early for numbing."
        ),
        "aftercare": (
            "Skin looks sunburned for one to three days. No makeup for 24 hours, no sweating or swimming "
            "for 48 hours, and wear SPF daily."
        ),
        "requires_consultation": False,
        "display_order": 60,
    },
    {
        "slug": "coolsculpting",
        "name": "CoolSculpting",
        "category": Service.Category.BODY,
        "duration_minutes": 60,
        "buffer_minutes": 15,
        "price_min": Decimal("750"),
        "price_max": Decimal("1500"),
        "price_text": "$750 to $1,500 per area, per session, depending on the applicator",
        "description": (
            "Non-surgical fat reduction by controlled cooling for the abdomen, flanks, thighs and under the "
            "chin. Each area takes about an hour; results appear over one to three months. New clients "
            "start with a complimentary consultation to confirm they're a good candidate."
        ),
        "preparation": (
            "Wear comfortable clothes and eat a light meal beforehand. Bring a book or a laptop; you can "
            "relax during the treatment."
        ),
        "aftercare": (
            "The area may be numb, tingly or tender for a few weeks; gentle massage helps. Return to normal "
            "activity straight away."
        ),
        "requires_consultation": True,
        "display_order": 70,
    },
    {
        "slug": "prp-facial",
        "name": "PRP facial",
        "category": Service.Category.FACIALS,
        "duration_minutes": 90,
        "buffer_minutes": 15,
        "price_min": Decimal("800"),
        "price_max": Decimal("1000"),
        "price_text": "$800, or $1,000 with under-eye PRP",
        "description": (
            "Microneedling combined with platelet-rich plasma from a small draw of your own blood (the "
            "so-called vampire facial) to boost texture, tone and glow. Includes numbing; allow 90 minutes."
        ),
        "preparation": (
            "Drink plenty of water the day before and the morning of, and eat beforehand. Avoid ibuprofen "
            "and aspirin for a week, and retinol for five days."
        ),
        "aftercare": (
            "Leave the plasma on until the next morning. Expect redness for one to three days. No makeup "
            "for 24 hours and no workouts for 48 hours."
        ),
        "requires_consultation": False,
        "display_order": 80,
    },
]
