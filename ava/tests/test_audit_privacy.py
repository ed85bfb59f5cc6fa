"""Retention (transcripts redacted after TRANSCRIPT_RETENTION_DAYS, metrics kept) and "forget this customer"."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from analytics import services as analytics_services
from analytics.figures import figures_by_day
from analytics.models import ConversationScore, DailyMetric
from ava.settings import CELERY_BEAT_SCHEDULE
from communications.models import (
    Channel,
    CommunicationEvent,
    Conversation,
    Customer,
    DeliveryStatus,
    EmailDetail,
    Message,
    OutboundMessage,
    SmsDetail,
)
from communications.selectors import conversations_for_inbox, customer_summary
from communications.services import (
    REDACTED,
    add_message,
    end_conversation,
    forget_customer,
    record_event,
    redact_expired_transcripts,
    start_conversation,
)
from communications.tasks import redact_expired_transcripts as redact_task
from communications.tests.factories import CustomerFactory
from conventions.models import AuditEntry
from scheduling.models import Appointment, ClinicSettings
from scheduling.tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory, open_clinic

pytestmark = pytest.mark.django_db
PHONE = "+12125550142"


@pytest.fixture
def clinic(db):
    return open_clinic()


@pytest.fixture
def jane(clinic):
    return CustomerFactory(name="Jane Doe", phone=PHONE, email="jane@example.com", notes="Allergic to lidocaine")


def a_call(customer, *, days_ago, minutes=3):
    """A booked voice call with words, tool calls, consent, a score and an appointment Ava booked."""
    started = timezone.now() - timedelta(days=days_ago)
    conversation = start_conversation(channel=Channel.VOICE, customer=customer, at=started,
                                      metadata={"caller_phone": PHONE, "typed": False})
    record_event(conversation_id=conversation.pk, type="consent", at=started,
                 data={"accepted": True, "notice": "This call is recorded.", "channel": "voice"})
    add_message(conversation_id=conversation.pk, author="assistant", content="Lumière Med Spa, this is Ava.",
                sent_at=started)
    add_message(conversation_id=conversation.pk, author="customer", sent_at=started + timedelta(seconds=5),
                content="Hi, this is Jane Doe, 212 555 0142. I'd like a hydrafacial.")
    record_event(conversation_id=conversation.pk, type="tool_call", at=started + timedelta(seconds=20), data={
        "name": "check_availability", "arguments": {"service": "hydrafacial"},
        "result": {"ok": False, "error": "No openings on Friday"}, "call_id": "call_1", "duration_ms": 12})
    record_event(conversation_id=conversation.pk, type="tool_call", at=started + timedelta(seconds=40), data={
        "name": "book_appointment", "arguments": {"name": "Jane Doe", "phone": PHONE},
        "result": {"ok": True, "appointment": {"id": 7, "customer": "Jane Doe"}}, "call_id": "call_2",
        "duration_ms": 30})
    service = ServiceFactory()
    AppointmentFactory(customer=customer, conversation=conversation, service=service,
                       provider=ProviderFactory(services=[service]), booked_by=Appointment.BookedBy.AI,
                       start=started + timedelta(days=2), notes="Jane prefers mornings")
    end_conversation(conversation_id=conversation.pk, at=started + timedelta(minutes=minutes))
    Conversation.objects.filter(pk=conversation.pk).update(
        outcome="booked", satisfaction_score=9, sentiment="positive", summary="Jane Doe booked a HydraFacial.",
        success_markers=["booked on the first try"], frustration_indicators=["repeated her phone"])
    ConversationScore.objects.update_or_create(conversation=conversation, defaults={
        "status": "scored", "scorer": "openai", "scored_at": started + timedelta(minutes=minutes + 1),
        "answer": {"summary": "Jane Doe booked a HydraFacial.", "satisfaction_score": 9, "outcome": "booked",
                   "sentiment": "positive", "escalation_requested": False,
                   "frustration_indicators": ["repeated her phone"]},
        "overridden": {"outcome": {"was": "info_only", "why": "Jane Doe was booked"}}})
    return Conversation.objects.get(pk=conversation.pk)


def a_text_thread(customer, *, days_ago):
    """An SMS question, Ava's reply (sent through the outbox) and an email, all with their details."""
    at = timezone.now() - timedelta(days=days_ago)
    conversation = start_conversation(channel=Channel.SMS, customer=customer, at=at)
    text = add_message(conversation_id=conversation.pk, author="customer", content="Is parking free? - Jane", sent_at=at)
    SmsDetail.objects.create(message=text, provider_message_id=f"SM{conversation.pk.hex}", from_number=PHONE,
                             to_number="+12125550100", delivery_status=DeliveryStatus.RECEIVED)
    reply = add_message(conversation_id=conversation.pk, author="assistant", content="Yes, behind the building, Jane.",
                        sent_at=at + timedelta(seconds=30))
    OutboundMessage.objects.create(channel=Channel.SMS, kind="reply", customer=customer, message=reply, to=PHONE,
                                   body=reply.content, status=DeliveryStatus.OUTBOX)
    mail = add_message(conversation_id=conversation.pk, author="customer", content="Thanks! Jane",
                       sent_at=at + timedelta(minutes=1))
    EmailDetail.objects.create(message=mail, subject="Parking for Jane Doe", from_email="jane@example.com",
                               to=["ava@clinic.example"], delivery_status=DeliveryStatus.RECEIVED)
    end_conversation(conversation_id=conversation.pk, at=at + timedelta(minutes=2))
    return conversation


def shape(conversation):
    """What the metrics and the dashboard's figures read from a conversation: none of it may change."""
    conversation.refresh_from_db()
    messages = list(Message.objects.filter(conversation=conversation).values_list("author", "direction", "position",
                                                                                  "sent_at"))
    events = list(CommunicationEvent.objects.filter(conversation=conversation).values_list("type", "at"))
    return (conversation.channel, conversation.status, conversation.started_at, conversation.ended_at,
            conversation.outcome, conversation.satisfaction_score, conversation.sentiment, conversation.escalated,
            conversation.score.scored_at if hasattr(conversation, "score") else None, messages, events,
            conversation.appointments.count())


def assert_no_words_left(conversation, *words):
    conversation.refresh_from_db()
    texts = [str(conversation.summary), str(conversation.metadata), str(conversation.success_markers),
             str(conversation.frustration_indicators)]
    texts += [m.content + str(m.metadata) for m in Message.objects.filter(conversation=conversation)]
    texts += [str(e.data) for e in CommunicationEvent.objects.filter(conversation=conversation)]
    texts += [f"{d.from_number} {d.to_number}" for d in SmsDetail.objects.filter(message__conversation=conversation)]
    texts += [f"{d.subject} {d.from_email} {d.to}" for d in EmailDetail.objects.filter(message__conversation=conversation)]
    texts += [f"{o.to} {o.body}" for o in OutboundMessage.objects.filter(message__conversation=conversation)]
    score = ConversationScore.objects.filter(conversation=conversation).first()
    if score:
        texts += [str(score.answer), str(score.overridden)]
    for word in words:
        assert not [text for text in texts if word.lower() in text.lower()], word


# --- retention ------------------------------------------------------------------------------------------

def test_transcripts_older_than_the_retention_are_redacted_and_their_figures_kept(jane, settings):
    assert settings.TRANSCRIPT_RETENTION_DAYS == 365
    old = a_call(jane, days_ago=400)
    old_texts = a_text_thread(jane, days_ago=380)
    recent = a_call(jane, days_ago=300)
    tz = ClinicSettings.load().tz
    day = timezone.localtime(old.started_at, tz).date()
    analytics_services.rollup_day(day=day, tz=tz)
    metrics_before = list(DailyMetric.objects.filter(date=day).values())
    figures_before = figures_by_day(day, day, tz)
    shapes_before = shape(old), shape(old_texts)

    for word in ("Jane", "2125550142", "hydrafacial", "jane@example.com"):  # they are there to begin with
        with pytest.raises(AssertionError):
            assert_no_words_left(old if word != "jane@example.com" else old_texts, word)

    assert redact_expired_transcripts() == 2

    assert_no_words_left(old, "Jane", "212 555", "2125550142", "hydrafacial", "lidocaine", "jane@example.com")
    assert_no_words_left(old_texts, "Jane", "2125550142", "parking", "jane@example.com")
    assert set(Message.objects.filter(conversation=old).values_list("content", flat=True)) == {REDACTED}
    # Everything that is counted stays: outcome, score, times, each message's place, the booking...
    assert (shape(old), shape(old_texts)) == shapes_before
    assert list(DailyMetric.objects.filter(date=day).values()) == metrics_before
    # ...and the day's figures computed again from what is left are the same (tool names and failures kept).
    assert figures_by_day(day, day, tz) == figures_before
    tool_calls = CommunicationEvent.objects.filter(conversation=old, type="tool_call").order_by("at")
    assert [(e.data["name"], "error" in e.data["result"]) for e in tool_calls] == [
        ("check_availability", True), ("book_appointment", False)]
    consent = CommunicationEvent.objects.get(conversation=old, type="consent")
    assert consent.data["accepted"] is True
    assert ConversationScore.objects.get(conversation=old).answer == {
        "satisfaction_score": 9, "outcome": "booked", "sentiment": "positive", "escalation_requested": False}
    assert old.metadata["redacted_why"] == "retention" and "redacted_at" in old.metadata
    # The customer and the appointment are the clinic's records, not the transcript: they stay.
    jane.refresh_from_db()
    assert jane.name == "Jane Doe" and jane.phone == PHONE
    # A conversation inside the retention keeps every word.
    assert "Jane Doe, 212 555 0142" in Message.objects.get(conversation=recent, author="customer").content
    assert "redacted_at" not in recent.metadata


def test_redacted_words_are_no_longer_found_by_the_inbox_search(jane):
    old = a_call(jane, days_ago=400)
    assert list(conversations_for_inbox(q="hydrafacial")) == [old]
    redact_expired_transcripts()
    assert list(conversations_for_inbox(q="hydrafacial")) == []


def test_a_redacted_conversation_is_never_scored_again(jane):
    old = a_call(jane, days_ago=400)
    redact_expired_transcripts()
    result = analytics_services.score_conversation(conversation_id=old.pk, force=True)
    assert result.status == "redacted"
    old.refresh_from_db()
    assert (old.outcome, old.satisfaction_score) == ("booked", 9)


def test_it_runs_in_batches_and_a_second_run_changes_nothing(jane):
    calls = [a_call(jane, days_ago=400 + n) for n in range(3)]
    assert redact_expired_transcripts(batch_size=2, max_batches=1) == 2
    # The oldest go first; the third is left for the next batch.
    assert "redacted_at" not in Conversation.objects.get(pk=calls[0].pk).metadata
    assert redact_expired_transcripts(batch_size=2) == 1
    marks = {c.pk: c.metadata["redacted_at"] for c in Conversation.objects.all()}
    assert redact_expired_transcripts() == 0
    assert {c.pk: c.metadata["redacted_at"] for c in Conversation.objects.all()} == marks


def test_active_conversations_are_never_redacted(jane):
    conversation = start_conversation(channel=Channel.SMS, customer=jane, at=timezone.now() - timedelta(days=500))
    add_message(conversation_id=conversation.pk, author="customer", content="Still there?",
                sent_at=timezone.now() - timedelta(days=500))
    assert redact_expired_transcripts() == 0
    assert Message.objects.get().content == "Still there?"


def test_zero_days_keeps_transcripts_forever(jane, settings):
    settings.TRANSCRIPT_RETENTION_DAYS = 0
    a_call(jane, days_ago=3000)
    assert redact_expired_transcripts() == 0
    assert Message.objects.filter(content=REDACTED).count() == 0


def test_the_retention_is_a_setting(jane, settings):
    settings.TRANSCRIPT_RETENTION_DAYS = 30
    a_call(jane, days_ago=31)
    assert redact_expired_transcripts() == 1


def test_the_nightly_task_is_scheduled_and_redacts(jane):
    entry = CELERY_BEAT_SCHEDULE["communications-redact-expired-transcripts"]
    assert entry["task"] == "communications.tasks.redact_expired_transcripts"
    assert len(entry["schedule"].hour) == 1 and len(entry["schedule"].minute) == 1  # once a day
    a_call(jane, days_ago=400)
    redact_task.delay()
    assert set(Message.objects.values_list("content", flat=True)) == {REDACTED}


def test_confirmations_and_reminders_sent_outside_a_conversation_age_out_too(jane):
    old = OutboundMessage.objects.create(channel=Channel.SMS, kind="reminder", customer=jane, to=PHONE,
                                         body="Jane, see you tomorrow at 10", status=DeliveryStatus.OUTBOX,
                                         created_at=timezone.now() - timedelta(days=400))
    new = OutboundMessage.objects.create(channel=Channel.SMS, kind="reminder", customer=jane, to=PHONE,
                                         body="Jane, see you tomorrow at 11", status=DeliveryStatus.OUTBOX)
    redact_expired_transcripts()
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.body, old.to) == (REDACTED, "") and old.status == DeliveryStatus.OUTBOX
    assert new.body == "Jane, see you tomorrow at 11"


# --- forget this customer --------------------------------------------------------------------------------

@pytest.fixture
def owner(owner_user):
    client = Client()
    client.force_login(owner_user)
    return client


def test_an_owner_forgets_a_customer_and_the_clinic_keeps_its_figures(owner, jane):
    call = a_call(jane, days_ago=2)
    thread = a_text_thread(jane, days_ago=1)
    appointment = Appointment.objects.get()
    summary_before = customer_summary(jane)
    shapes_before = shape(call), shape(thread)
    other = CustomerFactory(name="Someone Else")
    others_call = a_call(other, days_ago=2)

    page = owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()
    assert "Forget this customer" in page
    response = owner.post(f"/dashboard/customers/{jane.pk}/forget/", {"confirm": "yes"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302 and response["Location"] == f"/dashboard/customers/{jane.pk}/"

    jane.refresh_from_db()
    assert (jane.name, jane.phone, jane.email, jane.notes) == ("", None, None, "")
    assert jane.forgotten_at is not None and str(jane) == f"Customer {jane.pk}"
    for conversation in (call, thread):
        assert_no_words_left(conversation, "Jane", "2125550142", "212 555", "jane@example.com", "parking")
    assert (shape(call), shape(thread)) == shapes_before
    # The appointment keeps service, provider and time, and points at the anonymous customer.
    appointment_after = Appointment.objects.get(pk=appointment.pk)
    assert (appointment_after.customer_id, appointment_after.service_id, appointment_after.provider_id,
            appointment_after.start) == (jane.pk, appointment.service_id, appointment.provider_id, appointment.start)
    assert appointment_after.notes == ""
    summary_after = customer_summary(jane)
    assert (summary_after.conversations, summary_after.bookings) == (summary_before.conversations, summary_before.bookings)
    # Someone else's words are untouched.
    assert "Jane Doe, 212 555 0142" in Message.objects.get(conversation=others_call, author="customer").content
    entry = AuditEntry.objects.get(action="forget")
    assert (entry.username, entry.object_type, entry.object_id, entry.ip_address) == (
        "owner", "customer", str(jane.pk), "203.0.113.7")
    page = owner.get(f"/dashboard/customers/{jane.pk}/").content.decode()
    assert "Jane" not in page and "Forgotten" in page


def test_a_text_from_a_forgotten_number_starts_a_new_customer(jane):
    a_text_thread(jane, days_ago=1)
    forget_customer(customer=jane)
    from communications.messaging.sms import receive_sms

    received = receive_sms(message_sid=None, from_number=PHONE, body="Hello again")
    assert received.message.conversation.customer_id != jane.pk
    assert Customer.objects.get(phone=PHONE).forgotten_at is None


def test_staff_who_are_not_owners_cannot_forget_a_customer(staff_client, jane):
    assert "Forget this customer" not in staff_client.get(f"/dashboard/customers/{jane.pk}/").content.decode()
    response = staff_client.post(f"/dashboard/customers/{jane.pk}/forget/", {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    jane.refresh_from_db()
    assert jane.name == "Jane Doe" and jane.forgotten_at is None
    assert not AuditEntry.objects.filter(action="forget").exists()


def test_forgetting_needs_the_box_ticked(owner, jane):
    response = owner.post(f"/dashboard/customers/{jane.pk}/forget/", {})
    assert response.status_code == 302
    jane.refresh_from_db()
    assert jane.name == "Jane Doe"
    assert "cannot be undone" in owner.get(response["Location"]).content.decode()
    assert not AuditEntry.objects.filter(action="forget").exists()


# --- consent: an SMS opt-out survives a merge -------------------------------------------------------------

def test_merging_keeps_an_sms_opt_out_so_the_merged_customer_is_not_texted(staff_client, clinic):
    from communications.messaging import notify

    keep = CustomerFactory(name="Jane Doe", phone=None, email="jane@example.com")
    duplicate = CustomerFactory(name="", phone=PHONE, email=None)
    duplicate.opt_out_of_sms()
    staff_client.post(f"/dashboard/customers/{keep.pk}/merge/", {"duplicate": PHONE})
    keep.refresh_from_db()
    assert keep.phone == PHONE and keep.sms_opted_out

    sent = notify(customer=keep, kind="reminder", key="merge-test", sms_body="See you tomorrow",
                  email_subject="Tomorrow", email_body="See you tomorrow")
    assert [outbound.channel for outbound in sent] == [Channel.EMAIL]
