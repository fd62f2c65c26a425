"""Settings for the test suite: the real settings, pointed at the local PostgreSQL and Redis
unless the environment says otherwise, with only what tests must change."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reviewdesk")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("SECRET_KEY", "test-only-not-secret")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Tests assert English texts; requests still follow Accept-Language (see test_translations).
os.environ.setdefault("LANGUAGE_CODE", "en")

from .settings import *  # noqa: E402,F403

# Hashing demo passwords at full strength would dominate test time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
