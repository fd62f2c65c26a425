"""Bearer authentication for integration keys and personal tokens (API.md § Authentication)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiKey, PersonalToken

# last_used_at is informational: refresh it at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Integration:
    """The caller behind an integration API key: authenticated, scoped to the key's shops,
    and no person (so it never passes a people-only permission)."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    is_integration = True
    pk = id = None

    def __init__(self, api_key, shop_ids):
        self.api_key = api_key
        self.shop_ids = frozenset(shop_ids)

    def __str__(self):
        return f"API key {self.api_key.name}"

    def get_username(self):
        return str(self)

    def has_perm(self, perm, obj=None):
        return False


def _touch(model, secret):
    now = timezone.now()
    if secret.last_used_at is None or now - secret.last_used_at > LAST_USED_RESOLUTION:
        model.objects.filter(pk=secret.pk).update(last_used_at=now)


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
        api_key = ApiKey.objects.filter(key_hash=key_hash).first()
        if api_key is None or not api_key.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        _touch(ApiKey, api_key)
        shop_ids = api_key.shops.filter(is_active=True).values_list("id", flat=True)
        return Integration(api_key, shop_ids), api_key

    def authenticate_header(self, request):
        return self.keyword
