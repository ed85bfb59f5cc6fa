"""Conversations that book, move or cancel an appointment."""

from datetime import timedelta

from demo import tools
from demo.scene import Script, WhenHint, first_sentence
from demo.scripts.enquiries import info, unresolved
from demo.topics import faq
from scheduling.spoken import spoken_time


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
    return s.pick(f"{spoken_time(local)} works.", f"The {ordinal} one, please.", f"Let's do {local:%A} at {spoken_time(local)}.")


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
