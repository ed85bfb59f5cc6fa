"""What a text conversation cost: each of the text agent's completions, and what Twilio charged for the reply."""

from decimal import Decimal

import pytest

from communications.models import Channel, Conversation, UsageRecord
from communications.tests.messaging_fixtures import (  # noqa: F401  (fixtures)
    post_signed,
    spa,
    text_params,
    twilio,
    twilio_webhooks,
)
from tests.fakes.openai_http import FakeOpenAI

pytestmark = pytest.mark.django_db
SMS_URL, STATUS_URL = "/webhooks/twilio/sms", "/webhooks/twilio/status"


@pytest.fixture
def openai(settings):
    with FakeOpenAI() as fake:
        settings.OPENAI_API_KEY = "test-key"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.ANALYTICS_SCORING_MAX_RETRIES = 0
        yield fake


def test_each_completion_of_a_text_answer_is_recorded_and_priced(client, spa, twilio, openai, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.OPENAI_TEXT_MODEL = "gpt-5.4-mini"
    openai.tool_calls(("get_business_info", {"topic": "parking"}), usage=(900, 20))
    openai.text("Park behind the building on Mercer Street.", usage=(1000, 15, 896))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, SMS_URL, text_params("Where do I park?")).status_code == 200

    conversation = Conversation.objects.get(channel=Channel.SMS)
    tool_round, answer = UsageRecord.objects.filter(conversation=conversation, kind="text").order_by("id")
    assert (tool_round.text_in, tool_round.cached_text_in, tool_round.text_out) == (900, 0, 20)
    assert (answer.text_in, answer.cached_text_in, answer.text_out) == (104, 896, 15)  # the cached prefix apart
    assert answer.model == "gpt-5.4-mini" and answer.source_id.startswith("chatcmpl-")
    assert answer.cost == (104 * Decimal("0.75") + 896 * Decimal("0.075") + 15 * Decimal("4.50")) / 1_000_000
    assert tool_round.cost == (900 * Decimal("0.75") + 20 * Decimal("4.50")) / 1_000_000


def test_twilios_price_on_a_status_callback_is_added_once_to_the_conversations_cost(
        client, spa, twilio, openai, settings, staff_client, django_capture_on_commit_callbacks):
    settings.OPENAI_TEXT_MODEL = "gpt-5.4-mini"
    openai.text("Park behind the building on Mercer Street.", usage=(1000, 15))
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))
    sid = twilio.sent[0]["sid"]

    def report(status, **extra):
        return post_signed(client, STATUS_URL, {"MessageSid": sid, "MessageStatus": status, **extra})

    assert report("sent").status_code == 204  # no price known yet: nothing added
    assert report("delivered", Price="-0.00790", PriceUnit="USD").status_code == 204
    assert report("delivered", Price="-0.00790", PriceUnit="USD").status_code == 204  # again: still once

    conversation = Conversation.objects.get(channel=Channel.SMS)
    (charge,) = UsageRecord.objects.filter(conversation=conversation, kind="telephony")
    assert (charge.cost, charge.currency, charge.source_id) == (Decimal("0.0079"), "USD", sid)

    cost = staff_client.get(f"/api/admin/communications/{conversation.pk}").json()["cost"]
    text = (1000 * Decimal("0.75") + 15 * Decimal("4.50")) / 1_000_000
    assert [(p["part"], p["cost"]) for p in cost["parts"]] == [("text", f"{text.normalize():f}"),
                                                               ("telephony", "0.0079")]
    assert Decimal(cost["total"]) == text + Decimal("0.0079")


def test_a_price_in_another_currency_leaves_the_total_unknown(client, spa, twilio, openai, staff_client,
                                                              django_capture_on_commit_callbacks):
    openai.text("Park behind the building.", usage=(1000, 15))
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(client, SMS_URL, text_params("Where do I park?"))
    post_signed(client, STATUS_URL, {"MessageSid": twilio.sent[0]["sid"], "MessageStatus": "delivered",
                                      "Price": "-0.0650", "PriceUnit": "EUR"})

    conversation = Conversation.objects.get(channel=Channel.SMS)
    cost = staff_client.get(f"/api/admin/communications/{conversation.pk}").json()["cost"]
    assert cost["total"] is None  # not converted by a guessed rate, and not dropped as zero
    assert [p["part"] for p in cost["parts"] if p["cost"] is None] == ["telephony"]
