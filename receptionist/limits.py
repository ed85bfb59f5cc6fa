"""Calls per caller address, counted in the cache (Redis in production, so across processes).

Two limits: calls open at once (a slot is taken on connect and given back on
disconnect; the count expires a little after the longest call, so a process
that died holding slots frees them), and new calls started in a minute.
"""

import time

from django.conf import settings
from django.core.cache import cache


def _key(ip):
    return f"voice:calls:{ip}"


async def take_call_slot(ip):
    """True when this address may open one more call (and the slot is now taken)."""
    key = _key(ip)
    await cache.aadd(key, 0, timeout=settings.VOICE_MAX_CALL_SECONDS + 60)
    try:
        count = await cache.aincr(key)
    except ValueError:  # expired between add and incr
        await cache.aset(key, 1, timeout=settings.VOICE_MAX_CALL_SECONDS + 60)
        count = 1
    if count > settings.VOICE_MAX_CONCURRENT_CALLS_PER_IP:
        await give_back_call_slot(ip)
        return False
    return True


async def give_back_call_slot(ip):
    try:
        if await cache.adecr(_key(ip)) < 0:
            await cache.aset(_key(ip), 0, timeout=settings.VOICE_MAX_CALL_SECONDS + 60)
    except ValueError:
        pass


async def allow_new_call(ip, *, now=None):
    """True when this address has started fewer than VOICE_NEW_CALLS_PER_MINUTE_PER_IP calls this minute."""
    minute = int((now if now is not None else time.time()) // 60)
    key = f"voice:new-calls:{ip}:{minute}"
    await cache.aadd(key, 0, timeout=120)
    try:
        count = await cache.aincr(key)
    except ValueError:  # expired between add and incr
        await cache.aset(key, 1, timeout=120)
        count = 1
    return count <= settings.VOICE_NEW_CALLS_PER_MINUTE_PER_IP
