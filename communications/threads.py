"""Which conversation a text (SMS or WhatsApp) or an email belongs to.

A message joins its customer's open conversation on the same channel when that conversation's
last activity is recent (SMS_THREAD_WINDOW_MINUTES for SMS and WhatsApp, EMAIL_THREAD_WINDOW_MINUTES
for email); otherwise, or when the customer writes "start over", the old conversation ends (at its
last activity, so it is scored) and a new one starts. A customer who writes on WhatsApp and by SMS
has a thread on each, each answered where it is. An email that answers one of ours
(In-Reply-To/References naming a Message-ID we stored) joins that conversation even from another
address. `close_timed_out_threads` ends threads nobody wrote to within the window (beat).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from communications import services
from communications.models import Channel, Conversation, Customer, EmailDetail

TEXT_CHANNELS = (Channel.SMS, Channel.WHATSAPP, Channel.EMAIL)


def thread_window(channel):
    minutes = settings.EMAIL_THREAD_WINDOW_MINUTES if channel == Channel.EMAIL else settings.SMS_THREAD_WINDOW_MINUTES
    return timedelta(minutes=minutes)


def conversation_for_inbound(*, customer, channel, at=None, start_over=False, metadata=None):
    """The conversation a customer's new message joins: their recent open one, or a new one.

    Open conversations of the customer on this channel that are past the window (or all of
    them, on "start over") are ended first, each at its last activity.
    """
    at = at or timezone.now()
    window = thread_window(channel)
    # Staff playing a customer in the messaging console never join that customer's real thread.
    console = bool((metadata or {}).get("console"))
    with transaction.atomic():
        # One customer's messages are threaded one at a time (two texts a second apart, one thread).
        Customer.objects.select_for_update().filter(pk=customer.pk).first()
        chosen = None
        for conversation in (Conversation.objects.filter(customer=customer, channel=channel,
                                                         status=Conversation.Status.ACTIVE)
                             .order_by("-last_activity_at")):
            if bool((conversation.metadata or {}).get("console")) != console:
                continue
            if chosen is None and not start_over and at - conversation.last_activity_at <= window:
                chosen = conversation
                continue
            _end(conversation, reason="start_over" if start_over else "thread_timeout")
        if chosen is not None:
            return chosen
        return services.start_conversation(channel=channel, customer=customer, metadata=metadata, at=at)


def conversation_for_reply_headers(*, in_reply_to="", references=""):
    """The conversation of an email we stored whose Message-ID the new email names, most recent first."""
    ids = [value for value in [in_reply_to.strip(), *reversed(references.split())] if value]
    for message_id in ids:
        detail = (EmailDetail.objects.filter(message_id_header=message_id)
                  .select_related("message__conversation__customer").order_by("-message__sent_at").first())
        if detail is not None:
            return detail.message.conversation
    return None


def _end(conversation, *, reason):
    services.record_event(conversation_id=conversation.pk, type="thread_closed", data={"reason": reason},
                          at=conversation.last_activity_at)
    services.end_conversation(conversation_id=conversation.pk, end_reason=reason, at=conversation.last_activity_at)


def close_timed_out_threads(*, now=None, limit=500):
    """End SMS, WhatsApp and email conversations idle past their window (scoring follows). Returns the ids ended."""
    now = now or timezone.now()
    ended = []
    for channel in TEXT_CHANNELS:
        idle = Conversation.objects.filter(channel=channel, status=Conversation.Status.ACTIVE,
                                           last_activity_at__lt=now - thread_window(channel))
        for conversation_id in list(idle.values_list("pk", flat=True)[:limit]):
            with transaction.atomic():
                # Again under the row lock: a message may have arrived since.
                conversation = idle.select_for_update().filter(pk=conversation_id).first()
                if conversation is not None:
                    _end(conversation, reason="thread_timeout")
                    ended.append(conversation_id)
    return ended
