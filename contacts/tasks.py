"""Celery tasks of the contacts app: thin wrappers that take ids and call a service."""

from celery import shared_task

from reviewdesk.queueing import publish

from .services import buyers_refresh, stale_buyers_refresh

# Ids per refresh task: an ingest batch of 500 events touches at most 500 buyers.
REFRESH_CHUNK = 500


@shared_task
def refresh_buyers_task(buyer_ids):
    buyers_refresh(buyer_ids)


@shared_task
def refresh_stale_buyers_task():
    return stale_buyers_refresh()


def queue_buyers_refresh(buyer_ids):
    """Called after commit with the buyers whose reviews or tickets an ingest batch changed."""
    buyer_ids = sorted(set(buyer_ids))
    for start in range(0, len(buyer_ids), REFRESH_CHUNK):
        publish(refresh_buyers_task, buyer_ids[start : start + REFRESH_CHUNK])
