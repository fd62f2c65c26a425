"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is CELERY_BEAT_SCHEDULE."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewdesk.settings")

app = Celery("reviewdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(**kwargs):
    """With connections reused across tasks, drop the ones past CONN_MAX_AGE or broken, as a
    request would."""
    from django.db import close_old_connections

    close_old_connections()
