"""manage.py seed_demo: the demo clinic a fresh clone starts with, and its 90 days of history."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from analytics import selectors
from communications.models import (
    Channel,
    CommunicationEvent,
    Conversation,
    Customer,
    EmailDetail,
    Message,
    Outcome,
    Sentiment,
    SmsDetail,
    VoiceCallDetail,
)
from receptionist.tools import ToolContext, run_tool
from scheduling.models import FAQ, Appointment, BusinessHours, ClinicSettings, Closure, Provider, Service

DEMO_LOGIN = "Demo staff login: staff / ava-demo-staff"
CLINIC_NUMBER = "+12125550100"


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts():
    """Rows in every table the seed can touch."""
    models = [*apps.get_app_config("communications").get_models(), *apps.get_app_config("scheduling").get_models(),
              get_user_model()]
    counts = {model._meta.label: model.objects.count() for model in models}
    # Many-to-many rows have no model of their own.
    counts["provider services"] = Provider.services.through.objects.count()
    return counts


def shape():
    """What a fixed seed must reproduce: conversations by channel and outcome, appointments by who booked them."""
    return (
        sorted(Counter(Conversation.objects.values_list("channel", "outcome")).items()),
        sorted(Counter(Appointment.objects.values_list("booked_by", flat=True)).items()),
        Message.objects.count(),
    )


def minutes(t):
    return t.hour * 60 + t.minute


# The demo's 90 days end "now": pinned (the root conftest's instant), so which day a call falls on, and so
# the 90-day and month figures compared below, do not move with the hour CI runs at.
@time_machine.travel(datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("America/New_York")), tick=True)
class SeededClinicTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.output = seed()
        cls.counts = row_counts()
        cls.shape = shape()

    # --- running it again -------------------------------------------------
    def test_a_second_run_changes_no_counts(self):
        output = seed()

        self.assertEqual(row_counts(), self.counts)
        self.assertIn("nothing added", output)

    def test_reset_starts_over_with_the_same_counts_and_shape(self):
        Service.objects.filter(slug="botox").update(price_max=Decimal("999"))

        output = seed("--reset")

        self.assertIn("Deleted the demo data", output)
        self.assertEqual(row_counts(), self.counts)
        self.assertEqual(shape(), self.shape)
        self.assertEqual(Service.objects.get(slug="botox").price_max, Decimal("600"))

    def test_a_rerun_keeps_what_a_manager_changed(self):
        # make run seeds on every start; it must not undo edits made in admin.
        Service.objects.filter(slug="botox").update(price_text="$13 a unit")
        ClinicSettings.objects.filter(pk=1).update(phone="(212) 555-0199")

        seed()

        self.assertEqual(Service.objects.get(slug="botox").price_text, "$13 a unit")
        self.assertEqual(ClinicSettings.load().phone, "(212) 555-0199")

    # --- the staff login ----------------------------------------------------
    def test_the_demo_staff_login_works_and_reaches_admin(self):
        self.assertTrue(self.client.login(username="staff", password="ava-demo-staff"))

        response = self.client.get("/admin/")

        self.assertEqual(response.status_code, 200)

    def test_it_prints_the_demo_login_and_what_it_created(self):
        self.assertIn(DEMO_LOGIN, self.output)
        self.assertIn(f"{Conversation.objects.count()} conversations", self.output)
        self.assertIn(DEMO_LOGIN, seed())

    def test_it_keeps_a_changed_staff_password_unless_reset(self):
        user = get_user_model().objects.get(username="staff")
        user.set_password("the-clinic-own-password")
        user.save()

        output = seed()

        self.assertTrue(self.client.login(username="staff", password="the-clinic-own-password"))
        self.assertNotIn(DEMO_LOGIN, output)
        seed("--reset")
        self.assertTrue(self.client.login(username="staff", password="ava-demo-staff"))

    # --- the catalogue ------------------------------------------------------
    def test_the_clinic_is_a_new_york_med_spa_run_by_ava(self):
        clinic = ClinicSettings.load()

        self.assertEqual(clinic.time_zone, "America/New_York")
        self.assertEqual(clinic.assistant_name, "Ava")
        self.assertTrue(all([clinic.name, clinic.phone, clinic.email, clinic.address, clinic.website, clinic.persona]))
        self.assertIn("24 hours", clinic.cancellation_policy)
        self.assertEqual((clinic.min_booking_notice_minutes, clinic.booking_horizon_days), (120, 90))

    def test_it_opens_weekdays_nine_to_seven_saturday_ten_to_five_and_closes_sunday(self):
        hours = {(h.weekday, h.opens_at.hour, h.closes_at.hour) for h in BusinessHours.objects.all()}

        self.assertEqual(hours, {*((day, 9, 19) for day in range(5)), (5, 10, 17)})
        today = ClinicSettings.load().local_now().date()
        self.assertTrue(Closure.objects.filter(date__gte=today, reason="Thanksgiving").exists())

    def test_services_have_the_durations_and_prices_of_a_real_med_spa(self):
        services = {s.slug: s for s in Service.objects.all()}

        expected = {"consultation": 30, "botox": 30, "dermal-fillers": 45, "laser-hair-removal": 30,
                    "hydrafacial": 60, "chemical-peel": 45, "microneedling": 60, "coolsculpting": 60, "prp-facial": 90}
        self.assertEqual({slug: services[slug].duration_minutes for slug in expected}, expected)
        self.assertEqual((services["botox"].price_min, services["botox"].price_max), (Decimal("300"), Decimal("600")))
        self.assertIn("a unit", services["botox"].price_text)
        self.assertEqual((services["dermal-fillers"].price_min, services["dermal-fillers"].price_max), (Decimal("600"), Decimal("1200")))
        self.assertIn("syringe", services["dermal-fillers"].price_text)
        self.assertEqual(services["consultation"].spoken_price(), "complimentary")
        self.assertEqual({s for s in services if services[s].requires_consultation}, {"dermal-fillers", "coolsculpting"})
        for service in services.values():
            self.assertTrue(service.description and service.preparation and service.aftercare, service.slug)

    def test_every_service_has_a_provider_and_every_provider_does_consultations(self):
        providers = list(Provider.objects.prefetch_related("services"))

        self.assertEqual(len(providers), 3)
        for service in Service.objects.all():
            self.assertTrue(service.providers.exists(), service.slug)
        for provider in providers:
            self.assertIn("consultation", {s.slug for s in provider.services.all()})
            self.assertTrue(provider.credentials and provider.title and provider.bio and provider.specialties)

    def test_provider_weeks_lie_inside_the_clinic_hours(self):
        opening = {h.weekday: (minutes(h.opens_at), minutes(h.closes_at)) for h in BusinessHours.objects.all()}

        for provider in Provider.objects.prefetch_related("schedules"):
            self.assertTrue(provider.schedules.exists())
            for row in provider.schedules.all():
                opens, closes = opening[row.weekday]
                self.assertTrue(opens <= minutes(row.starts_at) < minutes(row.ends_at) <= closes, row)

    def test_there_are_faq_entries_in_every_category(self):
        self.assertEqual(set(FAQ.objects.values_list("category", flat=True)), set(FAQ.Category.values))

    # --- the appointments ---------------------------------------------------
    def test_no_provider_or_customer_is_ever_double_booked(self):
        live = Appointment.objects.exclude(status=Appointment.Status.CANCELLED).order_by("start")
        for key in ("provider_id", "customer_id"):
            ends = defaultdict(lambda: None)
            for appointment in live:
                owner = getattr(appointment, key)
                if ends[owner] is not None:
                    self.assertLessEqual(ends[owner], appointment.start, f"{key} {owner} at {appointment.start}")
                ends[owner] = max(ends[owner] or appointment.end, appointment.end)

    def test_every_appointment_fits_its_provider_week_and_the_clinic_hours(self):
        tz = ClinicSettings.load().tz
        opening = {h.weekday: (minutes(h.opens_at), minutes(h.closes_at)) for h in BusinessHours.objects.all()}
        weeks = defaultdict(list)
        for provider in Provider.objects.prefetch_related("schedules", "services"):
            for row in provider.schedules.all():
                weeks[provider.pk, row.weekday].append((minutes(row.starts_at), minutes(row.ends_at)))

        for a in Appointment.objects.select_related("service", "provider"):
            start, end = a.start.astimezone(tz), a.end.astimezone(tz)
            self.assertEqual(a.end, a.start + timedelta(minutes=a.service.duration_minutes + a.service.buffer_minutes))
            self.assertEqual(start.date(), end.date())
            first, last = minutes(start), minutes(end)
            opens, closes = opening[start.weekday()]
            self.assertTrue(opens <= first and last <= closes, a)
            self.assertTrue(any(lo <= first and last <= hi for lo, hi in weeks[a.provider_id, start.weekday()]), a)
            self.assertIn(a.service, a.provider.services.all())

    def test_past_visits_are_settled_and_future_ones_are_scheduled(self):
        now = timezone.now()

        past = Counter(Appointment.objects.filter(end__lte=now).values_list("status", flat=True))
        future = Counter(Appointment.objects.filter(start__gt=now).values_list("status", flat=True))

        self.assertNotIn(Appointment.Status.SCHEDULED, past)
        self.assertGreater(past[Appointment.Status.COMPLETED], past[Appointment.Status.NO_SHOW] + past[Appointment.Status.CANCELLED])
        self.assertTrue(past[Appointment.Status.NO_SHOW] and past[Appointment.Status.CANCELLED])
        self.assertEqual(set(future) - {Appointment.Status.CANCELLED}, {Appointment.Status.SCHEDULED})
        self.assertTrue(all(a.cancelled_at and a.cancellation_reason for a in Appointment.objects.filter(status="cancelled")))

    def test_ava_booked_appointments_belong_to_the_conversations_that_booked_them(self):
        by_ai = Appointment.objects.filter(conversation__isnull=False).select_related("conversation")

        self.assertTrue(by_ai.exists())
        self.assertTrue(Appointment.objects.filter(conversation__isnull=True, booked_by="staff").exists())
        for appointment in by_ai:
            self.assertEqual(appointment.booked_by, Appointment.BookedBy.AI)
            self.assertEqual(appointment.conversation.outcome, Outcome.BOOKED)
            self.assertEqual(appointment.conversation.customer_id, appointment.customer_id)
            self.assertGreater(appointment.start, appointment.conversation.started_at)
        booked = Conversation.objects.filter(outcome=Outcome.BOOKED)
        self.assertEqual(booked.filter(appointments__isnull=True).count(), 0)

    def test_tool_calls_name_the_appointments_they_touched(self):
        calls = CommunicationEvent.objects.filter(type="tool_call").select_related("conversation")
        names = Counter(event.data["name"] for event in calls)

        self.assertTrue({"check_availability", "book_appointment", "find_appointments", "reschedule_appointment",
                         "cancel_appointment", "transfer_to_staff", "end_call", "get_service_info",
                         "get_business_info"} <= set(names))
        for event in calls:
            self.assertTrue({"name", "arguments", "result"} <= set(event.data))
            if event.data["name"] in {"book_appointment", "reschedule_appointment", "cancel_appointment"}:
                appointment = Appointment.objects.get(pk=event.data["result"]["appointment"]["appointment_id"])
                self.assertEqual(appointment.customer_id, event.conversation.customer_id)
        moved = Appointment.objects.filter(metadata__has_key="reschedules")
        self.assertEqual(moved.count(), Conversation.objects.filter(outcome=Outcome.RESCHEDULED).count())

    def test_recorded_tool_calls_have_the_shape_the_real_tools_answer_with(self):
        # The inbox, the transcripts the scorer reads and the analytics read demo calls as real ones.
        for name in ("get_service_info", "get_business_info", "get_provider_info", "check_availability",
                     "find_appointments"):
            recorded = CommunicationEvent.objects.filter(type="tool_call", data__name=name).order_by("at").first()
            context = ToolContext(channel=recorded.conversation.channel, now=recorded.at)

            real = run_tool(name, recorded.data["arguments"], context=context).output

            self.assertTrue(real["ok"], real)
            self.assertEqual(set(real), set(recorded.data["result"]), name)
            for key, value in real.items():
                if isinstance(value, list) and value and recorded.data["result"][key]:
                    self.assertEqual(set(value[0]), set(recorded.data["result"][key][0]), f"{name}: {key}")

    # --- the conversations ----------------------------------------------------
    def test_about_ninety_days_of_conversations_on_all_three_channels(self):
        now = timezone.now()
        tz = ClinicSettings.load().tz
        channels = Counter(Conversation.objects.values_list("channel", flat=True))
        days = Counter(c.astimezone(tz).date() for c in Conversation.objects.values_list("started_at", flat=True))

        self.assertGreater(channels[Channel.VOICE], channels[Channel.SMS])
        self.assertGreater(channels[Channel.SMS], channels[Channel.EMAIL])
        self.assertGreater(channels[Channel.EMAIL], 0)
        self.assertGreaterEqual(min(days), (now - timedelta(days=91)).astimezone(tz).date())
        self.assertGreaterEqual(max(days), (now - timedelta(days=1)).astimezone(tz).date())
        self.assertFalse(Conversation.objects.filter(ended_at__gt=now).exists())
        self.assertTrue(450 <= sum(channels.values()) <= 900)
        sundays = [n for day, n in days.items() if day.weekday() == 6]
        weekdays = [n for day, n in days.items() if day.weekday() < 5]
        self.assertLess(sum(sundays) / len(sundays), sum(weekdays) / len(weekdays))

    def test_every_voice_conversation_has_its_call_details(self):
        calls = Conversation.objects.filter(channel=Channel.VOICE)

        self.assertEqual(VoiceCallDetail.objects.filter(conversation__in=calls).count(), calls.count())
        for detail in VoiceCallDetail.objects.select_related("conversation"):
            self.assertEqual(detail.duration_seconds, detail.conversation.duration_seconds)
            self.assertTrue(detail.end_reason)
        interrupted = VoiceCallDetail.objects.filter(interruption_count__gt=0)
        self.assertTrue(interrupted.exists())
        for detail in interrupted:
            self.assertEqual(detail.conversation.events.filter(type="interruption").count(), detail.interruption_count)

    def test_most_calls_came_to_the_clinics_number_and_the_rest_from_the_call_page(self):
        calls = VoiceCallDetail.objects.select_related("conversation__customer")
        phone = [c for c in calls if c.source == VoiceCallDetail.Source.PHONE]
        web = [c for c in calls if c.source == VoiceCallDetail.Source.WEB]

        self.assertTrue(len(web) < len(phone) < 0.9 * len(calls), (len(phone), len(web)))
        customer_phones = set(Customer.objects.values_list("phone", flat=True))
        for call in phone:
            self.assertRegex(call.call_sid, r"^CA[0-9a-f]{32}$")
            self.assertRegex(call.stream_sid, r"^MZ[0-9a-f]{32}$")
            self.assertEqual((call.to_number, call.call_status), (CLINIC_NUMBER, "completed"))
            customer = call.conversation.customer
            if customer is not None:
                self.assertEqual(call.from_number, customer.phone)  # caller ID named them
            else:
                self.assertNotIn(call.from_number, customer_phones - {""})  # Ava did not know the number
        self.assertEqual(len({call.call_sid for call in phone}), len(phone))
        strangers = [call.from_number for call in phone if call.conversation.customer is None]
        self.assertTrue("" in strangers and any(strangers), "withheld numbers and unknown ones")
        for call in web:
            self.assertEqual((call.call_sid, call.from_number, call.call_status, call.transfer_outcome),
                             (None, "", "", ""))

    def test_phone_calls_escalated_while_the_desk_was_open_were_put_through(self):
        put_through = VoiceCallDetail.objects.filter(transfer_outcome="completed").select_related("conversation")
        tz = ClinicSettings.load().tz
        opening = {h.weekday: (h.opens_at, h.closes_at) for h in BusinessHours.objects.all()}

        self.assertTrue(put_through.exists())
        for call in put_through:
            conversation = call.conversation
            self.assertEqual((call.source, call.end_reason), ("phone", "transferred"))
            self.assertTrue(conversation.escalated)
            started = conversation.started_at.astimezone(tz)
            opens, closes = opening[started.weekday()]
            self.assertTrue(opens <= started.time() < closes)
            transfer = conversation.events.get(type="tool_call", data__name="transfer_to_staff")
            self.assertIs(transfer.data["result"]["live"], True)
            self.assertIn("putting you through", conversation.messages.last().content)
        # A web call, or a phone call out of hours, leaves a callback instead.
        self.assertTrue(Conversation.objects.filter(escalated=True, channel=Channel.VOICE)
                        .exclude(voice__transfer_outcome="completed").exists())

    def test_the_dashboard_shows_phone_calls_and_web_calls_on_a_fresh_start(self):
        # As `make seed` does: the demo, then its daily metrics rolled up.
        call_command("backfill_metrics", "--days", "90", stdout=StringIO())
        self.client.force_login(get_user_model().objects.get(username="staff"))

        inbox = self.client.get("/dashboard/inbox/?source=phone").content.decode()
        overview = self.client.get("/dashboard/?period=month").content.decode()

        self.assertGreaterEqual(inbox.count(">Phone call</span>"), 20)  # a page of them
        today = ClinicSettings.load().local_now().date()
        ninety_days = selectors.overview(period="custom", start=today - timedelta(days=89), end=today)["by_source"]
        by_source = Counter(VoiceCallDetail.objects.values_list("source", flat=True))
        self.assertEqual({source: ninety_days[source]["voice_calls"] for source in ("phone", "web")}, by_source)
        self.assertTrue(by_source["phone"] and by_source["web"])
        month = selectors.overview(period="month")["by_source"]
        for source, label in (("phone", "Phone calls"), ("web", "Web calls")):
            self.assertIn(f'<th scope="row">{label}</th><td>{month[source]["voice_calls"]}</td>', overview)

    def test_every_text_and_email_message_has_its_delivery_details(self):
        sms = Message.objects.filter(conversation__channel=Channel.SMS)
        email = Message.objects.filter(conversation__channel=Channel.EMAIL)

        self.assertEqual(SmsDetail.objects.count(), sms.count())
        self.assertEqual(EmailDetail.objects.count(), email.count())
        self.assertFalse(SmsDetail.objects.exclude(message__in=sms).exists())
        self.assertFalse(EmailDetail.objects.filter(message__direction="outbound", delivery_status="received").exists())
        replies = EmailDetail.objects.exclude(in_reply_to="")
        self.assertTrue(replies.exists())
        self.assertTrue(all(r.subject.startswith("Re: ") for r in replies))

    def test_transcripts_are_in_order_with_both_sides_speaking(self):
        by_conversation = defaultdict(list)
        for message in Message.objects.order_by("conversation_id", "position"):
            by_conversation[message.conversation_id].append(message)

        self.assertEqual(set(by_conversation), set(Conversation.objects.values_list("id", flat=True)))
        for messages in by_conversation.values():
            self.assertEqual([m.position for m in messages], list(range(len(messages))))
            self.assertEqual([m.sent_at for m in messages], sorted(m.sent_at for m in messages))
            self.assertEqual({m.author for m in messages}, {"customer", "assistant"})
            for m in messages:
                self.assertEqual(m.direction, "inbound" if m.author == "customer" else "outbound")

    def test_every_conversation_is_scored(self):
        for c in Conversation.objects.select_related("score"):
            self.assertIn(c.outcome, Outcome.values)
            self.assertTrue(0 <= c.satisfaction_score <= 10)
            self.assertIn(c.sentiment, Sentiment.values)
            self.assertTrue(c.summary)
            self.assertIsInstance(c.frustration_indicators, list)
            self.assertIsInstance(c.success_markers, list)
            self.assertEqual(c.score.scorer, "demo")
            self.assertTrue(c.started_at <= c.ended_at <= c.score.scored_at)
            self.assertEqual(c.metadata.get("demo"), True)
        self.assertEqual(set(Conversation.objects.values_list("outcome", flat=True)), set(Outcome.values))

    def test_a_few_conversations_were_escalated_to_staff(self):
        escalated = Conversation.objects.filter(escalated=True)

        self.assertTrue(0 < escalated.count() < Conversation.objects.count() * 0.1)
        for conversation in escalated:
            self.assertTrue(conversation.events.filter(type="tool_call", data__name="transfer_to_staff").exists())

    def test_customers_have_fictional_phones_and_example_emails(self):
        customers = {c.customer for c in Conversation.objects.select_related("customer") if c.customer}

        for customer in customers:
            self.assertRegex(customer.phone, r"^\+1\d{3}5550(1\d\d)$")
            if customer.email:
                self.assertRegex(customer.email, r"@example\.(com|net|org)$")
        returning = Counter(Conversation.objects.exclude(customer=None).values_list("customer_id", flat=True))
        self.assertTrue(any(n > 1 for n in returning.values()))
