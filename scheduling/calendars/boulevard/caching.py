"""Cached Boulevard reads: availability carts, and a generation number that any write bumps."""

from django.core.cache import cache

CART_TTL = 30 * 60  # an availability cart is reused this long (it is never reserved or checked out)
_GENERATION_KEY = "boulevard:availability:generation"


def cart_key(item_id, variant):
    return f"boulevard:cart:{item_id}:{variant}"


def generation():
    return cache.get_or_set(_GENERATION_KEY, 1, None)


def bump_generation():
    """Forget every cached bookable time: a booking, move or cancellation changes them."""
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        cache.set(_GENERATION_KEY, 2, None)

