"""API rate limits per caller (issue 7): one fixed-window counter per API key, per person and per
anonymous client address, in the shared cache.

DRF's SimpleRateThrottle keeps a list of every request's timestamp and reads and rewrites it on
each request: two cache round trips and, at an integration's tens of thousands of requests a
minute, a list of as many floats pickled both ways. A counter per window costs one round trip
(SET NX with the window's expiry, then INCR, in one Redis pipeline) and a few bytes. When Redis
is down the request is served unthrottled: rate limits must not take the push API down. The price of a fixed window is that a caller can spend two
windows' allowance around a window boundary; the rates are ceilings against runaway clients and
abuse, not accounting, so that is acceptable.
"""

import logging
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """'6000/min' -> (6000, 60); None or '' -> (None, None), meaning no limit."""
    if not rate:
        return None, None
    count, _, period = str(rate).partition("/")
    try:
        return int(count), _PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"Bad throttle rate {rate!r}: use <count>/<second|minute|hour|day>.") from None


def _hit(key, period):
    """Count one request in `key`'s window; returns the count so far, in one cache round trip."""
    cache = caches["default"]  # the backend itself: `django.core.cache.cache` is a proxy
    if isinstance(cache, RedisCache):
        redis_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(redis_key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(redis_key, 0, ex=period + 1, nx=True)  # the window's first request starts its clock
        pipe.incr(redis_key)
        _, count = pipe.execute()
        return int(count)
    # Other caches (the per-process memory cache of `make run`): add-then-incr is good enough.
    cache.add(key, 0, period + 1)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, period + 1)
        return 1


class PrincipalRateThrottle(BaseThrottle):
    """One rate per kind of caller, from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]:
    `api_key` per integration key, `person` per user (session or personal token), `anon` per
    client address (the schema and docs, the only views open without credentials)."""

    cache_prefix = "throttle"

    def __init__(self):
        self.wait_seconds = None

    def scope_and_ident(self, request):
        user = getattr(request, "user", None)
        if getattr(user, "is_integration", False):
            return "api_key", str(user.api_key.pk)
        if user is not None and user.is_authenticated:
            return "person", str(user.pk)
        return "anon", self.get_ident(request)

    def allow_request(self, request, view):
        scope, ident = self.scope_and_ident(request)
        rates = api_settings.DEFAULT_THROTTLE_RATES or {}
        limit, period = parse_rate(rates.get(scope))
        if limit is None:
            return True
        now = time.time()
        window = int(now // period)
        try:
            count = _hit(f"{self.cache_prefix}:{scope}:{ident}:{period}:{window}", period)
        except Exception:  # noqa: BLE001 - Redis down: serve unthrottled rather than fail every call
            logger.warning("rate limit not checked: the cache is unavailable", exc_info=True)
            return True
        if count <= limit:
            return True
        self.wait_seconds = max(1, int((window + 1) * period - now + 0.999))
        return False

    def wait(self):
        return self.wait_seconds
