"""Celery tasks of reviews: they take ids and call a service."""

import logging
from functools import partial

from celery import shared_task
from django.db import transaction

from .connectors.base import ConnectorError, RateLimited
from .connectors.selectors import connectors_due_ids
from .connectors.services import connector_pull, connector_refetch_order

logger = logging.getLogger(__name__)
REFETCH_MAX_RETRIES = 6


@shared_task
def pull_due_connectors_task():
    """Queue one pull per due connector; beat runs this every minute."""
    connector_ids = connectors_due_ids()
    for connector_id in connector_ids:
        transaction.on_commit(partial(pull_connector_task.delay, connector_id))
    return len(connector_ids)


@shared_task
def pull_connector_task(connector_id):
    """Pull one connector, and queue its next run at once while it is still catching up."""
    result = connector_pull(connector_id)
    if result is not None and result.error is None and not result.caught_up:
        transaction.on_commit(partial(pull_connector_task.delay, connector_id))


@shared_task(bind=True, max_retries=REFETCH_MAX_RETRIES)
def refetch_connector_order_task(self, connector_id, order_id, sub_order_id=None):
    """Fetch one order's reviews again after the platform pushed a rating message, and ingest them.

    A platform error is retried with back-off (longer when the platform says how long to wait); a
    message lost for good is still caught by the connector's revision sweep."""
    try:
        results = connector_refetch_order(connector_id, order_id, sub_order_id)
    except ConnectorError as exc:
        wait = 30 * 2**self.request.retries
        if isinstance(exc, RateLimited) and exc.retry_after:
            wait = max(wait, int(exc.retry_after) + 1)
        logger.warning("connector %s: refetching order %s failed: %s", connector_id, order_id, exc.message)
        raise self.retry(exc=exc, countdown=wait) from None
    return len(results)
