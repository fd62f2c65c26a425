"""ReviewDesk settings. Everything that differs between machines comes from the environment;
see .env.example and docs/configuration.md for the full list."""

import datetime
from pathlib import Path

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_float, env_int, env_list, env_rate, env_str, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("REVIEWDESK_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else None, required=not DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "reviews",
    "contacts",
    "tickets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "reviewdesk.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "reviewdesk.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: turns a locked-out login into reviewdesk.security.login_locked_out.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reviewdesk.urls"
WSGI_APPLICATION = "reviewdesk.wsgi.application"
ASGI_APPLICATION = "reviewdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.views.workspace_context",
            ],
        },
    },
]

# Database: a SQLite file under var/ unless DATABASE_URL says otherwise.
DATABASES = {"default": parse_database_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'reviewdesk.sqlite3'}"))}
# PostgreSQL connections persist (CONN_MAX_AGE) without a `SELECT 1` round trip before each
# request's first query: on the push API that probe was a sixth of a request's time. A connection
# the server dropped fails one request with 503 (reviewdesk.middleware; the push API reconnects and
# retries instead) and is then replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# The planner's cost of a random page read. PostgreSQL's default (4) is for spinning disks; on SSDs
# or a working set in memory, 1.1 is the usual value, and with 4 the statistics join remedies to
# their tickets by scanning every ticket instead of looking each up by key (3x slower at 1M reviews).
DATABASE_RANDOM_PAGE_COST = env_float("DATABASE_RANDOM_PAGE_COST", 1.1)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _db_options = DATABASES["default"]["OPTIONS"]
    _db_options["options"] = f"{_db_options.get('options', '')} -c random_page_cost={DATABASE_RANDOM_PAGE_COST}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The statistics' covering indexes (INCLUDE columns) are for PostgreSQL; SQLite, the local desk,
# builds them on their key alone, as intended, so its warning that it does is not a problem.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Cache: Redis when REDIS_URL is set (shared by every process), else per-process memory.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"

# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one username from one
# client address, that pair is locked for LOGIN_COOLOFF_MINUTES (our login page and the admin's).
AUTHENTICATION_BACKENDS = [
    "reviewdesk.security.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Trusted reverse proxies in front of gunicorn that append to X-Forwarded-For (compose behind a
# TLS proxy: 1). 0: the client address is REMOTE_ADDR. Used by the login lockout and API throttling.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
AXES_ENABLED = env_bool("LOGIN_LOCKOUT_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "reviewdesk.security.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "reviewdesk.security.client_ip"
AXES_USERNAME_CALLABLE = "reviewdesk.security.lockout_username"
AXES_VERBOSE = False

# Language and time: Chinese and English, defaulting to the browser's; China time.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Security: on by default outside DEBUG; a TLS-terminating proxy sets X-Forwarded-Proto.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Key for personal data and connector credentials at rest (Fernet, urlsafe base64 of 32 bytes).
# Falls back to a key derived from SECRET_KEY so a dev install works without extra set-up.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "reviews.authentication.BearerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["reviewdesk.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "reviewdesk.renderers.JSONWhateverTheAccept",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["reviewdesk.filtering.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "reviewdesk.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    # Rates per integration key, per person and per anonymous address (reviewdesk.throttling);
    # 429 `throttled` with Retry-After. Empty: no limit for that kind of caller.
    "DEFAULT_THROTTLE_CLASSES": ["reviewdesk.throttling.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        # Generous on purpose: one key pushes 500-event batches from several clients, or single
        # events at hundreds a second (bench/ingest.py); the limit stops a runaway client.
        "api_key": env_rate("API_RATE_PER_KEY", "60000/min"),
        "person": env_rate("API_RATE_PER_PERSON", "600/min"),
        "anon": env_rate("API_RATE_ANONYMOUS", "60/min"),
    },
    "NUM_PROXIES": NUM_PROXIES or None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ReviewDesk API",
    "DESCRIPTION": "Push review events, read tickets and statistics. See API.md for the contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every API operation documents API.md's error statuses and body (checked by schemathesis).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "reviewdesk.api.error_responses_hook"],
    # Choice sets used by several fields get one stable name instead of a generated one.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "tickets.choices.TicketStatus",
        "RemedyKindEnum": "tickets.choices.RemedyKind",
        "RemedyStatusEnum": "tickets.choices.RemedyStatus",
    },
}

# Review-event ingestion limits (API.md § Push review events).
REVIEW_EVENTS_MAX_BATCH = 500
REVIEW_EVENTS_MAX_BODY_BYTES = 5 * 1024 * 1024

# Celery: Redis in production; a file-system broker under var/ so `make run` needs no server.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    # The file-system broker expects its folders; web, worker and beat all publish or consume.
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    if CELERY_BROKER_URL == "filesystem://":
        # The same broker; kombu warns "No hostname was supplied" on every start without one.
        CELERY_BROKER_URL = "filesystem://localhost/"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes Django's connection around every task unless told to reuse it; reconnecting cost
# a fifth of a worker's time. Stale or broken connections are still closed (reviewdesk/celery.py).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "pull-due-connectors": {
        "task": "reviews.tasks.pull_due_connectors_task",
        "schedule": float(env_int("CONNECTOR_SWEEP_SECONDS", 60)),
    },
    # Safety net: whatever a lost task or a down broker left unassigned is picked up here.
    "assign-waiting-tickets": {
        "task": "tickets.tasks.assign_waiting_tickets_task",
        "schedule": float(env_int("POOL_SWEEP_SECONDS", 60)),
    },
    # Warnings and breaches fire within a minute of their time.
    "sweep-sla": {"task": "tickets.tasks.sweep_sla_task", "schedule": float(env_int("SLA_SWEEP_SECONDS", 30))},
    # Buyers' counters and risk: ingestion marks the buyers it wrote, this recounts them. (Off the
    # request path; a message per push would cost a single event a tenth of its time.)
    "refresh-stale-buyers": {
        "task": "contacts.tasks.refresh_stale_buyers_task",
        "schedule": float(env_int("BUYER_SWEEP_SECONDS", 30)),
    },
    # The statistics rollup: fold the differences ticket writes appended into one row per group.
    # Readers add them up either way; folding keeps what they add up small.
    "compact-stats-rollup": {
        "task": "tickets.tasks.compact_stats_rollup_task",
        "schedule": float(env_int("STATS_ROLLUP_COMPACT_SECONDS", 300)),
    },
    # Follow-up visits (回访) due today: one reminder each, at most an hour late.
    "remind-followup-visits": {
        "task": "tickets.tasks.remind_followup_visits_task",
        "schedule": 3600.0,
    },
    # Supervisors' weekly digest (figures and SKUs to look at): Monday 09:00, installation time.
    "send-weekly-digest": {
        "task": "tickets.tasks.send_weekly_digest_task",
        "schedule": crontab(minute=0, hour=9, day_of_week="mon"),
    },
}

# Operations feedback: a SKU is flagged when its neutral/negative rate over the last 7 days exceeds
# its 30-day baseline by this factor (tickets.feedback).
SKU_ALERT_FACTOR = env_float("SKU_ALERT_FACTOR", 1.5)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "reviewdesk@localhost")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# Messages live in the session, not in a cookie: the admin shows a new API key once as a message,
# and a cookie would carry it in a Set-Cookie header.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes: lockouts are warnings; each login's bookkeeping at INFO is noise.
    "loggers": {
        # Django's own console handler (DEBUG) printed every django.* line a second time.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
