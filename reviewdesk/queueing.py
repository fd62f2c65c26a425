"""Queuing Celery tasks from request and ingest paths.

Queuing never fails the caller: when the broker is down the work waits in the database and a beat
sweep picks it up (pool assignment, SLA, buyer refresh), so a down broker delays work but never
loses it or fails the write that caused it.
"""

import logging

logger = logging.getLogger(__name__)

# Fail fast when the broker is unreachable: the sweeps are the safety net, not the request.
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def publish(task, *args, **kwargs):
    """Queue `task`; log and return when the broker cannot take it."""
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=PUBLISH_RETRY)
    except Exception:  # noqa: BLE001 — the broker being down must not lose or fail the write
        logger.warning("could not queue %s%s; the periodic sweep will pick it up", task.name, args, exc_info=True)
