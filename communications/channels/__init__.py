"""SMS and email: what comes in (webhooks, the console), what goes out (replies, confirmations, reminders).

    from communications import channels
    channels.reply_needed.connect(receiver)           # a customer wrote; Ava should answer (after the commit)
    channels.send_reply(conversation_id=..., content="...")                 # Ava's answer on the conversation's channel
    channels.notify(customer=..., kind="confirmation", key="...", sms=..., email=(subject, body))

Everything sent is an OutboundMessage: sent through Twilio or Django's email framework when a
provider is configured, else kept in the outbox (shown in the messaging console). Numbers that
replied STOP are never texted, by any path (checked when queued and again when sent).
The receptionist answers: communications announces `reply_needed` and never imports it.
"""

from functools import partial

from django.db import transaction
from django.dispatch import Signal

from communications.models import Channel, Conversation

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

    Returns the saved Message, or None when nothing may be sent (an SMS customer who opted out).
    """
    from communications.channels import email, sms

    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    if conversation.channel == Channel.SMS:
        return sms.send_reply(conversation=conversation, content=content, metadata=metadata)
    if conversation.channel == Channel.EMAIL:
        return email.send_reply(conversation=conversation, content=content, metadata=metadata)
    raise ValueError(f"Replies go by SMS or email, not {conversation.channel}.")


def notify(*, customer, kind, key, sms_body="", email_subject="", email_body="", outbox_only=False, metadata=None):
    """Send one notification (a confirmation, a reminder) to a customer by SMS and/or email, once per key.

    SMS goes when the customer has a phone and has not opted out; email when they have an address.
    `key` makes it idempotent: a second call with the same key sends nothing. Returns the
    OutboundMessages created now (empty when there was nothing to send or it was sent before).
    """
    from communications.channels import delivery
    from communications.channels.email import new_message_id

    created = []
    if sms_body and customer.phone and not delivery.sms_opted_out(customer.phone):
        outbound, new = delivery.queue(channel=Channel.SMS, kind=kind, customer=customer, to=customer.phone,
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
