"""Voice calls split by how they came, phone or web, in the rollups, the metrics API and the overview.

One clinic day worked out by hand (Tuesday 2026-12-01 in New York, the day before the pinned "now"):

    P1  phone  10:00  from (212) 555-0142: availability + booking, booked by Ava; Twilio: 240 s, $0.0170;
                      score 9
    P2  phone  11:00  number withheld: put through to staff; Twilio: 60 s, $0.0085; score 3
    W1  web    12:00  a question answered, 120 s, score 8; one response of a model without a price
    W2  web    13:00  said nothing, 15 s, abandoned
    S1  sms    14:00  a text (no call: in neither source)

Phone calls end the way a real one does: Twilio's signed status callback gives their length and price.
"""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from analytics import services
from analytics.figures import COUNT_FIELDS
from analytics.models import DailyMetric
from communications.models import Conversation, VoiceCallDetail
from communications.services import add_message, record_event, start_conversation
from communications.tests.messaging_fixtures import post_signed, spa, twilio_webhooks  # noqa: F401
from communications.usage import record_usage

from .helpers import ASSISTANT, CUSTOMER, book, make_conversation, tool

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
TUESDAY = date(2026, 12, 1)  # the pinned "now" is Wednesday 2026-12-02, 3 PM in New York
TUESDAY_ONLY = {"period": "custom", "start": "2026-12-01", "end": "2026-12-01"}


def at(hour, minute=0, day=TUESDAY):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NY)


def _score(conversation, *, outcome, score=None):
    Conversation.objects.filter(pk=conversation.pk).update(outcome=outcome, satisfaction_score=score)


def phone_call(client, *, sid, caller, started, lines, duration, price):
    """A call to the clinic's number, opened as the voice webhook opens it, ended by Twilio's status callback."""
    conversation = start_conversation(channel="voice", at=started, voice={
        "source": VoiceCallDetail.Source.PHONE, "call_sid": sid, "from_number": caller, "to_number": "+12125550100"})
    moment = started
    for kind, value in lines:
        moment += timedelta(seconds=10)
        if kind == "tool":
            record_event(conversation_id=conversation.pk, type="tool_call", data=value, at=moment)
        elif kind == "escalated":
            Conversation.objects.filter(pk=conversation.pk).update(escalated=True)
            record_event(conversation_id=conversation.pk, type="escalated", data={"reason": value}, at=moment)
        else:
            add_message(conversation_id=conversation.pk, author=kind, content=value, sent_at=moment)
    status = {"CallSid": sid, "AccountSid": "AC" + "1" * 32, "CallStatus": "completed", "CallDuration": str(duration),
              "Price": price, "PriceUnit": "USD", "From": caller, "To": "+12125550100", "ApiVersion": "2010-04-01"}
    assert post_signed(client, "/webhooks/twilio/voice/status", status).status_code in (200, 204)
    return conversation


@pytest.fixture
def tuesday(client, clinic, spa, twilio_webhooks):
    clinic.time_zone = "America/New_York"
    clinic.save()
    c = {}
    c["P1"] = phone_call(client, sid="CA" + "1" * 32, caller="+12125550142", started=at(10), duration=240,
                         price="-0.0170", lines=[
                             (CUSTOMER, "Can I get a HydraFacial next week?"),
                             tool("check_availability", {"service": "hydrafacial"}, {"slots": ["2026-12-08T10:00"]}),
                             tool("book_appointment", {"slot": "2026-12-08T10:00"}, {"appointment_id": 1}),
                             (ASSISTANT, "Booked for Tuesday at 10."),
                         ])
    book(c["P1"], start=at(10, day=date(2026, 12, 8)), phone="+12125550142")
    _score(c["P1"], outcome="booked", score=9)
    c["P2"] = phone_call(client, sid="CA" + "2" * 32, caller="", started=at(11), duration=60, price="-0.0085",
                         lines=[(CUSTOMER, "I need to speak to a nurse."), ("escalated", "clinical question")])
    _score(c["P2"], outcome="escalated", score=3)
    c["W1"] = make_conversation(at=at(12), lines=[(CUSTOMER, "Where do I park?"), (ASSISTANT, "Behind the building.")],
                                end_after=timedelta(seconds=120))
    record_usage(conversation_id=c["W1"].pk, kind="voice", model="a-model-without-a-price", source_id="resp_W1",
                 usage={"input_tokens": 900, "output_tokens": 40, "total_tokens": 940,
                        "input_token_details": {"text_tokens": 900, "audio_tokens": 0}})
    _score(c["W1"], outcome="info_only", score=8)
    c["W2"] = make_conversation(at=at(13), lines=[(ASSISTANT, "Hello?")], end_after=timedelta(seconds=15))
    _score(c["W2"], outcome="abandoned")
    c["S1"] = make_conversation(at=at(14), channel="sms", lines=[(CUSTOMER, "Are you open Saturday?")])
    _score(c["S1"], outcome="info_only", score=7)
    return c


PHONE = {
    "conversations": 2, "voice_calls": 2, "talk_time_seconds": 300, "calls_with_duration": 2,
    "average_call_seconds": 150.0,
    "appointments_booked": 1, "appointments_rescheduled": 0, "appointments_cancelled": 0,
    "booking_intent_conversations": 1, "booked_conversations": 1, "conversion_rate": 1.0,
    "satisfaction_sum": 12, "satisfaction_count": 2, "average_satisfaction": 6.0,
    "escalations": 1, "escalation_rate": 0.5, "abandoned": 0, "contained": 1, "containment_rate": 0.5,
    "first_response_count": 0, "first_response_seconds_total": 0, "average_first_response_seconds": None,
    "cost": "0.0255", "cost_unpriced": 0, "cost_per_booking": "0.0255",
}
WEB = {
    "conversations": 2, "voice_calls": 2, "talk_time_seconds": 135, "calls_with_duration": 2,
    "average_call_seconds": 67.5,
    "appointments_booked": 0, "appointments_rescheduled": 0, "appointments_cancelled": 0,
    "booking_intent_conversations": 0, "booked_conversations": 0, "conversion_rate": None,
    "satisfaction_sum": 8, "satisfaction_count": 1, "average_satisfaction": 8.0,
    "escalations": 0, "escalation_rate": 0.0, "abandoned": 1, "contained": 1, "containment_rate": 1.0,
    "first_response_count": 0, "first_response_seconds_total": 0, "average_first_response_seconds": None,
    "cost": "0", "cost_unpriced": 1, "cost_per_booking": None,
}


def overview(staff_client, query=TUESDAY_ONLY):
    response = staff_client.get("/api/admin/metrics/overview", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_past_day_splits_voice_calls_into_phone_and_web_as_worked_out_by_hand(staff_client, tuesday):
    body = overview(staff_client)

    assert body["by_source"] == {"phone": PHONE, "web": WEB}
    voice = body["by_channel"]["voice"]
    for name in COUNT_FIELDS:  # the two sources are the voice channel, nothing more, nothing less
        assert Decimal(str(PHONE[name])) + Decimal(str(WEB[name])) == Decimal(str(voice[name])), name
    assert body["totals"]["conversations"] == 5  # the text counts once, in neither source


def test_the_rollup_stores_the_split_and_the_overview_reads_it(staff_client, tuesday):
    services.rollup_day(day=TUESDAY, tz=NY)

    voice = DailyMetric.objects.get(date=TUESDAY, channel="voice")
    assert (voice.by_source["phone"]["voice_calls"], voice.by_source["web"]["voice_calls"]) == (2, 2)
    assert voice.by_source["phone"]["cost"] == "0.0255"  # money kept exact
    assert DailyMetric.objects.get(date=TUESDAY, channel="sms").by_source == {}
    assert DailyMetric.objects.filter(date=TUESDAY).count() == 4  # still one row per channel
    assert overview(staff_client)["by_source"] == {"phone": PHONE, "web": WEB}

    # A past day is read, not counted again.
    voice.by_source["phone"]["voice_calls"] = 50
    voice.save(update_fields=["by_source"])
    assert overview(staff_client)["by_source"]["phone"]["voice_calls"] == 50


def test_a_day_rolled_up_before_the_split_is_counted_live_until_backfilled(staff_client, tuesday):
    services.rollup_day(day=TUESDAY, tz=NY)
    # As migration 0006 leaves a row it found: no split stored, and (to tell) a count that is not true.
    DailyMetric.objects.filter(date=TUESDAY, channel="voice").update(by_source={}, conversations=99)

    body = overview(staff_client)
    assert body["by_source"] == {"phone": PHONE, "web": WEB}
    assert body["by_channel"]["voice"]["conversations"] == 4

    call_command("backfill_metrics", "--start", "2026-12-01", "--end", "2026-12-01")
    voice = DailyMetric.objects.get(date=TUESDAY, channel="voice")
    assert voice.conversations == 4
    assert (voice.by_source["phone"]["conversations"], voice.by_source["web"]["conversations"]) == (2, 2)


def test_a_voice_call_without_its_details_counts_as_a_web_call(staff_client, tuesday):
    # The call page was the only way to call before phone calls, and every web call is one.
    VoiceCallDetail.objects.filter(conversation=tuesday["W1"]).delete()
    body = overview(staff_client)
    assert body["by_source"]["web"]["voice_calls"] == 2
    assert body["by_source"]["web"]["talk_time_seconds"] == 120 + 15  # its length from its start and end


def test_today_is_split_live(staff_client, tuesday):
    now = datetime(2026, 12, 2, 14, 0, tzinfo=NY)
    make_conversation(at=now, lines=[(CUSTOMER, "Hi")], end_after=timedelta(seconds=30))
    start_conversation(channel="voice", at=now + timedelta(minutes=5), voice={
        "source": VoiceCallDetail.Source.PHONE, "call_sid": "CA" + "9" * 32, "from_number": "+13125550188"})

    body = overview(staff_client, {"period": "today"})
    assert (body["by_source"]["phone"]["voice_calls"], body["by_source"]["web"]["voice_calls"]) == (1, 1)
    assert body["by_source"]["phone"]["calls_with_duration"] == 0  # still ringing on: no length yet


def test_the_daily_series_splits_each_day(staff_client, tuesday):
    services.rollup_day(day=TUESDAY, tz=NY)
    response = staff_client.get("/api/admin/analytics/daily", {"days": 2})
    assert response.status_code == 200
    days = {day["date"]: day for day in response.json()["days"]}
    assert days["2026-12-01"]["by_source"] == {"phone": PHONE, "web": WEB}
    assert days["2026-12-02"]["by_source"]["phone"]["voice_calls"] == 0


def test_the_overview_page_shows_phone_calls_against_web_calls(staff_client, tuesday):
    services.rollup_day(day=TUESDAY, tz=NY)
    page = staff_client.get("/dashboard/?period=week").content.decode()

    assert "2 by phone, 2 on the web" in page
    table = page[page.index('id="call-sources"'):page.index("</table>", page.index('id="call-sources"'))]
    rows = [[" ".join(re.sub(r"<[^>]+>", "", cell).split())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in table.split("<tr>")[2:]]
    # Calls, average length, booked by Ava, conversion, satisfaction, escalated, cost, cost per booking.
    assert rows == [
        ["Phone calls", "2", "2:30", "1", "100%", "6.0/10", "1 (50%)", "$0.0255", "$0.0255"],
        ["Web calls", "2", "1:08", "0", "–", "8.0/10", "0 (0%)", "≥ $0.00", "–"],
    ]
