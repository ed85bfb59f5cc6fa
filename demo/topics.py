"""What people ask about besides booking, and where Ava's answer comes from (the catalogue, the FAQ).

Each topic returns the question (per channel), the tool call behind the answer, the answer, and
words for the summary and an email subject.
"""

from demo import tools
from demo.scene import first_sentence


def faq(s, category, index=0):
    """The FAQ entry a topic answers from (the last of its category when there are fewer)."""
    entries = s.catalogue.faqs.get(category, [])
    return entries[min(index, len(entries) - 1)] if entries else None


def topic_price(s):
    service = s.wanted_service()
    phrase = s.phrase(service)
    answer = f"{s.costs(service)}. {first_sentence(service.description)}"
    if service.requires_consultation:
        answer += " New clients start with a complimentary consultation."
    return {
        "question": s.by_channel(
            [f"How much is {phrase}?", f"I was wondering how much {phrase} costs.", f"What do you charge for {phrase}?"],
            [f"How much is {phrase}?", f"hi what's the price for {phrase}", f"How much do you charge for {phrase}?"],
            f"Could you tell me how much {phrase} costs at your clinic, and how long it takes?",
        ),
        "tool": tools.service_info(s, service),
        "answer": answer,
        "label": f"the price of {s.named(service)}",
        "subject": f"{service.name} pricing",
    }


def topic_hours(s):
    closures = [
        (day, reason) for day, reason in s.catalogue.closures if 0 <= (day - s.local_day).days <= 21
    ]
    answer = f"We're open {s.catalogue.hours_text}. We're closed on Sundays."
    for day, reason in closures[:1]:
        answer += f" Just so you know, we'll be closed {day:%A}, {day:%B} {day.day} for {reason}."
    return {
        "question": s.by_channel(
            ["What are your hours?", "Are you open on weekends?", "How late are you open during the week?"],
            ["what are your hours?", "Are you open Saturdays?", "how late are you open?"],
            "What are your opening hours? I work weekdays, so I'm wondering about evenings and weekends.",
        ),
        "tool": tools.business_info(s, "opening hours"),
        "answer": answer,
        "label": "opening hours",
        "subject": "Opening hours",
    }


def _faq_topic(category, index, questions, label, subject, topic_words):
    def topic(s):
        entry = faq(s, category, index)
        answer = entry.answer if entry else f"I'll have someone from {s.clinic.name} get back to you on that."
        return {
            "question": s.by_channel(*questions),
            "tool": tools.business_info(s, topic_words, [entry] if entry else []),
            "answer": answer,
            "label": label,
            "subject": subject,
        }

    return topic


topic_parking = _faq_topic(
    "parking", 0,
    (["Where do I park when I come in?", "Is there parking near you?"], ["is there parking nearby?", "Where should I park?"],
     "Is there parking near you? I'll be driving in from New Jersey."),
    "parking", "Parking", "parking",
)
topic_subway = _faq_topic(
    "parking", 1,
    (["What's the closest subway stop?"], ["what subway is closest to you?"], "How do I get to you by subway?"),
    "directions", "Directions", "subway directions",
)
topic_promotions = _faq_topic(
    "promotions", 0,
    (["Do you have any specials going on right now?"], ["Any deals right now?", "do you have any promos this month?"],
     "Are you running any specials at the moment? I'm a new client."),
    "current specials", "Specials", "specials promotions",
)
topic_gift_cards = _faq_topic(
    "promotions", 2,
    (["Do you sell gift cards? It's for my sister's birthday."], ["do you do gift cards?"],
     "Do you sell gift cards? I'd like to get one for my mom for the holidays."),
    "gift cards", "Gift cards", "gift cards",
)
topic_financing = _faq_topic(
    "payment", 1,
    (["Do you offer any kind of payment plan?"], ["do you have payment plans?", "Can I pay in installments?"],
     "Do you offer financing? I'm interested in CoolSculpting but would rather spread the cost."),
    "financing", "Financing", "financing payment plans",
)
topic_payment = _faq_topic(
    "payment", 0,
    (["What kinds of payment do you take? Can I use my HSA card?"], ["do you take apple pay?"],
     "Which payment methods do you accept? Can I use my FSA card?"),
    "payment methods", "Payment", "payment methods",
)
topic_first_visit = _faq_topic(
    "first_visit", 0,
    (["It'd be my first time getting anything done. What should I expect?"],
     ["first time here, what should I expect at the first visit?"],
     "I've never had any aesthetic treatment before. What happens at a first visit?"),
    "what to expect at a first visit", "First visit", "first visit",
)


def topic_aftercare(s):
    service = s.wanted_service()
    return {
        "question": s.by_channel(
            [f"Is there any downtime after {s.phrase(service)}?", f"How long does it take to recover from {s.phrase(service)}?"],
            [f"is there downtime after {s.phrase(service)}?", f"Can I go back to work after {s.phrase(service)}?"],
            f"I have a busy few weeks coming up. Is there any downtime after {s.phrase(service)}?",
        ),
        "tool": tools.service_info(s, service),
        "answer": service.aftercare,
        "label": f"downtime after {s.named(service)}",
        "subject": f"Downtime after {service.name}",
    }


def topic_preparation(s):
    service = s.wanted_service()
    return {
        "question": s.by_channel(
            [f"Is there anything I should do before {s.phrase(service)}?"],
            [f"anything I need to do before {s.phrase(service)}?"],
            f"I'm thinking about {s.phrase(service)}. Is there anything I should do to prepare?",
        ),
        "tool": tools.service_info(s, service),
        "answer": service.preparation,
        "label": f"preparing for {s.named(service)}",
        "subject": f"Preparing for {service.name}",
    }


def topic_providers(s):
    service = s.service(s.pick("botox", "dermal-fillers", "microneedling"))
    providers = s.calendar.providers_for(service)
    names = " and ".join(p.name for p in providers)
    answer = f"{service.name} is done by {names}. " + " ".join(first_sentence(p.bio) for p in providers[:2])
    return {
        "question": s.by_channel(
            [f"Who does your {s.phrase(service)}? I want someone really experienced."],
            [f"who does {s.phrase(service)} there?"],
            f"Could you tell me about the providers who do {s.phrase(service)}? I'd like someone experienced.",
        ),
        "tool": tools.provider_info(s, service),
        "answer": answer,
        "label": f"who does {s.named(service)}",
        "subject": "Your providers",
    }


def topic_pain(s):
    service = s.service("laser-hair-removal")
    return {
        "question": s.by_channel(["Does laser hair removal hurt?"], ["does laser hurt??"], "How painful is laser hair removal? I have a low pain tolerance."),
        "tool": tools.service_info(s, service),
        "answer": (
            "Most people describe it as a rubber band snapping against the skin, and each pulse is over in a "
            "moment. Our laser cools the skin as it works, and we can use numbing cream on sensitive areas."
        ),
        "label": "whether laser hair removal hurts",
        "subject": "Laser hair removal question",
    }


TOPICS = [
    (topic_price, 30), (topic_hours, 12), (topic_parking, 8), (topic_subway, 3), (topic_promotions, 8),
    (topic_gift_cards, 4), (topic_financing, 5), (topic_payment, 4), (topic_first_visit, 6),
    (topic_aftercare, 8), (topic_preparation, 6), (topic_providers, 5), (topic_pain, 4),
]


def ask(s, topic, *, opening, lead_in=""):
    """The customer asks about `topic`; Ava looks it up and answers, in the channel's manner."""
    question = topic["question"]
    if lead_in:
        question = f"{lead_in} {question[0].lower()}{question[1:]}"
    if s.email:
        s.customer_email(question, subject=topic["subject"] if opening else None)
    else:
        s.customer(f"Hi, quick question. {question}" if opening and s.voice and s.rng.random() < 0.3 else question)
    s.tool(*topic["tool"])
    if s.email:
        s.assistant_email(f"{topic['answer']}\n\nIf you'd like to come in, just reply with a day and time that suits you and I'll check what's open.")
    elif s.sms and opening:
        s.assistant(f"Hi{' ' + s.first if s.known else ''}! {topic['answer']}")
    else:
        s.assistant(topic["answer"])
