"""Conversations that book nothing: questions answered, escalations, abandoned, unresolved and failed ones."""

from datetime import timedelta

from demo import tools
from demo.scene import Script, first_sentence
from demo.topics import TOPICS, ask


# --- information only -------------------------------------------------------


def info(s):
    count = 1 if s.rng.random() < 0.55 else 2
    picks = []
    while len(picks) < count:
        topic = s.rng.choices([t for t, _ in TOPICS], weights=[w for _, w in TOPICS])[0]
        if topic not in picks:
            picks.append(topic)
    if s.voice:
        s.greet()
    labels = []
    for index, make in enumerate(picks):
        topic = make(s)
        labels.append(topic["label"])
        lead_in = s.pick("Okay. And one more thing:", "Got it. Oh, also,", "Great. Another question:") if index and s.voice else ""
        ask(s, topic, opening=index == 0, lead_in=lead_in)
    if s.voice:
        s.customer(s.pick(
            "Okay, great. I'll think about it and call back to book.", "Perfect, that's all I needed. Thank you!",
            "Got it, thanks so much.", "Great, that's really helpful. Thanks!",
        ))
        s.goodbye(s.pick("You're welcome! Call or text us anytime. Have a lovely day.", "My pleasure. Take care!"))
    elif s.sms and s.rng.random() < 0.6:
        s.customer(s.pick("ok thanks!", "Great, thank you", "perfect 👍", "Thanks!"))
    elif s.email and s.rng.random() < 0.4:
        s.customer_email(s.pick("That's very helpful, thank you. I'll be in touch to book.", "Perfect, thanks for the quick reply!"))
    satisfaction = s.pick(7, 8, 8, 9, 9, 10)
    return Script(
        outcome="info_only",
        satisfaction=satisfaction,
        sentiment="positive" if satisfaction >= 8 else "neutral",
        summary=f"Asked about {' and '.join(labels)}; answered from the clinic's information. No booking.",
        success=["answered from the clinic's information", *(["offered to book"] if s.email else [])],
        end_reason="assistant_ended",
    )




# --- escalations, and conversations that went nowhere ---------------------------


def escalated(s):
    kind = s.pick("complication", "billing", "result", "pregnancy", "person")
    service = s.service({"complication": "dermal-fillers", "billing": "hydrafacial", "result": "botox",
                         "pregnancy": "chemical-peel", "person": s.pick("botox", "coolsculpting")}[kind])
    providers = s.calendar.providers_for(service) or s.catalogue.providers
    provider = s.rng.choice(providers)
    who = provider.name.split()[0]
    past = s.pick("on Monday", "last week", "a few days ago", "on Saturday")
    urgent = False
    if kind == "complication":
        urgent = True
        said = f"I had lip filler with {who} {past} and one side is still really swollen, and it looks kind of bluish. Is that normal?"
        reply = (
            "Thank you for telling me. Some swelling is normal after filler, but a bluish or pale colour needs to be "
            f"looked at right away. If you have severe pain or the colour is spreading, please call 911 now. I've flagged "
            f"this as urgent, and {who} or another of our clinical team will call you back as soon as possible."
        )
        reason = f"Possible filler complication: swelling and bluish colour on one side of the lip, treated by {provider.name} {past}."
        now = ("Thank you for telling me. A bluish or pale colour needs to be looked at right away; if you have severe "
               "pain or the colour is spreading, please call 911. I'm putting you through to the front desk now so our "
               "clinical team can help.")
        sentiment, satisfaction, frustration = "negative", s.pick(5, 6, 7), ["worried about a reaction after treatment"]
    elif kind == "billing":
        said = f"I was charged twice for my HydraFacial {past}. I'd like one of the charges refunded."
        reply = ("I'm sorry about that. I can't see payment records, so I've passed this to our front-desk manager, "
                 "who can check and refund any duplicate charge. They'll call you back today during opening hours.")
        reason = f"Says they were charged twice for a HydraFacial {past}; wants the duplicate refunded."
        now = "I'm sorry about that. I can't see payment records, so I'm putting you through to the front desk now."
        sentiment, satisfaction, frustration = "negative", s.pick(5, 6), ["charged twice", "assistant could not see payments"]
    elif kind == "result":
        said = f"I got Botox {s.pick('two weeks ago', 'a couple of weeks ago', 'about three weeks ago')} and my forehead still moves completely. Honestly I'm pretty disappointed."
        reply = (
            "I'm sorry it hasn't worked the way you hoped. It can take up to 14 days to see the full effect, and "
            f"first-time clients get a free touch-up at two weeks. I've asked {who} to call you back to look at it and set that up."
        )
        reason = "Unhappy with a Botox result after two weeks; wants it looked at (free touch-up may apply)."
        now = ("I'm sorry it hasn't worked the way you hoped. First-time clients get a free touch-up at two weeks; "
               "I'm putting you through to the front desk now to set that up.")
        sentiment, satisfaction, frustration = "mixed", s.pick(4, 5, 6), ["treatment did not work as expected"]
    elif kind == "pregnancy":
        said = "I have a peel booked next week but I just found out I'm pregnant. Can I still do it?"
        reply = (
            "Congratulations! That's a question for our clinical team rather than me, since it depends on the peel. "
            f"I've passed it to {who}, who will call you back before your appointment."
        )
        reason = "Newly pregnant; asks whether her chemical peel next week is safe."
        now = "Congratulations! That's a question for our clinical team. I'm putting you through to the front desk now."
        sentiment, satisfaction, frustration = "positive", s.pick(7, 8), []
    else:
        said = f"I have some questions about {service.name} and my medical history. Can I talk to a real person, please?"
        reply = f"Of course. I've asked our team to call you back; they can bring in {who} for the medical questions."
        reason = f"Wants to talk to a person about {service.name} and their medical history."
        now = "Of course. I'm putting you through to the front desk now."
        sentiment, satisfaction, frustration = "neutral", s.pick(6, 7), ["asked for a person"]

    # A phone call while the front desk is open is put through, as transfer_to_staff does on the phone.
    put_through = s.phone and s.desk_open()

    def hand_over():
        s.event("escalated", reason=reason, urgent=urgent, channel=s.channel)
        s.event("staff_task", kind="callback", reason=reason, urgent=urgent, phone="",
                requested_at=s.local(s.at).isoformat())
        s.tool(*(tools.put_through if put_through else tools.transfer)(s, reason=reason, urgent=urgent))

    if put_through:
        s.greet()
        s.customer(said)
        hand_over()
        s.assistant(now)  # the line takes the call to the desk once she has said it; the desk answered
        return Script(
            outcome="escalated", satisfaction=satisfaction, sentiment=sentiment, escalated=True,
            summary=f"{s.full}: {reason[0].lower()}{reason[1:]} Put through to the front desk"
                    + (", flagged urgent." if urgent else "."),
            frustration=frustration, success=["escalated promptly", "put through to the front desk at once"],
            end_reason="transferred", transfer_outcome="completed",
        )
    if s.voice:
        s.greet()
        s.customer(said)
        hand_over()
        s.assistant(f"{reply} Is this number the best one to reach you?")
        s.customer(s.pick("Yes, this is my cell.", "Yes. Thank you.", "Yes, please call soon."))
        s.goodbye("Thank you. Someone will be in touch very soon. Take care.")
    elif s.sms:
        s.customer(said)
        hand_over()
        s.assistant(reply)
        s.customer(s.pick("Ok thank you", "ok", "Thanks, I'll wait for the call"))
    else:
        s.customer_email(said, subject=s.pick("Question after my treatment", "Concern", "Need help", "Please call me"))
        hand_over()
        s.assistant_email(reply)
    return Script(
        outcome="escalated", satisfaction=satisfaction, sentiment=sentiment, escalated=True,
        summary=f"{s.full}: {reason[0].lower()}{reason[1:]} Passed to staff for a callback" + (", flagged urgent." if urgent else "."),
        frustration=frustration, success=["escalated promptly", "set expectations for the callback"],
        end_reason="assistant_ended",
    )


def abandoned(s):
    if s.sms:
        service = s.wanted_service()
        asks_price = s.rng.random() < 0.5
        s.customer(f"how much is {s.phrase(service)}" if asks_price else f"Hi, do you do {s.phrase(service)}?")
        s.tool(*tools.service_info(s, service))
        s.assistant(f"Hi! {'' if asks_price else 'Yes, we do. '}{s.costs(service)}. Would you like me to find you a time?")
        return Script(
            outcome="abandoned", satisfaction=5, sentiment="neutral",
            summary=f"Asked about {s.named(service)} by text and did not reply to the offer to book.",
            success=["answered the price question"],
        )
    s.greet()
    kind = s.pick("trailed_off", "price", "silence")
    if kind == "trailed_off":
        s.customer(s.pick("Hi, um, I was wondering about—", "Hi, yeah, so I was calling to, uh—"))
        s.assistant("Sorry, I think I lost you there. Are you still there?")
        summary, frustration = "The caller started a question and hung up before finishing it.", []
    elif kind == "price":
        service = s.wanted_service()
        s.customer(f"How much is {s.phrase(service)}?")
        s.tool(*tools.service_info(s, service))
        s.assistant(f"{s.costs(service)}. Would you like me to see what's open this week?")
        s.event("interruption", audio_end_ms=s.rng.randint(900, 2600))
        s.customer("Oh. Okay, never mind.")
        summary, frustration = f"Hung up after hearing the price of {s.named(service)}.", ["price higher than expected"]
    else:
        s.customer("Hello?")
        s.assistant(f"Hi, this is {s.clinic.assistant_name} at {s.clinic.name}. How can I help?")
        summary, frustration = "The caller said hello and hung up.", []
    return Script(
        outcome="abandoned", satisfaction=s.pick(4, 5, 5, 6), sentiment="neutral", summary=summary,
        frustration=frustration, end_reason="caller_hung_up",
    )


NOT_OFFERED = [
    ("Morpheus8", "microneedling", "We don't offer Morpheus8, I'm sorry. The closest treatment we have is SkinPen microneedling"),
    ("tattoo removal", None, "We don't do tattoo removal, I'm sorry; you'd need a clinic with a picosecond laser"),
    ("IV vitamin drips", None, "We don't offer IV drips, I'm sorry"),
    ("Emsculpt", "coolsculpting", "We don't offer Emsculpt, I'm sorry. For body contouring we have CoolSculpting"),
]


def unresolved(s):
    if s.rng.random() < 0.5:
        service = s.wanted_service()
        latest = s.calendar.search(service=service, first_day=s.local_day + timedelta(days=1), days=7,
                                   earliest=s.at + timedelta(hours=2))
        last_slot = max((when for _, when in latest), key=lambda when: s.local(when).time(), default=None)
        ask = s.by_channel(
            f"Do you have anything after 7 on weekdays, or on Sundays? I work until 6:30 and want {s.phrase(service)}.",
            f"do you have anything after 7pm or on sunday for {s.phrase(service)}? I work till 6:30",
            f"I'd like {s.phrase(service)} but I work until 6:30 on weekdays. Do you have any evening or Sunday appointments?",
        )
        later = f" The latest opening I have this week is {s.when(last_slot)}." if last_slot else ""
        answer = f"I'm sorry, we're open {s.catalogue.hours_text}. We're closed on Sundays, so there's nothing in the evening or on a Sunday.{later}"
        tool = tools.availability(s, service, s.local_day + timedelta(days=1), [], part_of_day="evening")
        reply = s.by_channel(
            "That won't work for me, I'll have to figure something out. Thanks anyway.",
            "ugh ok, I'll figure it out. thanks",
            "Unfortunately that doesn't work with my schedule. I'll keep an eye out in case you extend your hours.",
        )
        summary = f"Wanted {s.named(service)} in the evening or on a Sunday; nothing fits their work hours. No booking."
        frustration = ["no evening or Sunday availability"]
        subject = "Evening appointments?"
    else:
        asked, alternative, answer = s.rng.choice(NOT_OFFERED)
        if alternative:
            other = s.service(alternative)
            answer += f": {first_sentence(other.description)[0].lower()}{first_sentence(other.description)[1:]}"
        answer += "."
        ask = s.by_channel(f"Do you do {asked}?", f"hi do you offer {asked}?", f"Do you offer {asked}? I'd like to get a price.")
        tool = tools.service_not_offered(s, asked)
        reply = s.by_channel("Okay, that's not really what I'm looking for. Thanks.", "ok thanks", "Thanks, I'll look elsewhere for that.")
        summary = f"Asked for {asked}, which the clinic doesn't offer. No booking."
        frustration = ["service not offered"]
        subject = asked.capitalize()
    if s.voice:
        s.greet()
        s.customer(ask)
        s.tool(*tool)
        s.assistant(answer + " Is there anything else I can help with?")
        s.customer(reply)
        s.goodbye("I understand. Thank you for calling, and take care.")
    elif s.sms:
        s.customer(ask)
        s.tool(*tool)
        s.assistant(answer)
        s.customer(reply)
    else:
        s.customer_email(ask, subject=subject)
        s.tool(*tool)
        s.assistant_email(answer)
        s.customer_email(reply)
    satisfaction = s.pick(4, 5, 5, 6)
    return Script(
        outcome="unresolved", satisfaction=satisfaction, sentiment=s.pick("mixed", "neutral", "negative"),
        summary=summary, frustration=frustration, success=["answered honestly"], end_reason="assistant_ended",
    )


def failed(s):
    s.greet()
    s.customer(s.pick("Hi, I'm calling about booking a—", "Hi, yes, I wanted to ask about my appoint—"))
    s.event("error", where="upstream_lost", reason="connection closed: 1006")
    s.assistant(
        f"I'm sorry, we've lost the connection to our assistant. Please call the clinic at {s.clinic.phone}, and we'll "
        "be glad to help. Goodbye.", spoken_by="page", reason="upstream_lost",
    )
    return Script(
        outcome="failed", satisfaction=s.pick(1, 2, 3), sentiment="neutral", failed=True,
        summary="The call dropped after the caller's first sentence: the connection to the voice service was lost.",
        frustration=["call dropped"], end_reason="upstream_lost",
    )
