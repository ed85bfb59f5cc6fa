"""What scoring a conversation cost: every scoring call's usage, an unusable answer's included."""

from decimal import Decimal

import pytest

from communications.models import UsageRecord

from .test_scoring_openai import ANSWER, score, talk

pytestmark = pytest.mark.django_db


def test_each_scoring_call_is_recorded_with_its_price(clinic, fake_openai, settings):
    settings.OPENAI_SCORING_MODEL = "gpt-5.4-mini"
    conversation = talk()
    fake_openai.text("not the JSON asked for", usage=(700, 30))  # billed, though unusable: asked once more
    fake_openai.structured(ANSWER, usage=(700, 60, 512))

    assert score(conversation) == "scored"

    first, second = UsageRecord.objects.filter(conversation=conversation, kind="scoring").order_by("id")
    assert (first.text_in, first.text_out, first.cost) == (700, 30, (700 * Decimal("0.75") + 30 * Decimal("4.50"))
                                                          / 1_000_000)
    assert (second.text_in, second.cached_text_in, second.text_out) == (188, 512, 60)
    assert second.model == "gpt-5.4-mini" and second.priced_as_of == "2026-11-29"


def test_a_scoring_model_without_a_price_is_unknown(clinic, fake_openai):
    conversation = talk()  # scored by "gpt-scoring-test", which the price table does not know
    fake_openai.structured(ANSWER)

    assert score(conversation) == "scored"

    (record,) = UsageRecord.objects.filter(conversation=conversation, kind="scoring")
    assert record.cost is None and (record.text_in, record.text_out) == (120, 40)
