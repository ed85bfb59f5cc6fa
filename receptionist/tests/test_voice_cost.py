"""What a voice call cost: each response's and each transcription's usage saved as it arrives, then priced."""

import asyncio
from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from communications.models import UsageRecord
from tests.fakes.realtime_server import Say

from .conftest import db

pytestmark = pytest.mark.django_db(transaction=True)

PRICES = django_settings.DEFAULT_MODEL_PRICES


def records(page, kind=None):
    found = UsageRecord.objects.filter(conversation_id=page.session["conversation_id"]).order_by("at", "id")
    return list(found.filter(kind=kind) if kind else found)


async def wait_for_records(page, count, kind):
    for _ in range(200):
        found = await db(records, page, kind)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"{count} {kind} usage records never arrived; got {len(found)}")


def priced(record, prices):
    million = Decimal(1_000_000)
    return sum((getattr(record, field) * Decimal(prices[field]) / million
                for field in ("text_in", "cached_text_in", "audio_in", "cached_audio_in", "text_out", "audio_out")),
               Decimal(0))


async def test_every_response_and_transcription_is_saved_as_it_arrives_and_priced(spa, fake_realtime, open_call):
    fake_realtime.hear("Do you have Botox tomorrow?", "And what do you charge?")
    fake_realtime.reply(Say("Yes, tomorrow morning with Dana."))
    fake_realtime.reply(Say("Botox is twelve dollars a unit."))
    page = await open_call()
    await page.said()
    for _ in range(2):
        await page.speak(800)
        await page.send(type="commit")
        await page.said()

    # Mid-call, before any hang-up: what was spent is already on record (a dying process keeps it).
    voice = await wait_for_records(page, 3, "voice")
    transcriptions = await wait_for_records(page, 2, "transcription")
    done = [e["response"] for e in fake_realtime.session.sent if e["type"] == "response.done"]
    assert [r.source_id for r in voice] == [r["id"] for r in done]  # one record per response.done, in order
    assert all(r["usage"] for r in done)  # the fake reports usage on every response

    greeting, first, second = voice
    assert greeting.audio_out > 0 and greeting.cached_text_in == 0  # nothing read before the greeting
    # Later responses read the instructions and the turns before them again, from OpenAI's cache,
    # and the split by modality is kept as the SDK reports it.
    usage = second.usage["input_token_details"]
    assert second.cached_text_in == usage["cached_tokens_details"]["text_tokens"] > 0
    assert second.cached_audio_in == usage["cached_tokens_details"]["audio_tokens"] > 0
    assert second.audio_in == usage["audio_tokens"] - second.cached_audio_in > 0  # the caller's new turn
    assert second.text_in + second.cached_text_in == usage["text_tokens"]
    for record in voice:
        assert record.model == "gpt-realtime-2.1" and record.priced_as_of == PRICES["gpt-realtime-2.1"]["as_of"]
        assert record.cost == priced(record, PRICES["gpt-realtime-2.1"]).quantize(Decimal("0.00000001"))
    for record in transcriptions:  # gpt-transcribe bills by the minute of audio
        assert record.model == "gpt-transcribe" and record.audio_seconds == Decimal("0.80")
        assert record.cost == Decimal("0.80") * Decimal(PRICES["gpt-transcribe"]["per_minute"]) / 60

    await page.hang_up()
    assert len(await db(records, page, "voice")) == 3  # nothing summed twice at the end


async def test_a_token_billed_transcription_model_is_priced_by_its_tokens(spa, fake_realtime, open_call, settings):
    settings.VOICE_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
    settings.MODEL_PRICES = {**settings.MODEL_PRICES, "gpt-4o-mini-transcribe": {
        "as_of": "2026-11-29", "text_in": "1.25", "audio_in": "3.00", "text_out": "5.00"}}
    fake_realtime.hear("Hello there")
    page = await open_call()
    await page.said()
    await page.speak(1200)
    await page.send(type="commit")
    await page.said()
    (record,) = await wait_for_records(page, 1, "transcription")
    await page.hang_up()
    assert (record.audio_in, record.text_out, record.audio_seconds) == (12, 2, None)
    assert record.cost == (12 * Decimal("3.00") + 2 * Decimal("5.00")) / 1_000_000


async def test_a_model_without_a_price_costs_unknown_never_zero(spa, fake_realtime, open_call, settings, client,
                                                                 django_user_model):
    settings.MODEL_PRICES = {k: v for k, v in settings.MODEL_PRICES.items() if k != "gpt-realtime-2.1"}
    page = await open_call()
    await page.said()
    await page.hang_up()

    (record,) = await db(records, page, "voice")
    assert record.cost is None and record.audio_out > 0  # the tokens are kept; the money is not guessed

    def seen_by_staff():
        client.force_login(django_user_model.objects.create_user("frontdesk", password="x", is_staff=True))
        conversation_id = page.session["conversation_id"]
        return (client.get(f"/api/admin/communications/{conversation_id}").json()["cost"],
                client.get(f"/dashboard/conversations/{conversation_id}/").content.decode())

    cost, html = await db(seen_by_staff)
    assert cost["total"] is None and cost["unknown_records"] == 1
    assert cost["parts"][0]["part"] == "voice" and cost["parts"][0]["cost"] is None
    assert "unknown" in html.split('id="cost-card"')[1].split("</section>")[0]


async def test_the_cost_is_on_the_conversation_page_and_in_the_api_after_a_call(spa, fake_realtime, open_call,
                                                                                 client, django_user_model):
    fake_realtime.hear("Do you have Botox tomorrow?")
    fake_realtime.reply(Say("Yes, tomorrow morning with Dana."))
    page = await open_call()
    await page.said()
    await page.speak(800)
    await page.send(type="commit")
    await page.said()
    await wait_for_records(page, 1, "transcription")
    await page.hang_up()

    voice, transcription = await db(records, page, "voice"), await db(records, page, "transcription")
    voice_cost = sum(r.cost for r in voice)
    total = voice_cost + transcription[0].cost

    def seen_by_staff():
        client.force_login(django_user_model.objects.create_user("frontdesk", password="x", is_staff=True))
        conversation_id = page.session["conversation_id"]
        return (client.get(f"/api/admin/calls/{conversation_id}").json()["cost"],
                client.get(f"/dashboard/conversations/{conversation_id}/").content.decode())

    cost, html = await db(seen_by_staff)
    assert cost["currency"] == "USD" and Decimal(cost["total"]) == total
    assert [(p["part"], p["records"]) for p in cost["parts"]] == [("voice", 2), ("transcription", 1)]
    assert Decimal(cost["parts"][0]["cost"]) == voice_cost
    card = html.split('id="cost-card"')[1].split("</section>")[0]
    assert "Voice" in card and "Transcription" in card
    assert f"${total:.4f}" in card
