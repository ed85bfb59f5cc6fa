"""Small readers for settings from the environment.

Each one fails loudly (ImproperlyConfigured naming the variable) on a value it
cannot read, instead of guessing: a typo in production must stop the start.
"""

import json
import os
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name):
    value = os.environ.get(name)
    return None if value is None else value.strip()


def get_str(name, default=""):
    value = _raw(name)
    return default if value is None else value


def get_bool(name, default=False):
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use 1/0, true/false, yes/no or on/off.")


def get_int(name, default, *, minimum=None, maximum=None):
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}.")
    return number


def get_float(name, default, *, minimum=None, maximum=None):
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}.")
    return number


PRICE_FIELDS = ("text_in", "cached_text_in", "audio_in", "cached_audio_in", "text_out", "audio_out", "per_minute")


def get_model_prices(name, defaults):
    """A price table: `defaults` with the models a JSON object in `name` adds or replaces.

    Each model maps to USD prices per 1M tokens (per minute: `per_minute`) as decimal strings or numbers,
    and `as_of`, the date they were read. A field left out is a price not known (never zero).
    """
    value = _raw(name)
    if not value:
        return dict(defaults)
    try:
        extra = json.loads(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}.") from None
    if not isinstance(extra, dict) or not all(isinstance(p, dict) for p in extra.values()):
        raise ImproperlyConfigured(f'{name} must be a JSON object of models, e.g. {{"gpt-x": {{"text_in": "1.25"}}}}.')
    table = dict(defaults)
    for model, prices in extra.items():
        unknown = set(prices) - {*PRICE_FIELDS, "as_of"}
        if unknown:
            raise ImproperlyConfigured(f"{name}: {model} has unknown price fields {sorted(unknown)}; "
                                       f"use {', '.join(PRICE_FIELDS)} and as_of.")
        for field in set(prices) & set(PRICE_FIELDS):
            try:
                price = Decimal(str(prices[field]))
            except InvalidOperation:
                price = None
            if price is None or not price.is_finite() or price < 0:
                raise ImproperlyConfigured(f"{name}: {model}.{field}={prices[field]!r} is not a price (a number ≥ 0).")
        table[model] = {key: str(val) for key, val in prices.items()}
    return table


def get_list(name, default=()):
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def get_url(name, default="", *, schemes):
    """A URL whose scheme is one of `schemes`, or empty when unset."""
    value = get_str(name, default)
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not (parsed.netloc or parsed.path):
        raise ImproperlyConfigured(f"{name}={value!r} is not a URL of scheme {'/'.join(sorted(schemes))}.")
    return value


def get_choice(name, default, *, choices):
    value = get_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of: {', '.join(choices)}.")
    return value


def get_time_zone(name, default):
    value = get_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"{name}={value!r} is not an IANA time zone (e.g. America/New_York).") from None
    return value


def get_database(name, default):
    """DATABASES['default'] from a URL (sqlite:///path or postgres://user@host:port/db)."""
    import environ

    url = get_str(name, default)
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"{name}={url!r}: only sqlite:// and postgres:// URLs are supported.")
    config = environ.Env.db_url_config(url)
    if config["ENGINE"].endswith("postgresql"):
        # Under ASGI each request may run in a new thread, so persistent per-thread
        # connections would pile up; psycopg's pool reuses connections instead.
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": 20, "timeout": 10}
    else:
        # `make run` is three processes on one file (web, worker, beat). WAL lets readers and the writer
        # overlap; IMMEDIATE takes the write lock at BEGIN, so a transaction that reads then writes waits
        # its turn (timeout) instead of failing at once with "database is locked" when another wrote first.
        config.setdefault("OPTIONS", {}).update(
            transaction_mode="IMMEDIATE", timeout=20,
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    return config
