"""Encryption at rest for personal data and credentials (buyer phones, connector tokens)."""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys, secret_key):
    if keys:
        try:
            return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
        except ValueError:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
                "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            ) from None
    # No dedicated key: derive one from SECRET_KEY so development works out of the box.
    digest = hashlib.sha256(("reviewdesk-field-encryption:" + secret_key).encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(digest))])


def fernet():
    return _fernet(settings.FIELD_ENCRYPTION_KEY, settings.SECRET_KEY)


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. The first key in FIELD_ENCRYPTION_KEY encrypts;
    every listed key decrypts, so keys can be rotated. Not searchable, by design."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return fernet().encrypt(value.encode()).decode()

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise ImproperlyConfigured(
                f"Cannot decrypt {self.model.__name__}.{self.name}: FIELD_ENCRYPTION_KEY does not match."
            ) from None
