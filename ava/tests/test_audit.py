"""The audit log: every view of a conversation, transcript or customer and every change to an appointment or
customer, from the dashboard, the API and admin, says who, what, which record, when and from where."""

from datetime import datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from communications.models import Channel, Customer
from communications.services import add_message, end_conversation, start_conversation
from communications.tests.factories import CustomerFactory
from conventions.models import AuditEntry, AuditLogIsAppendOnly
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory, open_clinic

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"


@pytest.fixture
def spa(db):
    open_clinic(min_booking_notice_minutes=0, booking_horizon_days=400, cancellation_notice_hours=24)
    botox = ServiceFactory(name="Botox", slug="botox", duration_minutes=30, buffer_minutes=15)
    dana = ProviderFactory(name="Dana Lee", services=[botox], weekly_hours=[(d, "09:00", "17:00") for d in range(7)])
    tz = ClinicSettings.load().tz
    day = datetime.now(tz).date() + timedelta(days=3)
    return type("Spa", (), {"botox": botox, "dana": dana, "at": lambda self, hour: datetime.combine(day, time(hour), tzinfo=tz)})()


@pytest.fixture
def owner(owner_user):
    client = Client()
    client.force_login(owner_user)
    return client


@pytest.fixture
def call():
    customer = CustomerFactory(name="Jane Doe")
    conversation = start_conversation(channel=Channel.VOICE, customer=customer)
    add_message(conversation_id=conversation.pk, author="customer", content="Can I book Botox on Friday?")
    end_conversation(conversation_id=conversation.pk)
    return conversation


def entries():
    return [(e.username, e.action, e.object_type, e.object_id) for e in AuditEntry.objects.order_by("at", "id")]


def get(client, url, **extra):
    return client.get(url, REMOTE_ADDR=ADDRESS, **extra)


def post(client, url, data=None, **extra):
    return client.post(url, data or {}, REMOTE_ADDR=ADDRESS, **extra)


# --- the dashboard ---------------------------------------------------------------------------------------

def test_opening_a_conversation_records_who_which_when_and_from_where(staff_client, staff_user, call):
    before = timezone.now()
    assert get(staff_client, f"/dashboard/conversations/{call.pk}/").status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.username, entry.action, entry.object_type, entry.object_id) == (
        staff_user, "frontdesk", "view", "conversation", str(call.pk))
    assert entry.ip_address == ADDRESS and entry.path == f"/dashboard/conversations/{call.pk}/"
    assert before <= entry.at <= timezone.now()


def test_a_customer_page_and_the_inbox_are_recorded(staff_client, call):
    customer = call.customer
    assert get(staff_client, f"/dashboard/customers/{customer.pk}/").status_code == 200
    assert get(staff_client, "/dashboard/inbox/?q=Jane").status_code == 200
    assert entries() == [("frontdesk", "view", "customer", str(customer.pk)), ("frontdesk", "list", "conversation", "")]
    # A search can name a person; the log keeps the page, not what was searched for.
    assert AuditEntry.objects.get(action="list").path == "/dashboard/inbox/"


def test_refused_and_missing_pages_record_nothing(staff_client, call):
    assert get(Client(), f"/dashboard/conversations/{call.pk}/").status_code == 302
    assert get(Client(), f"/api/admin/calls/{call.pk}/transcript").status_code == 403
    assert get(staff_client, "/dashboard/customers/999999/").status_code == 404
    assert entries() == []


def test_merging_customers_is_recorded_without_names(staff_client):
    keep = CustomerFactory(name="Jane Doe", phone="+12125550101")
    duplicate = CustomerFactory(name="J. Doe", phone="+12125550102")
    response = post(staff_client, f"/dashboard/customers/{keep.pk}/merge/", {"duplicate": "+1 212 555 0102"})
    assert response.status_code == 302 and not Customer.objects.filter(pk=duplicate.pk).exists()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == ("merge", "customer", str(keep.pk))
    assert entry.description == f"Customer {duplicate.pk} merged into it" and "Doe" not in entry.description


def test_a_merge_that_found_no_one_is_not_recorded(staff_client):
    keep = CustomerFactory()
    post(staff_client, f"/dashboard/customers/{keep.pk}/merge/", {"duplicate": "+1 212 555 0999"})
    assert entries() == []


def test_rescoring_is_recorded(staff_client, call):
    assert post(staff_client, f"/dashboard/conversations/{call.pk}/rescore/").status_code == 302
    assert entries() == [("frontdesk", "rescore", "conversation", str(call.pk))]


def test_the_messaging_console_records_the_customer_it_creates_and_the_conversation(staff_client):
    response = post(staff_client, "/dashboard/console/send/", {"channel": "sms", "phone": "+1 212 555 0142",
                                                                "name": "Console Tester", "body": "Hi"})
    assert response.status_code == 302
    customer = Customer.objects.get(phone="+12125550142")
    conversation = customer.conversations.get()
    assert entries() == [("frontdesk", "create", "customer", str(customer.pk)),
                         ("frontdesk", "update", "conversation", str(conversation.pk))]
    # Writing again as the same customer creates no one.
    post(staff_client, "/dashboard/console/send/", {"channel": "sms", "customer": customer.pk, "body": "Still there?"})
    assert [e[1:3] for e in entries()[2:]] == [("update", "conversation")]
    # Opening the console on that conversation is a view; its every-2-seconds refresh is not.
    get(staff_client, f"/dashboard/console/?conversation={conversation.pk}")
    get(staff_client, f"/dashboard/console/?conversation={conversation.pk}&part=thread", HTTP_HX_REQUEST="true")
    assert [e[1:3] for e in entries()[3:]] == [("view", "conversation")]


def test_staff_booking_cancelling_and_rescheduling_on_the_dashboard_are_recorded(staff_client, spa):
    jane = CustomerFactory(name="Jane Doe")
    response = post(staff_client, "/dashboard/appointments/new/", {
        "service": spa.botox.pk, "provider": "", "date": f"{spa.at(11):%Y-%m-%d}",
        "slot": f"{spa.dana.pk}|{spa.at(11).isoformat()}", "customer": jane.pk, "notes": ""})
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    get(staff_client, f"/dashboard/appointments/{appointment.pk}/")
    post(staff_client, f"/dashboard/appointments/{appointment.pk}/reschedule/",
         {"slot": f"{spa.dana.pk}|{spa.at(14).isoformat()}"})
    post(staff_client, f"/dashboard/appointments/{appointment.pk}/cancel/", {"reason": "Unwell"})
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    key = str(appointment.pk)
    assert entries() == [("frontdesk", "create", "appointment", key), ("frontdesk", "view", "appointment", key),
                         ("frontdesk", "reschedule", "appointment", key), ("frontdesk", "cancel", "appointment", key)]


def test_a_refused_cancellation_is_not_recorded(staff_client, spa):
    past = AppointmentFactory(service=spa.botox, provider=spa.dana, start=timezone.now() - timedelta(days=2))
    assert post(staff_client, f"/dashboard/appointments/{past.pk}/cancel/", {"reason": "oops"}).status_code == 409
    assert entries() == []


# --- the API ---------------------------------------------------------------------------------------------

def test_the_api_records_customer_views_and_creations(staff_client):
    response = post(staff_client, "/api/customers", {"name": "Ana Ruiz", "phone": "(212) 555-0142"},
                    content_type="application/json")
    assert response.status_code == 201
    customer_id = str(response.json()["id"])
    again = post(staff_client, "/api/customers", {"phone": "(212) 555-0142"}, content_type="application/json")
    assert again.status_code == 200
    get(staff_client, f"/api/customers/{customer_id}")
    get(staff_client, f"/api/customers/{customer_id}/history")
    assert entries() == [("frontdesk", "create", "customer", customer_id), ("frontdesk", "view", "customer", customer_id),
                         ("frontdesk", "view", "customer", customer_id), ("frontdesk", "view", "customer", customer_id)]
    assert {e.ip_address for e in AuditEntry.objects.all()} == {ADDRESS}


def test_the_api_records_conversation_calls_and_transcript_reads(staff_client, call):
    key = str(call.pk)
    for url in ("/api/admin/communications", f"/api/admin/communications/{key}", "/api/admin/calls",
                f"/api/admin/calls/{key}", f"/api/admin/calls/{key}/transcript"):
        assert get(staff_client, url).status_code == 200, url
    assert entries() == [("frontdesk", "list", "conversation", ""), ("frontdesk", "view", "conversation", key),
                         ("frontdesk", "list", "conversation", ""), ("frontdesk", "view", "conversation", key),
                         ("frontdesk", "view", "transcript", key)]


def test_the_api_records_booking_cancelling_and_rescheduling(staff_client, spa):
    response = post(staff_client, "/api/appointments", {"service": spa.botox.pk, "start": spa.at(10).isoformat(),
                                                        "phone": "(212) 555-0142", "name": "Ana Ruiz"},
                    content_type="application/json")
    assert response.status_code == 201
    key = str(response.json()["id"])
    assert post(staff_client, f"/api/appointments/{key}/reschedule", {"start": spa.at(13).isoformat()},
                content_type="application/json").status_code == 200
    assert post(staff_client, f"/api/appointments/{key}/cancel", {"reason": "Unwell"},
                content_type="application/json").status_code == 200
    get(staff_client, "/api/appointments")
    assert entries() == [("frontdesk", "create", "appointment", key), ("frontdesk", "reschedule", "appointment", key),
                         ("frontdesk", "cancel", "appointment", key), ("frontdesk", "list", "appointment", "")]


def test_a_token_client_is_recorded_as_its_account(client, staff_user, call):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user)
    assert get(client, f"/api/admin/calls/{call.pk}/transcript", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert entries() == [("frontdesk", "view", "transcript", str(call.pk))]


# --- the address ---------------------------------------------------------------------------------------

def test_a_forwarded_for_header_is_ignored_unless_the_proxy_is_trusted(staff_client, settings, call):
    get(staff_client, f"/dashboard/conversations/{call.pk}/", HTTP_X_FORWARDED_FOR="198.51.100.9")
    settings.TRUST_X_FORWARDED_FOR = True
    get(staff_client, f"/dashboard/conversations/{call.pk}/", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.9")
    assert [e.ip_address for e in AuditEntry.objects.order_by("id")] == [ADDRESS, "198.51.100.9"]


# --- Django admin: owners read it, nobody edits it ------------------------------------------------------

def test_owners_read_the_log_in_admin_with_filters_and_search(owner, staff_client, call):
    get(staff_client, f"/dashboard/conversations/{call.pk}/")
    response = owner.get("/admin/conventions/auditentry/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "frontdesk" in page and str(call.pk) in page
    assert owner.get("/admin/conventions/auditentry/?action__exact=view").status_code == 200
    assert "frontdesk" in owner.get("/admin/conventions/auditentry/?q=frontdesk").content.decode()
    assert "frontdesk" not in owner.get("/admin/conventions/auditentry/?q=nobody").content.decode()


def test_nobody_can_add_change_or_delete_an_entry_in_admin(owner, staff_client, call):
    get(staff_client, f"/dashboard/conversations/{call.pk}/")
    entry = AuditEntry.objects.get()
    base = "/admin/conventions/auditentry/"
    assert owner.get(f"{base}add/").status_code == 403
    assert owner.get(f"{base}{entry.pk}/delete/").status_code == 403
    assert owner.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    # The record's page is read-only: no form to save, and a forged save changes nothing.
    page = owner.get(f"{base}{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert owner.post(f"{base}{entry.pk}/change/", {"username": "someone-else"}).status_code == 403
    assert 'name="action"' not in owner.get(base).content.decode()  # no bulk delete
    entry.refresh_from_db()
    assert entry.username == "frontdesk" and AuditEntry.objects.count() == 1


def test_the_model_refuses_changes_and_deletions(staff_user):
    entry = AuditEntry.objects.create(user=staff_user, username="frontdesk", action="view", object_type="customer",
                                      object_id="1")
    entry.username = "someone-else"
    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(username="someone-else")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().username == "frontdesk"


def test_a_deleted_account_leaves_its_name_in_the_log(staff_client, staff_user, call):
    get(staff_client, f"/dashboard/conversations/{call.pk}/")
    staff_user.delete()
    entry = AuditEntry.objects.get()
    assert entry.user is None and entry.username == "frontdesk"


def test_owners_reading_and_changing_records_in_admin_are_recorded(owner, call, spa):
    customer = call.customer
    get(owner, f"/admin/communications/conversation/{call.pk}/change/")
    get(owner, f"/admin/communications/customer/{customer.pk}/change/")
    response = post(owner, f"/admin/communications/customer/{customer.pk}/change/", {
        "name": "Jane Q. Doe", "phone": customer.phone, "email": customer.email, "is_new_client": "on", "notes": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = AppointmentFactory(customer=customer, service=spa.botox, provider=spa.dana, start=spa.at(10))
    get(owner, f"/admin/scheduling/appointment/{appointment.pk}/change/")
    assert entries() == [("owner", "view", "conversation", str(call.pk)), ("owner", "view", "customer", str(customer.pk)),
                         ("owner", "update", "customer", str(customer.pk)),
                         ("owner", "view", "appointment", str(appointment.pk))]
    assert AuditEntry.objects.get(action="update").description == "Django admin: name"
