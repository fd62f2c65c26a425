"""Celery tasks of the contacts app: thin wrappers that take ids and call a service."""

from celery import shared_task

from .services import buyers_refresh, stale_buyers_refresh


@shared_task
def refresh_buyers_task(buyer_ids):
    buyers_refresh(buyer_ids)


@shared_task
def refresh_stale_buyers_task():
    return stale_buyers_refresh()
