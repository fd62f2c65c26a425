"""Bearer authentication for integration keys and personal tokens (API.md § Authentication).

Integration keys are looked up once per worker process and then served from memory for
KEY_CACHE_SECONDS: pushes are the hot path, and the key, its shops and their ticket rules would
otherwise cost three queries per request. Revocation and shop changes stay prompt: saving or
deleting a key or a shop, or changing a key's shops, clears this process's cache at once (signals
below), and every other process notices within KEY_CACHE_SECONDS, because an entry is never served
older than that.
"""

import threading
import time
from datetime import timedelta

from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey, PersonalToken, Shop

# last_used_at is informational: refresh it at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How long a process may serve an integration key (and its shops) from memory.
KEY_CACHE_SECONDS = 5.0
_KEY_CACHE_MAX = 1024


class Integration:
    """The caller behind an integration API key: authenticated, scoped to the key's shops,
    and no person (so it never passes a people-only permission).

    `shops_by_external_id` holds the key's active shops, so the push API can authorise events
    without another query."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_integration = True
    pk = id = None

    def __init__(self, api_key, shop_ids, shops=None):
        self.api_key = api_key
        self.shop_ids = frozenset(shop_ids)
        self.shops_by_external_id = {shop.external_id: shop for shop in shops or ()}

    def __str__(self):
        return f"API key {self.api_key.name}"

    def get_username(self):
        return str(self)

    def has_perm(self, perm, obj=None):
        return False


class _KeyCache:
    """key hash -> (loaded at, ApiKey, Integration) for this process, at most `ttl` seconds old."""

    def __init__(self, ttl=KEY_CACHE_SECONDS):
        self.ttl = ttl
        self._entries = {}
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key_hash):
        entry = self._entries.get(key_hash)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1], entry[2]

    def put(self, key_hash, api_key, principal, generation):
        with self._lock:
            if generation != self.generation:
                return  # cleared while this entry was being loaded: it may be stale already
            if len(self._entries) >= _KEY_CACHE_MAX:
                self._entries.clear()
            self._entries[key_hash] = (time.monotonic(), api_key, principal)

    def clear(self, **_signal_kwargs):
        with self._lock:
            self.generation += 1
            self._entries.clear()


key_cache = _KeyCache()

# Revoking or editing a key, or editing a shop, takes effect in this process at once.
post_save.connect(key_cache.clear, sender=ApiKey, dispatch_uid="reviews.key_cache.api_key_saved")
post_delete.connect(key_cache.clear, sender=ApiKey, dispatch_uid="reviews.key_cache.api_key_deleted")
post_save.connect(key_cache.clear, sender=Shop, dispatch_uid="reviews.key_cache.shop_saved")
post_delete.connect(key_cache.clear, sender=Shop, dispatch_uid="reviews.key_cache.shop_deleted")
m2m_changed.connect(key_cache.clear, sender=ApiKey.shops.through, dispatch_uid="reviews.key_cache.key_shops")


def _touch(model, secret):
    """Record use at most once per LAST_USED_RESOLUTION per key: skipped in memory when this
    process wrote it recently, and conditional in SQL so that several processes write it at most
    once a minute between them."""
    now = timezone.now()
    if secret.last_used_at is not None and now - secret.last_used_at <= LAST_USED_RESOLUTION:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    model.objects.filter(stale, pk=secret.pk).update(last_used_at=now)
    # Whether or not this process won the write, the key was used within the resolution.
    secret.last_used_at = now
    return True


def _load_integration(key_hash):
    api_key = ApiKey.objects.filter(key_hash=key_hash, revoked_at__isnull=True).first()
    if api_key is None:
        return None, None
    shops = list(api_key.shops.filter(is_active=True))
    return api_key, Integration(api_key, [shop.pk for shop in shops], shops)


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header must be 'Bearer <key>'.")
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid key.") from None
        key_hash = ApiKey.hash(raw)
        if raw.startswith(PersonalToken.PREFIX):
            token = PersonalToken.objects.select_related("user").filter(key_hash=key_hash).first()
            if token is None or not token.is_active or not token.user.is_active:
                raise exceptions.AuthenticationFailed("Invalid or revoked token.")
            _touch(PersonalToken, token)
            return token.user, token
        cached = key_cache.get(key_hash)
        if cached is None:
            generation = key_cache.generation
            api_key, principal = _load_integration(key_hash)
            if api_key is None:
                raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
            key_cache.put(key_hash, api_key, principal, generation)
        else:
            api_key, principal = cached
        _touch(ApiKey, api_key)
        return principal, api_key

    def authenticate_header(self, request):
        return self.keyword


class SessionLeavingTheBody(authentication.SessionAuthentication):
    """Session authentication whose CSRF check looks at the Django request, not DRF's: DRF's
    request would parse the body to find a form token, and the push view has no parsers (it reads
    the body itself), so a logged-in person pushing events got 415 instead of API.md's 403."""

    def enforce_csrf(self, request):
        super().enforce_csrf(request._request)
