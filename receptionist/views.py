"""The call page: a caller talks to Ava in the browser (no login; docs/voice-protocol.md)."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe

from receptionist.prompt import RECORDING_NOTICE
from scheduling.models import ClinicSettings


@require_safe
def call_page(request):
    """Start call, the live transcript, typing. Everything else the page learns from the call's `session`."""
    clinic = ClinicSettings.load()
    page_config = {
        "ws_path": "/ws/voice/",
        # The VAD's delays come with the call's session message; its levels are page settings.
        "thresholds": {
            "min_level_dbfs": settings.VOICE_VAD_MIN_LEVEL_DBFS,
            "snr_db": settings.VOICE_VAD_SNR_DB,
            "echo_margin_db": settings.VOICE_VAD_ECHO_MARGIN_DB,
        },
    }
    return render(request, "call/call.html", {
        "assistant_name": clinic.assistant_name or "Ava", "recording_notice": RECORDING_NOTICE,
        "page_config": page_config,
    })
