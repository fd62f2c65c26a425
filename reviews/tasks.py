"""Celery tasks of reviews: they take ids and call a service."""

from functools import partial

from celery import shared_task
from django.db import transaction

from .connectors.selectors import connectors_due_ids
from .connectors.services import connector_pull


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
