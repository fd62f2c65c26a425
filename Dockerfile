# ReviewDesk: one image for web (gunicorn), Celery worker and Celery beat.
# docker-compose.yml runs it; see README.md § "Full stack with docker compose".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DJANGO_SETTINGS_MODULE=reviewdesk.settings \
    REVIEWDESK_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

# Every runtime dependency ships as a manylinux wheel (psycopg2-binary included), so no compiler
# or libpq is needed in the image.
WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The application runs as an unprivileged user that owns only var/ and the collected static files.
RUN groupadd --system --gid 10001 reviewdesk \
    && useradd --system --uid 10001 --gid reviewdesk --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin reviewdesk \
    && mkdir -p /app/var /app/staticfiles \
    && chown reviewdesk:reviewdesk /app/var /app/staticfiles
COPY . .
USER reviewdesk

# Static files are collected (and compressed, with a manifest) into the image; whitenoise serves
# them. Settings refuse to load without SECRET_KEY when DEBUG is off, so collectstatic gets a
# throw-away key that exists only for this command; the real key comes from the environment at
# run time. The memory broker keeps the file-system broker from creating folders in the image.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput

EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it; default 1); about two sync workers per core the web
# container may use (docs/benchmarks.md). reviewdesk/gunicorn_conf.py tunes garbage collection per
# worker. Behind a TLS proxy that sets X-Forwarded-Proto, which settings.SECURE_PROXY_SSL_HEADER trusts.
CMD ["gunicorn", "reviewdesk.wsgi", "--config", "python:reviewdesk.gunicorn_conf", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
