"""The demo conversations, one function per outcome, each written for voice, SMS and email.

Every function takes a Scene, writes its lines and tool calls, books what it books
through the scene's diary, and returns the Script (scores) a careful scorer would give.
"""

from datetime import timedelta

from demo import tools
from demo.scene import Script, WhenHint, clock, first_sentence
from demo.topics import TOPICS, ask, faq

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


# --- booking -----------------------------------------------------------------


def booked(s):
    wanted = s.wanted_service()
    needs_consultation = wanted.requires_consultation and not s.person.is_returning(s.at)
    service = s.service("consultation") if needs_consultation else wanted
    hint = s.when_hint()
    options = s.find_options(service, hint)
    if not options:
        return unresolved(s)
    offered = s.offer(options, 2 if s.rng.random() < 0.8 else 3)
    provider, start = s.rng.choice(offered)
    phrase = s.phrase(wanted)
    asked_price = s.voice and service.slug != "consultation" and s.rng.random() < 0.3
    check = tools.availability(s, service, hint.first_day, offered, total=len(options), part_of_day=hint.part_of_day)
    consult_note = (
        f"For new clients, {s.named(wanted)} starts with a complimentary 30-minute consultation, so one of our "
        "providers can talk through what you'd like and make a plan; treatment is usually at a follow-up visit."
    )

    if s.voice:
        s.greet()
        s.customer(s.pick(
            f"Hi, I'd like to book {phrase}.", f"Hi! Um, I was hoping to come in for {phrase} {hint.voice}.",
            f"Hey, do you have any openings {hint.voice} for {phrase}?", f"Hi there, I'm calling to make an appointment for {phrase}.",
        ))
        if s.known:
            s.assistant(s.pick(f"Hi {s.first}, nice to hear from you again. I can help with that.", f"Of course, {s.first}. Let me take a look."))
        else:
            s.assistant("I'd be happy to help. Have you been in to see us before?")
            s.customer("Yes, I've been in a couple of times." if s.person.is_returning(s.at) else s.pick("No, this would be my first time.", "No, I'm new."))
        if needs_consultation:
            s.assistant(f"Welcome! {consult_note} Shall I find you a consultation time?")
            if s.rng.random() < 0.5:
                s.customer("Is the consultation free?")
                s.assistant("It is, completely free and with no obligation. Let me find you a time.")
            else:
                s.customer(s.pick("Oh, okay. Sure, that makes sense.", "Okay, let's do that."))
        if asked_price:
            s.customer(s.pick(f"And roughly how much does {s.named(wanted)} cost?", "Before we book, how much is it usually?"))
            s.tool(*tools.service_info(s, wanted))
            s.assistant(f"{s.costs(wanted)}.")
            s.customer(s.pick("Okay, that's about what I expected.", "Okay, great."))
        s.tool(*check)
        closing = "Would either of those work?" if len(offered) == 2 else "Would any of those work?"
        s.assistant(f"I have {s.offer_sentence(offered)}. {closing}" if len(offered) > 1 else f"The first opening I have is {s.offer_sentence(offered)}. Would that work?")
        s.customer(_choose_line(s, offered, start))
        if not s.known:
            s.assistant("Perfect. Can I get your first and last name?")
            s.customer(s.pick(f"It's {s.full}.", f"{s.full}.", f"Sure, {s.full}."))
            s.assistant(f"Thanks, {s.first}. And is the number you're calling from, {s.spoken_phone()}, the best one to reach you?")
            s.customer(s.pick("Yes, that's my cell.", "Yep.", "Yes, that's right."))
    elif s.sms:
        s.customer(s.pick(
            f"Hi! Do you have anything {hint.text} for {phrase}?", f"hi can i book {phrase} {hint.text}",
            f"Hi, this is {s.first}. I'd like to schedule {phrase}, {hint.text} if possible.",
            f"Hello, looking to book {phrase}. Any openings {hint.text}?",
        ))
        hello = f"Hi {s.first}! " if s.known else f"Hi! This is {s.clinic.assistant_name} at {s.clinic.name}. "
        if needs_consultation:
            s.assistant(f"{hello}{consult_note} Want me to find you a time for that?")
            s.customer(s.pick("Sure", "ok yes please", "Oh ok, sure"))
            hello = ""
        s.tool(*check)
        s.assistant(f"{hello}I have {s.offer_sentence(offered)}. Would one of those work?")
        s.customer(_choose_line(s, offered, start).lower().rstrip("."))
        if not s.known:
            s.assistant("Great! What name should I put it under?")
            s.customer(s.full)
    else:
        ask = s.pick(
            f"I'd like to book {phrase} {hint.voice}. Please let me know what you have available.",
            f"I'm interested in {phrase} and wondered if you have any availability {hint.voice}.",
        )
        s.customer_email(ask, subject=s.pick(f"Appointment request: {wanted.name}", f"{wanted.name} appointment", f"{wanted.name} availability?"))
        s.tool(*check)
        lines = "\n".join(f"• {s.when(when)} with {who.name}" for who, when in offered)
        price = "" if service.slug == "consultation" else f" For reference, {s.costs(wanted, sentence_start=False)}."
        intro = f"{consult_note}\n\n" if needs_consultation else "Thanks for getting in touch! "
        s.assistant_email(f"{intro}I have these openings for {s.named(service)}:\n\n{lines}\n\nJust reply with the one you'd like and I'll reserve it for you.{price}")
        s.customer_email(s.pick(f"{s.when(start)} works for me. Please book it.", f"Please put me down for {s.when(start)}. Thank you!"))

    appointment = s.appointment(
        service=service, provider=provider, start=start, booked_by="ai", by_conversation=True,
        notes=f"New client interested in {wanted.name}." if needs_consultation else "",
    )
    s.tool(*tools.book(s, appointment, service=service, provider=provider, start=start))
    prep = first_sentence(service.preparation)
    who = provider.name.split()[0]

    if s.voice:
        s.assistant(f"You're all set for {s.named(service)} with {who} on {s.when(start)}. {prep} You'll get a text confirmation and a reminder the day before. Is there anything else I can help with?")
        if s.rng.random() < 0.3:
            parking = faq(s, "parking")
            if parking:
                s.customer("Actually, yes. Where do I park?")
                s.tool(*tools.business_info(s, "parking", [parking]))
                s.assistant(parking.answer)
        s.customer(s.pick("No, that's everything. Thank you so much!", "That's it, thanks!", "Nope, that's all. Thanks!"))
        s.goodbye(f"You're welcome, {s.first}! We'll see you {s.day_name(start)}. Have a great day.")
    elif s.sms:
        s.assistant(f"You're booked: {s.named(service)} with {who}, {s.when(start)}. {prep} Reply here if anything changes!")
        if s.rng.random() < 0.7:
            s.customer(s.pick("Thank you!!", "Perfect, thanks", "👍", "Great, see you then"))
    else:
        parking = faq(s, "parking")
        address = s.clinic.address.replace("\n", ", ")
        s.assistant_email(
            f"You're booked for {s.named(service)} with {provider.name} on {s.when(start)}.\n\n"
            f"Before your visit: {service.preparation}\n\n"
            f"We're at {address}. {first_sentence(parking.answer) if parking else ''} If anything changes, reply to "
            f"this email or call us at {s.clinic.phone}; please give us 24 hours' notice to cancel or reschedule.\n\n"
            "We look forward to seeing you!"
        )

    satisfaction = s.pick(8, 9, 9, 10, 10)
    frustration = []
    if s.voice and s.rng.random() < 0.12:
        frustration, satisfaction = ["had to repeat a detail"], 7
    success = ["booked on first contact", "offered specific times"]
    if needs_consultation:
        success.append("explained the consultation requirement")
    if asked_price:
        success.append("answered the price question")
    success.append("gave preparation instructions")
    summary = f"{s.full} booked {s.named(service)} with {provider.name} for {s.plain(start)}."
    if needs_consultation:
        summary += f" New client interested in {wanted.name}; consultation first."
    return Script(
        outcome="booked", satisfaction=satisfaction, sentiment="positive" if satisfaction >= 8 else "neutral",
        summary=summary, frustration=frustration, success=success, end_reason="assistant_ended",
    )


def _choose_line(s, offered, start):
    position = [when for _, when in offered].index(start)
    ordinal = ["first", "second", "third"][position]
    local = s.local(start)
    return s.pick(f"{clock(local)} works.", f"The {ordinal} one, please.", f"Let's do {local:%A} at {clock(local)}.")


# --- changing a booking ----------------------------------------------------


def _existing_booking(s, *, within_days, service=None):
    """A slot the customer already holds, some time after this conversation starts."""
    service = service or s.wanted_service()
    first_day = s.local_day + timedelta(days=s.pick(0, 1, 1, 2, 3, 4) if within_days <= 3 else s.rng.randint(1, within_days))
    options = s.calendar.search(
        service=service, first_day=first_day, days=10, customer_key=s.person.key,
        earliest=s.at + timedelta(hours=2),
    )
    return (service, *s.rng.choice(options)) if options else None


def rescheduled(s):
    found = _existing_booking(s, within_days=8)
    if not found:
        return info(s)
    service, old_provider, old_start = found
    day = s.local(old_start).date()
    hint = s.rng.choice([
        WhenHint("the following week", "the week after", day + timedelta(days=7 - day.weekday())),
        WhenHint("later that week", "later that week", day + timedelta(days=1)),
        WhenHint("sometime after three", "after 3", day + timedelta(days=1), after=s.local(old_start).replace(hour=15, minute=0).time()),
    ])
    options = s.find_options(service, hint, provider=old_provider) or s.find_options(service, hint)
    if not options:
        return info(s)
    offered = s.offer(options)
    provider, start = s.rng.choice(offered)
    appointment = s.appointment(
        service=service, provider=provider, start=start, booked_by=s.pick("staff", "staff", "ai", "online"),
        booked_days_before=s.rng.randint(3, 25), moved_from=(old_provider, old_start),
    )
    found = tools.find(s, appointment, service=service, provider=old_provider, start=old_start)
    check = tools.availability(s, service, hint.first_day, offered, total=len(options), provider=old_provider,
                               part_of_day=hint.part_of_day)
    move = tools.reschedule(s, appointment, service=service, provider=provider, start=start)
    old_who, who = old_provider.name.split()[0], provider.name.split()[0]

    if s.voice:
        s.greet()
        s.customer(s.pick(
            f"Hi, I need to reschedule my appointment {s.day_name(old_start)}.",
            f"Hi, this is {s.full}. I have {s.named(service)} booked for {s.day_name(old_start)} and something came up.",
            "Hi, I need to move my appointment.",
        ))
        s.tool(*found)
        s.assistant(f"No problem, {s.first}. I see {s.named(service)} with {old_who} on {s.when(old_start)}. When would work better?")
        s.customer(f"Do you have anything {hint.voice}?")
        s.tool(*check)
        s.assistant(f"I have {s.offer_sentence(offered)}. Which would you prefer?")
        s.customer(_choose_line(s, offered, start))
        s.tool(*move)
        s.assistant(f"Done. You're now booked for {s.when(start)} with {who}, and your old time is released. Anything else I can do?")
        s.customer(s.pick("No, that's it. Thanks for making it easy.", "Nope, thank you!"))
        s.goodbye(f"You're welcome, {s.first}. See you then!")
    elif s.sms:
        s.customer(s.pick(
            f"Hi, can I move my {s.local(old_start):%A} appointment? Something came up",
            f"hi it's {s.first}, I need to reschedule {s.day_name(old_start)}. anything {hint.text}?",
        ))
        s.tool(*found)
        s.tool(*check)
        s.assistant(f"Hi {s.first}! I see {s.named(service)} with {old_who} on {s.when(old_start)}. I can move you to {s.offer_sentence(offered)}. Which works?")
        s.customer(_choose_line(s, offered, start).lower().rstrip("."))
        s.tool(*move)
        s.assistant(f"All set, you're now {s.when(start)} with {who}. See you then!")
        if s.rng.random() < 0.6:
            s.customer(s.pick("thank you!", "Thanks so much", "🙏"))
    else:
        s.customer_email(
            f"I have {s.named(service)} booked on {s.when(old_start)} and I need to move it. {hint.voice.capitalize()} would be ideal if you have anything.",
            subject=s.pick("Need to reschedule", "Reschedule my appointment", f"Moving my {s.local(old_start):%A} appointment"),
        )
        s.tool(*found)
        s.tool(*check)
        lines = "\n".join(f"• {s.when(when)} with {p.name}" for p, when in offered)
        s.assistant_email(f"Of course. I found your {s.bare(service)} with {old_provider.name} on {s.when(old_start)}. Here's what I have:\n\n{lines}\n\nReply with the one you'd like and I'll move it.")
        s.customer_email(s.pick(f"{s.when(start)} is perfect, thanks.", f"Let's do {s.when(start)}."))
        s.tool(*move)
        s.assistant_email(f"All done: your appointment is now {s.when(start)} with {provider.name}. Your original time has been released.")
    satisfaction = s.pick(8, 9, 9, 10)
    return Script(
        outcome="rescheduled", satisfaction=satisfaction, sentiment="positive",
        summary=f"{s.full} moved {s.named(service)} from {s.plain(old_start)} to {s.plain(start)} with {provider.name}.",
        success=["found the booking", "offered alternatives", "rescheduled in one conversation"],
        end_reason="assistant_ended",
    )


CANCEL_REASONS = [
    ("Work conflict", "Something came up at work and I can't get out of it", "something came up at work"),
    ("Unwell", "I'm not feeling well", "I'm sick"),
    ("Travelling", "I'm going to be out of town that week", "I'll be out of town"),
    ("Deciding to wait", "I've decided to hold off for now", "I'm going to hold off for now"),
    ("Childcare", "my babysitter cancelled on me", "my sitter cancelled"),
]


def cancelled(s):
    found = _existing_booking(s, within_days=3)
    if not found:
        return info(s)
    service, provider, start = found
    reason, said, texted = s.rng.choice(CANCEL_REASONS)
    late = start - s.at < timedelta(hours=s.clinic.cancellation_notice_hours)
    appointment = s.appointment(
        service=service, provider=provider, start=start, booked_by=s.pick("staff", "staff", "ai", "online"),
        booked_days_before=s.rng.randint(4, 30), cancel=reason, late=late,
    )
    found = tools.find(s, appointment, service=service, provider=provider, start=start)
    cancel = tools.cancel(s, appointment, service=service, provider=provider, start=start, reason=reason, late=late)
    fee = " Because it's within 24 hours, our policy does carry a $50 late-cancellation fee." if late else ""
    who = provider.name.split()[0]
    if s.voice:
        s.greet()
        s.customer(f"Hi, I need to cancel my appointment {s.day_name(start)}. {said[0].upper()}{said[1:]}.")
        s.tool(*found)
        s.assistant(f"I'm sorry to hear that, {s.first}. I see {s.named(service)} with {who} on {s.when(start)}. Would you like to move it to another day instead of cancelling?")
        s.customer(s.pick("No, just cancel it for now, please. I'll call back when things settle down.", "Just cancel for now, thanks."))
        s.tool(*cancel)
        s.assistant(f"It's cancelled.{fee} Whenever you'd like to rebook, just call or text us.")
        s.customer(s.pick("Okay, understood. Thank you.", "Okay, thanks."))
        s.goodbye("Take care, and we hope to see you soon.")
    elif s.sms:
        s.customer(f"Hi, I need to cancel my {s.bare(service)} {s.day_name(start)}, {texted}. Sorry!")
        s.tool(*found)
        s.assistant(f"No problem, {s.first}. I found {s.named(service)} with {who} on {s.when(start)}. Cancel it, or would you like to reschedule?")
        s.customer(s.pick("cancel please", "Just cancel for now", "cancel, thanks"))
        s.tool(*cancel)
        s.assistant(f"Done, it's cancelled.{fee} Text us whenever you'd like to rebook.")
        if s.rng.random() < 0.5:
            s.customer(s.pick("ok thank you", "Thanks"))
    else:
        s.customer_email(
            f"I need to cancel my appointment on {s.when(start)}; {said}. Sorry for the inconvenience.",
            subject=s.pick("Cancel appointment", "Cancellation", f"Cancelling {s.local(start):%A}"),
        )
        s.tool(*found)
        s.tool(*cancel)
        s.assistant_email(f"Your {s.bare(service)} with {provider.name} on {s.when(start)} is cancelled.{fee} Whenever you're ready to rebook, just reply here or call us at {s.clinic.phone}.")
    satisfaction = s.pick(5, 6, 7) if late else s.pick(7, 8, 8, 9)
    return Script(
        outcome="cancelled", satisfaction=satisfaction, sentiment="mixed" if late else "neutral",
        summary=f"{s.full} cancelled {s.named(service)} with {provider.name} on {s.plain(start)} ({reason.lower()})."
        + (" Late cancellation; fee explained." if late else ""),
        frustration=["late-cancellation fee"] if late else [],
        success=["found the booking", "offered to reschedule", "explained the policy"] if late else ["found the booking", "offered to reschedule"],
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
        sentiment, satisfaction, frustration = "negative", s.pick(5, 6, 7), ["worried about a reaction after treatment"]
    elif kind == "billing":
        said = f"I was charged twice for my HydraFacial {past}. I'd like one of the charges refunded."
        reply = ("I'm sorry about that. I can't see payment records, so I've passed this to our front-desk manager, "
                 "who can check and refund any duplicate charge. They'll call you back today during opening hours.")
        reason = f"Says they were charged twice for a HydraFacial {past}; wants the duplicate refunded."
        sentiment, satisfaction, frustration = "negative", s.pick(5, 6), ["charged twice", "assistant could not see payments"]
    elif kind == "result":
        said = f"I got Botox {s.pick('two weeks ago', 'a couple of weeks ago', 'about three weeks ago')} and my forehead still moves completely. Honestly I'm pretty disappointed."
        reply = (
            "I'm sorry it hasn't worked the way you hoped. It can take up to 14 days to see the full effect, and "
            f"first-time clients get a free touch-up at two weeks. I've asked {who} to call you back to look at it and set that up."
        )
        reason = "Unhappy with a Botox result after two weeks; wants it looked at (free touch-up may apply)."
        sentiment, satisfaction, frustration = "mixed", s.pick(4, 5, 6), ["treatment did not work as expected"]
    elif kind == "pregnancy":
        said = "I have a peel booked next week but I just found out I'm pregnant. Can I still do it?"
        reply = (
            "Congratulations! That's a question for our clinical team rather than me, since it depends on the peel. "
            f"I've passed it to {who}, who will call you back before your appointment."
        )
        reason = "Newly pregnant; asks whether her chemical peel next week is safe."
        sentiment, satisfaction, frustration = "positive", s.pick(7, 8), []
    else:
        said = f"I have some questions about {service.name} and my medical history. Can I talk to a real person, please?"
        reply = f"Of course. I've asked our team to call you back; they can bring in {who} for the medical questions."
        reason = f"Wants to talk to a person about {service.name} and their medical history."
        sentiment, satisfaction, frustration = "neutral", s.pick(6, 7), ["asked for a person"]

    def hand_over():
        s.event("escalated", reason=reason, urgent=urgent, channel=s.channel)
        s.event("staff_task", kind="callback", reason=reason, urgent=urgent, phone="",
                requested_at=s.local(s.at).isoformat())
        s.tool(*tools.transfer(s, reason=reason, urgent=urgent))

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


SCRIPTS = {
    "booked": booked, "info_only": info, "rescheduled": rescheduled, "cancelled": cancelled,
    "escalated": escalated, "abandoned": abandoned, "unresolved": unresolved, "failed": failed,
}

# How conversations end on each channel (percent-ish weights).
OUTCOME_WEIGHTS = {
    "voice": {"booked": 34, "info_only": 26, "rescheduled": 8, "cancelled": 7, "escalated": 4, "abandoned": 9, "unresolved": 7, "failed": 3},
    "sms": {"booked": 32, "info_only": 28, "rescheduled": 12, "cancelled": 12, "escalated": 3, "abandoned": 7, "unresolved": 6},
    "email": {"booked": 30, "info_only": 42, "rescheduled": 8, "cancelled": 8, "escalated": 4, "unresolved": 8},
}
# Outcomes where nobody needs to have told us who they are.
ANONYMOUS_OK = {"info_only", "abandoned", "failed"}
