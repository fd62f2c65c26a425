"""Typed readers for settings that come from environment variables.

Each helper fails loudly (ImproperlyConfigured) on a value it cannot read, so a typo in a
deployment stops the process at start-up instead of running with a silent default.
"""

import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=None, *, required=False):
    value = os.environ.get(name)
    if required and (value is None or not value.strip()):
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    if value is None:
        return default
    return value


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), not {value!r}.")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from None


def env_float(name, default):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name, default=()):
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


_ENGINES = {
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


def parse_database_url(url):
    """Turn `postgres://user:pass@host:5432/name?sslmode=require` or `sqlite:///path` into a
    Django DATABASES entry."""
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        raise ImproperlyConfigured(
            f"DATABASE_URL has an unsupported scheme {parts.scheme!r}; use postgres:// or sqlite:///."
        )
    if engine.endswith("sqlite3"):
        path = unquote(parts.path)
        # sqlite:////abs/path keeps its leading slash; sqlite:///rel/path is relative.
        name = path[1:]
        if not name:
            raise ImproperlyConfigured("DATABASE_URL for SQLite needs a file path: sqlite:///var/db.sqlite3")
        return {
            "ENGINE": engine,
            "NAME": name,
            "OPTIONS": {
                # WAL lets the web process read while a worker writes; IMMEDIATE avoids
                # "database is locked" upgrades inside transactions.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL for PostgreSQL needs a database name.")
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


_RATE_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def env_rate(name, default):
    """A request rate such as `6000/min` (periods: s, min, hour, day, or their long names).
    Empty means no limit (None); anything else stops start-up."""
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip()
    if not value:
        return None
    count, _, period = value.partition("/")
    if not count.isdigit() or period.strip().lower() not in _RATE_PERIODS:
        raise ImproperlyConfigured(f"{name} must be a rate like 6000/min (count/s|min|hour|day), not {value!r}.")
    return f"{int(count)}/{period.strip().lower()}"
