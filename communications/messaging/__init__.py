"""SMS, WhatsApp and email: what comes in (webhooks, the console), what goes out (replies, confirmations, reminders).

    from communications import messaging
    messaging.reply_needed.connect(receiver)          # a customer wrote; Ava should answer (after the commit)
    messaging.send_reply(conversation_id=..., content="...")                # Ava's answer on the conversation's channel
    messaging.notify(customer=..., kind="confirmation", key="...", sms=..., email=(subject, body))

Everything sent is an OutboundMessage: sent through Twilio or Django's email framework when a
provider is configured, else kept in the outbox (shown in the messaging console). Numbers that
replied STOP are never texted on that channel, by any path (checked when queued and again when sent).
A notification's text goes where the customer texts us: WhatsApp when they last wrote from it (and
WhatsApp's 24-hour reply window is open), else SMS.
The receptionist answers: communications announces `reply_needed` and never imports it.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from communications.models import TWILIO_CHANNELS, Channel, Conversation, Message

# WhatsApp lets a business send free-form messages only this long after the customer's last message
# (its "customer service window"); later ones need a template Meta approved, which Ava has none of.
WHATSAPP_SESSION = timedelta(hours=24)

# sender=Conversation, conversation_id=UUID, message_id=int (the customer's message that needs an answer)
reply_needed = Signal()


def announce_reply_needed(message):
    """Send `reply_needed` for a customer's message once the transaction commits."""
    transaction.on_commit(
        partial(reply_needed.send, sender=Conversation, conversation_id=message.conversation_id, message_id=message.pk),
        robust=True,
    )


def send_reply(*, conversation_id, content, metadata=None):
    """Save Ava's reply in its conversation and send it on that conversation's channel.

    Returns the saved Message, or None when nothing may be sent (a customer who opted out there).
    """
    from communications.messaging import email, sms

    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    if conversation.channel in TWILIO_CHANNELS:
        return sms.send_reply(conversation=conversation, content=content, metadata=metadata)
    if conversation.channel == Channel.EMAIL:
        return email.send_reply(conversation=conversation, content=content, metadata=metadata)
    raise ValueError(f"Replies go by SMS, WhatsApp or email, not {conversation.channel}.")


def text_channel_for(customer, *, now=None):
    """The channel a text notification to this customer goes by: SMS, WhatsApp, or None (nothing by text).

    WhatsApp when the customer's latest SMS or WhatsApp message came from WhatsApp: there while its
    24-hour window is open, and by SMS after it. A STOP on WhatsApp, where they write, is never
    worked round by texting them instead; an SMS STOP stops SMS.
    """
    if not customer.phone:
        return None
    latest = (Message.objects.filter(conversation__customer=customer, conversation__channel__in=TWILIO_CHANNELS,
                                     author=Message.Author.CUSTOMER)
              .order_by("-sent_at", "-id").values_list("conversation__channel", "sent_at").first())
    if latest is not None and latest[0] == Channel.WHATSAPP:
        if customer.whatsapp_opted_out:
            return None
        if (now or timezone.now()) - latest[1] <= WHATSAPP_SESSION:
            return Channel.WHATSAPP
    return None if customer.sms_opted_out else Channel.SMS


def notify(*, customer, kind, key, sms_body="", email_subject="", email_body="", outbox_only=False, metadata=None,
           now=None):
    """Send one notification (a confirmation, a reminder) to a customer by text and/or email, once per key.

    The text (`sms_body`) goes by SMS or WhatsApp (text_channel_for) when the customer has a phone
    and has not opted out there; email when they have an address. `key` makes it idempotent: a
    second call with the same key sends nothing, on either text channel. Returns the
    OutboundMessages created now (empty when there was nothing to send or it was sent before).
    """
    from communications.messaging import delivery
    from communications.messaging.email import new_message_id

    created = []
    text_channel = text_channel_for(customer, now=now) if sms_body else None
    if text_channel is not None and not delivery.opted_out(text_channel, customer.phone):
        # One key for the text whichever channel carries it: a retry never sends it on both.
        outbound, new = delivery.queue(channel=text_channel, kind=kind, customer=customer, to=customer.phone,
                                       body=sms_body, idempotency_key=f"{key}:sms", outbox_only=outbox_only,
                                       metadata=metadata)
        if new:
            created.append(outbound)
    if email_body and customer.email:
        outbound, new = delivery.queue(channel=Channel.EMAIL, kind=kind, customer=customer, to=customer.email,
                                       subject=email_subject, body=email_body,
                                       headers={"Message-ID": new_message_id()}, idempotency_key=f"{key}:email",
                                       outbox_only=outbox_only, metadata=metadata)
        if new:
            created.append(outbound)
    return created
