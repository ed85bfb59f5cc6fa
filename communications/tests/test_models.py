"""The rules of customers and conversations that hold whoever writes them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from communications.models import Channel, Conversation, Customer, Message
from communications.services import add_message, end_conversation, find_or_create_customer, start_conversation
from communications.signals import conversation_ended

pytestmark = pytest.mark.django_db


def test_it_stores_phone_numbers_in_e164():
    customer = Customer.objects.create(name="Dana Reyes", phone="(212) 555-0142")
    customer.refresh_from_db()
    assert customer.phone == "+12125550142"


def test_it_refuses_a_second_customer_with_the_same_phone_in_another_spelling():
    Customer.objects.create(phone="212-555-0142")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(phone="+1 212 555 0142")


def test_it_allows_many_customers_without_a_phone_or_email():
    Customer.objects.create(name="First anonymous")
    Customer.objects.create(name="Second anonymous", phone="", email="")
    assert Customer.objects.filter(phone__isnull=True, email__isnull=True).count() == 2


def test_it_refuses_the_same_email_in_another_case():
    Customer.objects.create(email="dana@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(email="Dana@Example.com")


def test_it_refuses_something_that_is_not_a_phone_number():
    with pytest.raises(ValidationError):
        Customer.objects.create(phone="call me maybe")


def test_it_refuses_a_satisfaction_score_above_ten():
    conversation = start_conversation(channel=Channel.SMS)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(satisfaction_score=11)


def test_it_finds_a_customer_by_phone_in_any_spelling_and_fills_a_missing_name():
    existing = Customer.objects.create(phone="+12125550142")
    found = find_or_create_customer(phone="212.555.0142", name="Dana Reyes")
    assert found.pk == existing.pk
    existing.refresh_from_db()
    assert existing.name == "Dana Reyes"


def test_it_keeps_messages_in_the_order_given_not_the_order_saved():
    conversation = start_conversation(channel=Channel.VOICE)
    add_message(conversation_id=conversation.pk, author=Message.Author.ASSISTANT, content="Happy to help.", position=2)
    add_message(conversation_id=conversation.pk, author=Message.Author.CUSTOMER, content="Do you do Botox?", position=1)
    add_message(conversation_id=conversation.pk, author=Message.Author.ASSISTANT, content="Hello!", position=0)
    assert [m.content for m in conversation.messages.all()] == ["Hello!", "Do you do Botox?", "Happy to help."]
    assert conversation.messages.get(position=1).direction == Message.Direction.INBOUND


def test_it_ends_a_call_once_and_announces_it_after_commit(django_capture_on_commit_callbacks):
    received = []

    def listener(sender, conversation_id, **kwargs):
        received.append(conversation_id)

    conversation_ended.connect(listener)
    try:
        conversation = start_conversation(channel=Channel.VOICE, at=timezone.now() - timedelta(minutes=3))
        with django_capture_on_commit_callbacks(execute=True):
            end_conversation(conversation_id=conversation.pk, end_reason="caller_hung_up", interruption_count=2)
        with django_capture_on_commit_callbacks(execute=True):
            end_conversation(conversation_id=conversation.pk, end_reason="again")
    finally:
        conversation_ended.disconnect(listener)

    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.COMPLETED
    assert conversation.voice.end_reason == "caller_hung_up"
    assert conversation.voice.interruption_count == 2
    assert 175 <= conversation.voice.duration_seconds <= 185
    assert received == [conversation.pk]
