"""The call page: a caller talks to Ava in the browser (no login; docs/voice-protocol.md)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from receptionist.call_tokens import issue_call_token
from receptionist.prompt import RECORDING_NOTICE
from scheduling.models import ClinicSettings


@never_cache
@require_safe
def call_token(request):
    """A fresh call token for a call page left open longer than its token lives."""
    return JsonResponse({"token": issue_call_token(ip=request.META.get("REMOTE_ADDR", ""))})


@never_cache
@require_safe
def call_page(request):
    """Start call, the live transcript, typing. Everything else the page learns from the call's `session`."""
    clinic = ClinicSettings.load()
    page_config = {
        "ws_path": "/ws/voice/",
        "token": issue_call_token(ip=request.META.get("REMOTE_ADDR", "")),
        "token_url": reverse("call:token"),
        "token_max_age_ms": settings.VOICE_CALL_TOKEN_MAX_AGE_SECONDS * 1000,
        # The VAD's delays come with the call's session message; its levels are page settings.
        "thresholds": {
            "min_level_dbfs": settings.VOICE_VAD_MIN_LEVEL_DBFS,
            "snr_db": settings.VOICE_VAD_SNR_DB,
            "echo_margin_db": settings.VOICE_VAD_ECHO_MARGIN_DB,
        },
        # 0: no window.__avaCall; N: the page's view of the call, its lists capped at N entries (tests).
        "test_hook": settings.VOICE_CALL_PAGE_TEST_HOOK,
    }
    return render(request, "call/call.html", {
        "assistant_name": clinic.assistant_name or "Ava", "recording_notice": RECORDING_NOTICE,
        "page_config": page_config,
    })
