"""Staff pages of conversations: the inbox, a conversation, the customers, a customer."""

import logging
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotFound
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from communications.forms import CustomerSearchForm, InboxFilterForm, MergeCustomerForm
from communications.models import Conversation, Customer
from communications.phones import normalise_phone
from communications.recordings import (
    RecordingFileMissing,
    download_name,
    file_response,
    is_playable,
    why_not_playable,
)
from communications.selectors import (
    conversation_timeline,
    conversations_for_inbox,
    customer_summary,
    customer_timeline,
    customers_by_last_contact,
    last_messages,
)
from communications.services import forget_customer, merge_customers
from communications.usage import conversation_cost
from conventions import audit
from conventions.access import is_owner, owner_required, staff_required
from conventions.models import AuditEntry
from conventions.paging import page_of

log = logging.getLogger(__name__)

INBOX_PAGE_SIZE = 25
CUSTOMERS_PAGE_SIZE = 25
RECORDING_LISTEN_WINDOW = timedelta(minutes=10)  # a player's seeks within it belong to the listen before


@staff_required
@audit.audited("conversation", audit.Action.LIST)
def inbox(request):
    form = InboxFilterForm(request.GET)
    page = page_of(
        # Dates are the clinic's days (ClinicTimeZoneMiddleware activates its zone).
        conversations_for_inbox(**form.filters(), tz=timezone.get_current_timezone()),
        page=(form.cleaned_data.get("page") if form.is_valid() else None) or 1,
        page_size=INBOX_PAGE_SIZE,
    )
    previews = last_messages([c.pk for c in page.items])
    for conversation in page.items:
        conversation.preview = previews.get(conversation.pk)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    # htmx swaps only the results; the address bar keeps the filters (hx-push-url).
    template = "dashboard/inbox.html#results" if request.htmx and not request.htmx.boosted else "dashboard/inbox.html"
    return render(request, template, context)


@staff_required
@audit.audited("conversation", audit.Action.VIEW)
def conversation_detail(request, pk):
    conversation = get_object_or_404(Conversation.objects.select_related("customer", "score", "recording"), pk=pk)
    recording = getattr(conversation, "recording", None)
    context = {
        "conversation": conversation,
        "timeline": conversation_timeline(conversation),
        "voice": getattr(conversation, "voice", None),
        "appointments": conversation.appointments.select_related("service", "provider"),
        "cost": conversation_cost(conversation.pk),
        "recording": recording,
        "playable": is_playable(recording),
        "not_playable_because": why_not_playable(recording, conversation),
        "can_download": is_owner(request.user),
    }
    return render(request, "dashboard/conversation.html", context)


@staff_required
@require_safe
def conversation_recording(request, pk):
    """The call's recording, for the page's player (HTTP ranges, so it seeks) or, for owners, as a download.

    One audit entry per listen, not per request: a player asks for many ranges while it seeks, but a
    listen (or a download) begins with a request from the first byte, so only that one is recorded.
    (Opening the page fetches the start for the length; that is recorded too: the audio left the server.)
    """
    conversation = get_object_or_404(Conversation.objects.select_related("recording"), pk=pk)
    recording = getattr(conversation, "recording", None)
    download = request.GET.get("download") == "1"
    if download and not is_owner(request.user):
        raise PermissionDenied("Only owners can download recordings.")
    if not is_playable(recording):
        reason = why_not_playable(recording, conversation) if conversation.channel == "voice" else "Not a call."
        return HttpResponseNotFound(reason, content_type="text/plain; charset=utf-8")
    try:
        response, starts_at_zero = file_response(request, recording, filename=download_name(conversation),
                                                 as_attachment=download)
    except RecordingFileMissing:
        log.warning("Recording %s: its file %s is missing from the storage", recording.pk, recording.file.name)
        return HttpResponseNotFound("This call's recording file is missing from the storage.",
                                    content_type="text/plain; charset=utf-8")
    action = audit.Action.EXPORT if download else audit.Action.VIEW
    sends_audio = request.method == "GET" and response.status_code in (200, 206)
    # A request that skips the first byte is a seek, unless this user has no listen on record lately: then
    # it is a listen too (else `Range: bytes=1-` would take the whole file without a trace).
    if sends_audio and (starts_at_zero or not _listened_lately(request.user, conversation.pk, action)):
        audit.record(request=request, action=action, object_type="recording", object_id=conversation.pk,
                     description="Recording downloaded" if download else "Recording played")
    return response


def _listened_lately(user, conversation_id, action):
    return AuditEntry.objects.filter(user=user, action=action, object_type="recording",
                                     object_id=str(conversation_id),
                                     at__gte=timezone.now() - RECORDING_LISTEN_WINDOW).exists()


@staff_required
@audit.audited("customer", audit.Action.LIST)
def customers(request):
    form = CustomerSearchForm(request.GET)
    valid = form.is_valid()
    page = customers_by_last_contact(
        q=(form.cleaned_data.get("q") or "") if valid else "",
        page=(form.cleaned_data.get("page") if valid else None) or 1,
        page_size=CUSTOMERS_PAGE_SIZE,
        now=timezone.now(),
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    # Like the inbox: htmx swaps only the results, the address bar keeps the search.
    template = "dashboard/customers.html#results" if request.htmx and not request.htmx.boosted else "dashboard/customers.html"
    return render(request, template, context)


@staff_required
@audit.audited("customer", audit.Action.VIEW)
def customer_detail(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    context = {
        "summary": customer_summary(customer),
        "timeline": customer_timeline(customer),
        "merge_form": MergeCustomerForm(),
        "can_forget": is_owner(request.user),
    }
    return render(request, "dashboard/customer.html", context)


def _find_customer(text):
    text = text.strip()
    if text.isdigit() and len(text) < 7:
        return Customer.objects.filter(pk=int(text)).first()
    lookup = Q(email__iexact=text)
    try:
        phone = normalise_phone(text)
    except ValidationError:
        phone = None
    if phone:
        lookup |= Q(phone=phone)
    return Customer.objects.filter(lookup).first()


@staff_required
@require_POST
def customer_merge(request, pk):
    keep = get_object_or_404(Customer, pk=pk)
    form = MergeCustomerForm(request.POST)
    duplicate = _find_customer(form.data.get("duplicate", "")) if form.is_valid() else None
    if duplicate is None:
        messages.error(request, "No customer matches that phone, email or number.")
    elif duplicate.pk == keep.pk:
        messages.error(request, "That is this same customer.")
    else:
        label, duplicate_id = str(duplicate), duplicate.pk
        try:
            merge_customers(keep=keep, duplicate=duplicate)
        except Customer.DoesNotExist:
            # Someone merged one of the two a moment ago; nothing changed here. Show whoever remains.
            messages.error(request, "One of these customers was just merged by someone else; nothing was changed.")
            survivor = keep if Customer.objects.filter(pk=keep.pk).exists() else duplicate
            return redirect("dashboard:customer", pk=survivor.pk)
        audit.record(request=request, action=audit.Action.MERGE, obj=keep, description=f"Customer {duplicate_id} merged into it")
        messages.success(request, f"Merged {label} into this customer.")
    return redirect("dashboard:customer", pk=keep.pk)


@owner_required
@require_POST
def customer_forget(request, pk):
    """Erase a customer's personal data (owners only). Their visits and conversations still count in the metrics."""
    customer = get_object_or_404(Customer, pk=pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, "Tick the box to confirm: forgetting a customer cannot be undone.")
    elif customer.forgotten_at is None:
        forget_customer(customer=customer)
        audit.record(request=request, action=audit.Action.FORGET, obj=customer, description="Personal data erased")
        messages.success(request, "Forgotten: name, phone, email, notes and the words of their conversations are erased.")
    return redirect("dashboard:customer", pk=pk)
