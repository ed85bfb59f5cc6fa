"""How long a scoring task waits before its next try: exponential, jittered, capped by the broker.

Redis keeps a task that waits (a countdown) unacknowledged; past the broker's visibility
timeout it hands the task to a second worker. So each wait is capped such that all of them
together stay within a quarter of that timeout.
"""

import random

from django.conf import settings


def max_wait():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    per_try_share = visibility / (4 * max(1, settings.ANALYTICS_SCORING_MAX_RETRIES))
    return min(settings.ANALYTICS_SCORING_RETRY_MAX_DELAY, per_try_share)


def retry_countdown(retries, *, retry_after=None, rng=random):
    """Seconds to wait before try number `retries + 2`: half the ceiling plus jitter up to the other half.

    The ceiling doubles with each retry (base, 2×base, 4×base, …) up to max_wait(). A server's
    Retry-After is honoured when longer, within the same cap.
    """
    ceiling = min(max_wait(), settings.ANALYTICS_SCORING_RETRY_BASE_DELAY * 2 ** retries)
    wait = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if retry_after:
        wait = max(wait, min(float(retry_after), max_wait()))
    return wait
