"""The text agent end to end: texts in through the signed webhook, Ava's answers out through Twilio (a local fake).

With OpenAI (a local fake speaking Chat Completions with tools) and with the local engine, a
booking spans several texts: the second answer is written knowing the first one's tool calls.
"""

import json
from datetime import datetime, timedelta

import pytest
from django.db.models.signals import post_save

from communications import services as communications
from communications.messaging import email as email_channel
from communications.messaging import sms
from communications.models import Channel, CommunicationEvent, Conversation, Customer, Message, OutboundMessage
from communications.tests.messaging_fixtures import (  # noqa: F401  (fixtures)
    post_signed,
    spa,
    text_params,
    twilio,
    twilio_webhooks,
)
from receptionist import tasks, text_agent
from receptionist.tools import TOOL_NAMES
from scheduling.models import Appointment
from tests.fakes.openai_http import FakeOpenAI, Reply

pytestmark = pytest.mark.django_db
SMS_URL = "/webhooks/twilio/sms"
CALLER = "+12125550142"
TOOL_CALL_KEYS = {"name", "arguments", "result", "call_id", "duration_ms"}


@pytest.fixture
def openai(settings):
    with FakeOpenAI() as fake:
        settings.OPENAI_API_KEY = "test-key"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_TEXT_MODEL = "gpt-text-test"
        settings.ANALYTICS_SCORING_MAX_RETRIES = 0
        yield fake


def text_in(client, body, n, callbacks):
    with callbacks(execute=True):
        response = post_signed(client, SMS_URL, text_params(body, sid=f"SM{n:032d}"))
    assert response.status_code == 200
    return response


def chat_requests(fake):
    return [r.json for r in fake.requests if r.path == "/v1/chat/completions"]


def test_an_sms_booking_over_two_texts_with_openai(client, spa, twilio, openai, django_capture_on_commit_callbacks):
    day = spa.tomorrow.isoformat()
    check_id, = openai.tool_calls(("check_availability", {"service": "HydraFacial", "date": day, "time": "10:00"}))
    openai.text("Tomorrow I have 10 AM with Dana Reyes. Shall I book it?")
    text_in(client, "Hi! Can I get a HydraFacial tomorrow around 10?", 1, django_capture_on_commit_callbacks)

    book_id, = openai.tool_calls(("book_appointment", {"service": "HydraFacial", "start": f"{day}T10:00",
                                                       "name": "Maya Patel", "phone": CALLER}))
    openai.text("You're booked: HydraFacial with Dana Reyes tomorrow at 10 AM.")
    text_in(client, "Yes please! It's Maya Patel", 2, django_capture_on_commit_callbacks)

    # The appointment, for the customer who texted, from this conversation.
    conversation = Conversation.objects.get(channel=Channel.SMS)
    appointment = Appointment.objects.get()
    assert appointment.customer.phone == CALLER and appointment.customer.name == "Maya Patel"
    assert appointment.service == spa.hydrafacial and appointment.booked_by == Appointment.BookedBy.AI
    assert appointment.local_start(spa.clinic.tz).strftime("%Y-%m-%dT%H:%M") == f"{day}T10:00"
    assert appointment.conversation == conversation

    # The words in order, and the tool calls recorded as the voice bridge records them.
    assert [(m.author, m.content[:20]) for m in conversation.messages.all()] == [
        ("customer", "Hi! Can I get a Hydr"), ("assistant", "Tomorrow I have 10 A"),
        ("customer", "Yes please! It's May"), ("assistant", "You're booked: Hydra")]
    calls = list(CommunicationEvent.objects.filter(conversation=conversation, type="tool_call"))
    assert [(c.data["name"], c.data["call_id"]) for c in calls] == [("check_availability", check_id),
                                                                    ("book_appointment", book_id)]
    assert all(set(c.data) == TOOL_CALL_KEYS for c in calls)
    assert calls[1].data["result"]["ok"] is True and calls[1].data["result"]["booked"] is True

    # The second text's first request carried the whole thread, the first tool call and its result included.
    requests = chat_requests(openai)
    assert len(requests) == 4
    second = requests[2]["messages"]
    assert second[0]["role"] == "system" and "Glow Med Spa" in second[0]["content"]
    assert "texting" in second[0]["content"] and CALLER in second[0]["content"]
    assert [m["role"] for m in second[1:]] == ["user", "assistant", "tool", "assistant", "user"]
    assert second[2]["tool_calls"][0]["id"] == check_id
    assert second[2]["tool_calls"][0]["function"]["name"] == "check_availability"
    tool_result = json.loads(second[3]["content"])
    assert second[3]["tool_call_id"] == check_id and tool_result["ok"] is True and tool_result["openings"]
    assert {t["function"]["name"] for t in requests[0]["tools"]} == set(TOOL_NAMES)
    assert requests[0]["model"] == "gpt-text-test"

    # Out through Twilio: both answers and one confirmation of the booking.
    bodies = [m["Body"] for m in twilio.sent]
    assert bodies[:2] == ["Tomorrow I have 10 AM with Dana Reyes. Shall I book it?",
                          "You're booked: HydraFacial with Dana Reyes tomorrow at 10 AM."]
    confirmations = OutboundMessage.objects.filter(kind="confirmation", channel=Channel.SMS)
    assert confirmations.count() == 1 and len(twilio.sent) == 3
    assert "booked for HydraFacial with Dana Reyes" in bodies[2]


def test_an_sms_booking_over_several_texts_with_the_local_engine(client, spa, twilio,
                                                                 django_capture_on_commit_callbacks):
    text_in(client, "I'd like to book a HydraFacial tomorrow", 1, django_capture_on_commit_callbacks)
    offer = Message.objects.filter(author=Message.Author.ASSISTANT).get()
    assert "9 AM" in offer.content and "Which time" in offer.content

    text_in(client, "9 AM please, my name is Maya Patel", 2, django_capture_on_commit_callbacks)

    appointment = Appointment.objects.get()
    assert appointment.customer == Customer.objects.get(phone=CALLER)
    assert appointment.customer.name == "Maya Patel"
    assert appointment.local_start(spa.clinic.tz).hour == 9 and appointment.service == spa.hydrafacial
    answer = Message.objects.filter(author=Message.Author.ASSISTANT).order_by("position").last()
    assert answer.content.startswith("You're booked: HydraFacial with Dana Reyes")
    names = list(CommunicationEvent.objects.filter(type="tool_call").values_list("data__name", flat=True))
    assert names[-2:] == ["check_availability", "book_appointment"] and names.count("get_business_info") == 1
    assert all(set(e.data) == TOOL_CALL_KEYS for e in CommunicationEvent.objects.filter(type="tool_call"))
    # Ava never asked for the number they were texting from.
    assert "phone number" not in " ".join(m["Body"] for m in twilio.sent[:2])


def test_an_email_answer_has_a_greeting_and_a_sign_off(spa, settings, openai, django_capture_on_commit_callbacks):
    settings.EMAIL_DELIVERY = "outbox"
    openai.text("You can park for free behind the building on Mercer Street.")
    with django_capture_on_commit_callbacks(execute=True):
        email_channel.receive_email(from_email="maya@example.com", from_name="Maya Patel", subject="Parking",
                                    text="Where do I park?")

    reply = Message.objects.get(author=Message.Author.ASSISTANT)
    assert reply.content == ("Hi Maya,\n\nYou can park for free behind the building on Mercer Street.\n\n"
                             "Best regards,\nAva\nGlow Med Spa")
    system = chat_requests(openai)[0]["messages"][0]["content"]
    assert "answering the customer's email" in system and "Best regards," in system


def test_when_openai_stays_down_the_customer_gets_an_apology_and_staff_a_callback(
        client, spa, twilio, openai, settings, django_capture_on_commit_callbacks):
    settings.TEXT_AGENT_MAX_RETRIES = 1
    openai.default = Reply(status=503, body={"error": {"message": "Overloaded", "type": "server_error"}})
    text_in(client, "Do you do Botox?", 1, django_capture_on_commit_callbacks)

    conversation = Conversation.objects.get()
    assert conversation.escalated
    reply = conversation.messages.get(author=Message.Author.ASSISTANT)
    assert reply.content == text_agent.FALLBACK and twilio.sent[0]["Body"] == text_agent.FALLBACK
    assert len(chat_requests(openai)) == 4  # two tries of the task, each with the SDK's one retry


def test_a_goodbye_with_end_call_ends_the_conversation_after_the_answer(client, spa, twilio, openai,
                                                                        django_capture_on_commit_callbacks):
    openai.tool_calls(("end_call", {"reason": "customer is done"}))
    openai.text("Thanks for texting Glow Med Spa. Bye!")
    text_in(client, "That's all, thanks!", 1, django_capture_on_commit_callbacks)

    conversation = Conversation.objects.get()
    assert conversation.status == Conversation.Status.COMPLETED and conversation.ended_at is not None
    assert twilio.sent[0]["Body"] == "Thanks for texting Glow Med Spa. Bye!"


def test_texts_that_arrive_together_get_one_answer(spa, twilio_webhooks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as pending:
        sms.receive_sms(message_sid="SM" + "1" * 32, from_number=CALLER, body="Hi")
        sms.receive_sms(message_sid="SM" + "2" * 32, from_number=CALLER, body="Where do I park?")
    with django_capture_on_commit_callbacks(execute=True):
        for callback in pending:
            callback()

    replies = Message.objects.filter(author=Message.Author.ASSISTANT)
    assert replies.count() == 1 and "Mercer Street" in replies.get().content


def test_a_conversation_being_answered_is_not_answered_twice_at_once(spa, twilio_webhooks):
    received = sms.receive_sms(message_sid="SM" + "1" * 32, from_number=CALLER, body="Where do I park?")
    conversation_id = received.message.conversation_id
    claimed_at = communications.claim_reply(conversation_id=conversation_id, owner="another worker", timeout=300)

    # Left to the other writer at once: the task neither waits for it nor tries again.
    assert tasks.reply_to_conversation.delay(str(conversation_id)).get() == "busy"
    assert not Message.objects.filter(author=Message.Author.ASSISTANT).exists()

    communications.release_reply(conversation_id=conversation_id, claimed_at=claimed_at)
    assert text_agent.reply_to_conversation(conversation_id=conversation_id).status == "replied"
    assert text_agent.reply_to_conversation(conversation_id=conversation_id).status == "nothing_to_do"


def test_a_claim_left_by_a_writer_that_died_is_taken_back_by_its_task_or_after_it_goes_stale(spa, twilio_webhooks):
    received = sms.receive_sms(message_sid="SM" + "1" * 32, from_number=CALLER, body="Where do I park?")
    conversation_id = received.message.conversation_id
    taken = communications.claim_reply(conversation_id=conversation_id, owner="task-1", timeout=300)

    assert communications.claim_reply(conversation_id=conversation_id, owner="task-2", timeout=300) is None
    # The same task, redelivered after its worker died, takes its claim back.
    assert communications.claim_reply(conversation_id=conversation_id, owner="task-1", timeout=300) is not None
    later = taken + timedelta(seconds=301)
    assert communications.claim_reply(conversation_id=conversation_id, owner="task-2", timeout=300, now=later) == later


def test_a_text_that_came_while_ava_wrote_is_answered_by_the_writer(spa, twilio_webhooks):
    received = sms.receive_sms(message_sid="SM" + "1" * 32, from_number=CALLER, body="Where do I park?")
    conversation_id = received.message.conversation_id

    def a_text_arrives_as_ava_sends_her_first_reply(sender, instance, created, **kwargs):
        if created and instance.author == Message.Author.ASSISTANT and instance.conversation_id == conversation_id:
            post_save.disconnect(a_text_arrives_as_ava_sends_her_first_reply, sender=Message)
            # Its own task found the conversation claimed and left it (the test above): not run here.
            communications.add_message(conversation_id=conversation_id, author="customer",
                                       content="Also, are you open on Sunday?")

    post_save.connect(a_text_arrives_as_ava_sends_her_first_reply, sender=Message, weak=False)
    try:
        assert text_agent.reply_to_conversation(conversation_id=conversation_id).status == "replied"
    finally:
        post_save.disconnect(a_text_arrives_as_ava_sends_her_first_reply, sender=Message)

    replies = list(Message.objects.filter(author=Message.Author.ASSISTANT).order_by("position"))
    assert len(replies) == 2 and "Mercer Street" in replies[0].content
    sunday = Message.objects.get(content="Also, are you open on Sunday?")
    assert replies[1].metadata["answers_through"] == sunday.position
    assert Conversation.objects.get(pk=conversation_id).reply_claimed_at is None


def test_the_local_brains_memory_survives_between_texts_as_json():
    brain = text_agent.restore_brain(None)
    brain.booking = {"service": "Botox", "date": datetime(2026, 3, 2).date(), "time": (9, 30),
                     "openings": [datetime.fromisoformat("2026-03-02T09:30:00-05:00")],
                     "checked": ("Botox", datetime(2026, 3, 2).date(), (9, 30))}
    state = json.loads(json.dumps(text_agent.brain_state(brain)))

    restored = text_agent.restore_brain(state)
    assert restored.booking == brain.booking
