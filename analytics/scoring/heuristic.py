"""A scorer without a model, for the embedded default (no OPENAI_API_KEY): word lists and the data.

It fills the same fields as the model so the dashboard works offline, and it says so
(scorer "heuristic"). It is deliberately plain: phrases the customer used, what the data
shows (bookings, transfers, failed tool calls), and a score built from those.
"""

import re

from communications.models import Channel, Message, Outcome, Sentiment

VERSION = "heuristic-1"

# (pattern on the customer's words, the indicator it names)
FRUSTRATION = [
    (r"\bfrustrat\w*", "said they were frustrated"),
    (r"\b(annoy\w*|irritat\w*)", "said they were annoyed"),
    (r"\b(ridiculous|unacceptable|terrible|awful|horrible)\b", "complained"),
    (r"\b(useless|not helpful|unhelpful|waste of (my )?time)\b", "said it was not helping"),
    (r"\b(i already (said|told)|i just (said|told)|like i said|are you (even )?listening)\b", "had to repeat themselves"),
    (r"\b(that'?s|this is) (not|wrong)\b|\bnot what i (asked|said|wanted)\b", "said the answer was wrong"),
    (r"\b(angry|upset|mad)\b", "said they were upset"),
]
ESCALATION = re.compile(
    r"\b((speak|talk) (to|with) (a |an |the |some)?(real |actual |live )?(person|human|someone|somebody|manager|"
    r"receptionist|staff|representative|agent)|real person|human being|(a|the) manager|operator|"
    r"representative|transfer me)\b",
    re.IGNORECASE,
)
THANKS = [
    (r"\b(thank(s| you)|appreciate it)\b", "the customer thanked Ava"),
    (r"\b(perfect|great|awesome|wonderful|excellent|amazing|lovely)\b", "the customer sounded pleased"),
]
INFO_TOOLS = {"get_business_info", "get_service_info", "get_provider_info", "check_availability", "find_appointments"}


def _found(patterns, text):
    return [label for pattern, label in patterns if re.search(pattern, text, re.IGNORECASE)]


def _repeated(customer_lines):
    seen = set()
    for line in customer_lines:
        key = re.sub(r"\W+", " ", line.lower()).strip()
        if len(key) > 8 and key in seen:
            return True
        seen.add(key)
    return False


def score_heuristically(conversation, facts):
    """The scorer's fields for one conversation, from the customer's words and the data (`facts`)."""
    customer_lines = [
        content.strip() for content in Message.objects.filter(
            conversation=conversation, author=Message.Author.CUSTOMER
        ).order_by("position", "sent_at", "id").values_list("content", flat=True) if content.strip()
    ]
    said = "\n".join(customer_lines)
    frustration = _found(FRUSTRATION, said)
    if _repeated(customer_lines):
        frustration.append("repeated the same request")
    if facts.failed_tools:
        frustration.append(f"a request failed ({', '.join(sorted(set(facts.failed_tools)))})")
    escalation_requested = bool(ESCALATION.search(said))
    if escalation_requested:
        frustration.append("asked for a person")
    frustration = list(dict.fromkeys(frustration))

    success = []
    if facts.booked_services:
        success.append("booked " + ", ".join(facts.booked_services))
    if facts.rescheduled:
        success.append("rescheduled an appointment")
    if facts.cancelled:
        success.append("cancelled an appointment as asked")
    answered = sorted(set(facts.tools_used) & INFO_TOOLS - set(facts.failed_tools))
    if answered:
        success.append("answered with " + ", ".join(answered))
    success += _found(THANKS, said)

    outcome = facts.outcome
    if not outcome:
        if escalation_requested or len(frustration) >= 2:
            outcome = Outcome.UNRESOLVED
        elif facts.failed_tools and not answered:
            outcome = Outcome.FAILED
        else:
            outcome = Outcome.INFO_ONLY

    score = 6
    if outcome in (Outcome.BOOKED, Outcome.RESCHEDULED, Outcome.CANCELLED):
        score += 2
    score += min(2, len(_found(THANKS, said)))
    score -= min(6, 2 * len(frustration))
    score = max(0, min(10, score))

    positive, negative = bool(_found(THANKS, said)), bool(frustration)
    if positive and negative:
        sentiment = Sentiment.MIXED
    elif positive:
        sentiment = Sentiment.POSITIVE
    elif negative:
        sentiment = Sentiment.NEGATIVE
    else:
        sentiment = Sentiment.NEUTRAL

    return {
        "satisfaction_score": score,
        "sentiment": str(sentiment),
        "frustration_indicators": frustration,
        "success_markers": success,
        "outcome": str(outcome),
        "summary": _summary(conversation, facts, outcome, frustration, escalation_requested),
        "escalation_requested": escalation_requested,
    }


def _summary(conversation, facts, outcome, frustration, escalation_requested):
    who = "The caller" if conversation.channel == Channel.VOICE else "The customer"
    first = {
        Outcome.BOOKED: f"{who} booked {', '.join(facts.booked_services)}.",
        Outcome.RESCHEDULED: f"{who} rescheduled an appointment.",
        Outcome.CANCELLED: f"{who} cancelled an appointment.",
        Outcome.ESCALATED: f"{who} was transferred to staff.",
        Outcome.UNRESOLVED: f"{who} did not get what they needed.",
        Outcome.FAILED: f"A request failed and {who.lower()} could not be helped.",
    }.get(outcome, f"{who} asked questions; nothing was booked.")
    if escalation_requested and outcome != Outcome.ESCALATED:
        second = "They asked for a person."
    elif frustration:
        second = f"Signs of frustration: {', '.join(frustration[:3])}."
    else:
        second = ""
    return f"{first} {second}".strip()
