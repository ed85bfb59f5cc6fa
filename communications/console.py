"""The messaging console (staff): play a customer on SMS, WhatsApp or email, watch Ava answer, read the outbox.

It is how a clinic tries Ava before connecting Twilio or SendGrid. A message written here goes
through the same path as one from a provider's webhook (stored, threaded, answered by the text
agent after the commit), flagged as a console conversation: its replies and any confirmation of a
booking made in it stay in the outbox, so an invented number is never texted. The thread and the
outbox are pushed, not polled: analytics.consumers.ConsoleConsumer re-renders their partials from
`thread_context` and `outbox_row` when communications.live says something changed.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from communications.messaging import email as email_channel
from communications.messaging import sms as sms_channel
from communications.models import TWILIO_CHANNELS, Channel, Conversation, Customer, OutboundMessage
from communications.phones import normalise_phone
from communications.services import find_or_create_customer
from conventions import audit
from conventions.access import staff_required

OUTBOX_LIMIT = 50
CUSTOMER_CHOICES = 200
CONSOLE_CHANNELS = [(Channel.SMS, "SMS"), (Channel.WHATSAPP, "WhatsApp"), (Channel.EMAIL, "Email")]


class ConsoleMessageForm(forms.Form):
    channel = forms.ChoiceField(choices=CONSOLE_CHANNELS, initial=Channel.SMS,
                                widget=forms.RadioSelect)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False, empty_label="A new customer…",
                                      help_text="Or leave it and give a phone or email below.")
    phone = forms.CharField(required=False, max_length=30, help_text="For SMS or WhatsApp, e.g. +1 212 555 0142")
    email = forms.EmailField(required=False, max_length=254, help_text="For email")
    name = forms.CharField(required=False, max_length=200)
    subject = forms.CharField(required=False, max_length=200, help_text="Email only")
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        recent = list(Customer.objects.order_by("-updated_at").values_list("pk", flat=True)[:CUSTOMER_CHOICES])
        self.fields["customer"].queryset = Customer.objects.filter(pk__in=recent).order_by("-updated_at")

    def clean(self):
        data = super().clean()
        customer = data.get("customer")
        if data.get("channel") in TWILIO_CHANNELS:
            try:
                phone = normalise_phone(data.get("phone")) or (customer.phone if customer else None)
            except ValidationError as error:
                self.add_error("phone", error)
                return data
            if not phone:
                self.add_error("phone", "A phone number is needed to text as this customer.")
            data["address"] = phone
        else:
            address = data.get("email") or (customer.email if customer else None)
            if not address:
                self.add_error("email", "An email address is needed to write as this customer.")
            data["address"] = address
        return data


def _thread(conversation_id):
    conversation = (Conversation.objects.select_related("customer").filter(pk=conversation_id).first()
                    if conversation_id else None)
    if conversation is None or not (conversation.metadata or {}).get("console"):
        return None, []
    items = [("message", m) for m in conversation.messages.all()]
    items += [("event", e) for e in conversation.events.filter(type__in=[
        "tool_call", "sms_opt_out", "sms_opt_in", "whatsapp_opt_out", "whatsapp_opt_in", "escalated", "thread_closed"])]
    items.sort(key=lambda pair: (pair[1].sent_at if pair[0] == "message" else pair[1].at))
    return conversation, items


def thread_context(conversation_id):
    """The thread partial's context: the console conversation, its items, and whether Ava is still writing."""
    conversation, items = _thread(conversation_id)
    waiting = bool(conversation and conversation.is_active and items and items[-1][0] == "message"
                   and items[-1][1].author == "customer" and not items[-1][1].metadata.get("no_reply"))
    return {"conversation": conversation, "items": items, "waiting": waiting}


def outbox_row(outbound_id):
    """One outbox row, or None when it is gone."""
    return OutboundMessage.objects.select_related("customer").filter(pk=outbound_id).first()


def outbox_context(channel):
    """The outbox partial's context; `channel` filters it ("" or anything unknown: every channel)."""
    channel = channel if channel in Channel.values else ""
    return {"outbox": _outbox(channel), "outbox_channel": channel, "outbox_limit": OUTBOX_LIMIT}


def outbox_since(after_id):
    """Rows stored after `after_id` (the newest the page had), oldest first, for a socket that (re)connects."""
    rows = OutboundMessage.objects.select_related("customer").filter(pk__gt=after_id).order_by("-id")[:OUTBOX_LIMIT]
    return list(reversed(rows))


def _outbox(channel):
    rows = OutboundMessage.objects.select_related("customer")
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    return list(rows[:OUTBOX_LIMIT])


def _context(request, form=None):
    thread = thread_context(request.GET.get("conversation"))
    conversation = thread["conversation"]
    initial = {}
    if conversation is not None:
        initial = {"channel": conversation.channel, "customer": conversation.customer}
    return {
        "form": form or ConsoleMessageForm(initial=initial),
        **thread,
        **outbox_context(request.GET.get("outbox", "")),
        # The live socket sends what was stored after this, so nothing falls between render and connect.
        "outbox_after": OutboundMessage.objects.aggregate(newest=Max("id"))["newest"] or 0,
        "outbox_channels": [("", "All"), *CONSOLE_CHANNELS],
    }


@staff_required
def console(request):
    context = _context(request)
    if context["conversation"] is not None and not request.htmx:  # the page, not a swap of its outbox
        audit.record(request=request, action=audit.Action.VIEW, obj=context["conversation"], description="Messaging console")
    part = request.GET.get("part")
    if request.htmx and part in {"thread", "outbox"}:
        return render(request, f"dashboard/console.html#{part}", context)
    return render(request, "dashboard/console.html", context)


@staff_required
@require_POST
def console_send(request):
    """One message as the customer: the same path as a provider's webhook, flagged as the console's."""
    form = ConsoleMessageForm(request.POST)
    if not form.is_valid():
        return render(request, "dashboard/console.html", _context(request, form), status=400)
    data, started = form.cleaned_data, timezone.now()
    if data["channel"] in TWILIO_CHANNELS:
        if data.get("name"):
            find_or_create_customer(phone=data["address"], name=data["name"])  # known before Ava answers
        received = sms_channel.receive_sms(message_sid=None, body=data["body"], console=True,
                                           from_number=sms_channel.twilio_address(data["channel"], data["address"]))
    else:
        received = email_channel.receive_email(from_email=data["address"], from_name=data.get("name") or "",
                                               subject=data.get("subject") or "A question", text=data["body"],
                                               console=True)
    _record_console_message(request=request, message=received.message, since=started)
    query = f"?conversation={received.message.conversation_id}"
    return redirect(reverse("dashboard:console") + query)


def _record_console_message(*, request, message, since):
    """The messaging console wrote as a customer: the customer it created (if it did) and the message."""
    conversation = message.conversation
    if conversation.customer is not None and conversation.customer.created_at >= since:
        audit.record(request=request, action=audit.Action.CREATE, obj=conversation.customer, description="Messaging console")
    audit.record(request=request, action=audit.Action.UPDATE, obj=conversation, description="Messaging console: wrote as the customer")
