"""The overview page (cards per period, trend charts, breakdowns, heat map, funnel, Live now) and rescoring."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import ConversationScore
from communications.models import Conversation
from communications.services import add_message, end_conversation, record_event, start_conversation
from communications.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def conversation_on(day_offset=0, *, channel="voice", words="I'd like to book a facial", clinic, **fields):
    """A finished conversation started `day_offset` days before now (clinic time), with fields set."""
    started = clinic.local_now() - timedelta(days=day_offset, minutes=5)
    conversation = start_conversation(channel=channel, at=started)
    add_message(conversation_id=conversation.pk, author="customer", content=words, sent_at=started)
    end_conversation(conversation_id=conversation.pk, at=started + timedelta(minutes=2))
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
    return conversation


def test_the_overview_is_staff_only(client, django_user_model):
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    django_user_model.objects.create_user("caller", password="a-long-test-password")
    client.login(username="caller", password="a-long-test-password")
    assert client.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/?period=week", headers={"HX-Request": "true"}).status_code == 302


def test_the_dashboard_home_is_the_overview_and_the_nav_leads_everywhere(staff_client, clinic):
    response = staff_client.get("/dashboard/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Overview</h1>" in page
    nav = page[page.index('<nav aria-label="Main">'):page.index("</nav>")]
    labels = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    assert labels[:5] == [("/dashboard/", "Overview"), ("/dashboard/inbox/", "Inbox"),
                          ("/dashboard/customers/", "Customers"), ("/dashboard/appointments/", "Appointments"),
                          ("/dashboard/console/", "Messaging console")]
    assert ("/call/", "Call page") in labels
    # Clinic settings (Django admin) are for owners; this is a staff member (ava/tests/test_access.py).
    assert ("/admin/", "Clinic settings") not in labels
    assert 'aria-current="page">Overview' in nav.replace('href="/dashboard/" ', "")


def test_today_s_cards_count_today_only(staff_client, clinic):
    conversation_on(0, clinic=clinic, satisfaction_score=8)
    conversation_on(0, channel="sms", clinic=clinic, satisfaction_score=6)
    conversation_on(40, clinic=clinic)
    page = staff_client.get("/dashboard/").content.decode()
    cards = page[page.index('aria-label="Today in figures"'):page.index("</ul>", page.index('aria-label="Today in figures"'))]
    assert re.search(r'<span class="value">2</span><span class="label">Conversations</span>', cards)
    assert "1 voice call<" in cards
    assert "7.0<small>/10</small>" in cards


def test_the_period_links_swap_the_figures_and_keep_the_address_true(staff_client, clinic):
    for offset in (0, 1, 2):
        conversation_on(offset, clinic=clinic)
    today = clinic.local_now().date()
    in_week = min(3, today.weekday() + 1)
    in_month = min(3, today.day)

    page = staff_client.get("/dashboard/").content.decode()
    for key in ("today", "week", "month"):
        # A real link (works without JavaScript) and the htmx swap that pushes the same address.
        assert f'href="?period={key}" hx-get="?period={key}" hx-target="#period" hx-swap="outerHTML" hx-push-url="true"' in page

    fragment = staff_client.get("/dashboard/?period=week", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert not html.lstrip().startswith("<!doctype")
    assert html.lstrip().startswith('<section id="period"')
    assert re.search(rf'<span class="value">{in_week}</span><span class="label">Conversations</span>', html)
    assert 'aria-current="true">This week</a>' in html
    # The breakdowns below the trend follow the period too, swapped out of band.
    assert '<div id="period-details" class="period-details" hx-swap-oob="true">' in html
    assert "Live now" not in html and "The last 30 days" not in html

    month = staff_client.get("/dashboard/?period=month").content.decode()
    assert month.startswith("<!doctype html>")
    assert re.search(rf'<span class="value">{in_month}</span><span class="label">Conversations</span>', month)
    assert 'aria-current="true">This month</a>' in month
    assert 'hx-swap-oob' not in month


def test_an_unknown_period_shows_today(staff_client, clinic):
    page = staff_client.get("/dashboard/?period=decade").content.decode()
    assert 'aria-current="true">Today</a>' in page


def test_the_trend_charts_are_svg_with_words_for_screen_readers_and_the_figures_beside(staff_client, clinic):
    conversation_on(0, clinic=clinic, satisfaction_score=9)
    conversation_on(3, channel="email", clinic=clinic, satisfaction_score=5)
    page = staff_client.get("/dashboard/").content.decode()
    for chart_id in ("chart-conversations", "chart-bookings", "chart-satisfaction"):
        assert f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc"' in page
        assert f'<title id="{chart_id}-title">' in page
    assert '<desc id="chart-conversations-desc">2 in 30 days; busiest' in page
    assert "From 5/10 to 9/10 on the 2 days with a value; average 7.0/10." in page
    # Two bars: one voice today, one email three days ago.
    assert page.count('<rect class="series-0"') == 1 and page.count('<rect class="series-2"') == 1
    table = page[page.index("<summary>Show the daily figures</summary>"):page.index("</details>")]
    assert table.count('<th scope="row">') == 30


def test_the_breakdowns_heat_map_and_funnel_show_the_period(staff_client, clinic):
    booked = conversation_on(0, clinic=clinic, outcome="booked", sentiment="positive")
    conversation_on(0, clinic=clinic, outcome="info_only", sentiment="neutral")
    record_event(conversation_id=booked.pk, type="tool_call", data={"name": "check_availability"})
    page = staff_client.get("/dashboard/").content.decode()
    outcomes = page[page.index('id="outcomes-heading"'):page.index('id="sentiment-heading"')]
    assert re.search(r"Booked</span>.*?<span class=\"bar-value\">1</span>", outcomes, re.S)
    assert re.search(r"Information only</span>.*?<span class=\"bar-value\">1</span>", outcomes, re.S)
    funnel = page[page.index('id="funnel-heading"'):page.index('id="peak-heading"')]
    assert re.search(r"Conversations</span>.*?bar-value\">2<", funnel, re.S)
    assert re.search(r"Availability checked<small>50% of the step before</small>", funnel)
    heat = page[page.index('<table class="heatmap">'):]
    weekday = clinic.local_now().strftime("%A")
    row = heat[heat.index(f"{weekday[:3]}<span class=\"visually-hidden\">{weekday[3:]}</span>"):]
    row = row[:row.index("</tr>")]
    assert re.search(r'<td class="heat-5">2</td>', row)
    assert f"Busiest: {weekday} at" in page


def test_live_now_lists_conversations_in_progress_with_their_last_words(staff_client, clinic):
    dana = CustomerFactory(name="Dana Reyes")
    live = start_conversation(channel="voice", customer=dana, at=timezone.now() - timedelta(seconds=75))
    add_message(conversation_id=live.pk, author="customer", content="Can I move my Botox?")
    conversation_on(0, clinic=clinic)  # ended: not live
    page = staff_client.get("/dashboard/").content.decode()
    section = page[page.index('data-live-socket="/ws/dashboard/"'):page.index("The last 30 days")]
    assert section.count("data-live-id=") == 1
    assert "Dana Reyes" in section and "Can I move my Botox?" in section
    assert re.search(r'data-since="[^"]+" title="Length so far">1:1[5-9]</time>', section)
    assert '<span data-live-count>1</span> in progress' in section
    assert f'href="/dashboard/conversations/{live.pk}/"' in section
    assert '<script src="/static/js/live.js" defer></script>' in page


def test_with_nobody_talking_live_now_says_so(staff_client, clinic):
    page = staff_client.get("/dashboard/").content.decode()
    assert '<p class="muted" data-live-empty >No conversations in progress.</p>' in page


# --- rescoring -----------------------------------------------------------------------------------

def test_staff_rescore_a_conversation_and_see_the_new_score(staff_client, clinic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_on(0, clinic=clinic, words="Thanks, that was perfect, book it please")
    conversation.refresh_from_db()
    first_scored = conversation.score.scored_at
    assert first_scored is not None  # scored when it ended (Celery eager in tests)
    Conversation.objects.filter(pk=conversation.pk).update(summary="An old summary", satisfaction_score=1)

    response = staff_client.post(f"/dashboard/conversations/{conversation.pk}/rescore/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" aria-labelledby="score-heading" id="score-card">')
    assert "Rescored just now." in html
    conversation = Conversation.objects.get(pk=conversation.pk)
    assert conversation.score.scored_at > first_scored
    assert conversation.summary != "An old summary"
    assert f"{conversation.satisfaction_score}/10" in html


def test_rescoring_without_javascript_redirects_back_with_a_note(staff_client, clinic):
    conversation = conversation_on(0, clinic=clinic)
    response = staff_client.post(f"/dashboard/conversations/{conversation.pk}/rescore/")
    assert response.status_code == 302
    assert response["Location"] == f"/dashboard/conversations/{conversation.pk}/"
    page = staff_client.get(response["Location"]).content.decode()
    assert "Rescoring… reload in a moment to see the result." in page


def test_a_conversation_in_progress_cannot_be_rescored(staff_client, clinic):
    conversation = start_conversation(channel="voice")
    page = staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    assert ">Rescore</button>" not in page
    response = staff_client.post(f"/dashboard/conversations/{conversation.pk}/rescore/", headers={"HX-Request": "true"})
    assert "This conversation cannot be rescored now." in response.content.decode()
    assert not ConversationScore.objects.filter(conversation=conversation).exists()


def test_rescoring_is_staff_only_and_post_only(client, staff_client, clinic):
    conversation = conversation_on(0, clinic=clinic)
    assert client.post(f"/dashboard/conversations/{conversation.pk}/rescore/").status_code == 302
    assert staff_client.get(f"/dashboard/conversations/{conversation.pk}/rescore/").status_code == 405


def test_the_conversation_page_follows_a_call_in_progress_live(staff_client, clinic):
    conversation = start_conversation(channel="voice")
    page = staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    assert f'data-live-socket="/ws/dashboard/conversations/{conversation.pk}/"' in page
    assert "data-live-transcript" in page and "Nothing was said yet." in page
    end_conversation(conversation_id=conversation.pk)
    page = staff_client.get(f"/dashboard/conversations/{conversation.pk}/").content.decode()
    assert "data-live-socket" not in page and "live.js" not in page
    assert ">Rescore</button>" in page
