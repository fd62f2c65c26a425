"""Celery tasks of the tickets app: thin wrappers that take ids and call a service.

Queuing never fails the caller: when the broker is down the work waits in the database and the
beat sweeps (pool assignment every minute, SLA every 30 s) pick it up.
"""

import logging

from celery import shared_task

from .actions import followup_visits_remind
from .assignment import assign_tickets, assign_waiting_tickets
from .sla import sla_sweep

logger = logging.getLogger(__name__)

# Fail fast when the broker is unreachable: the sweeps are the safety net, not the request.
_PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


# Ids per assignment task: an ingest batch of 500 events opens at most 500 tickets.
ASSIGN_CHUNK = 500


@shared_task
def assign_ticket_task(ticket_id):
    assign_tickets([ticket_id])


@shared_task
def assign_tickets_task(ticket_ids):
    assign_tickets(ticket_ids)


@shared_task
def assign_waiting_tickets_task(shop_ids=None):
    return assign_waiting_tickets(shop_ids=shop_ids)


@shared_task
def sweep_sla_task():
    return sla_sweep()


@shared_task
def remind_followup_visits_task():
    return followup_visits_remind()


def _publish(task, *args, **kwargs):
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=True, retry_policy=_PUBLISH_RETRY)
    except Exception:  # noqa: BLE001 — the broker being down must not lose or fail the write
        logger.warning("could not queue %s%s; the periodic sweep will pick it up", task.name, args, exc_info=True)


def queue_assignment(ticket_ids):
    """One task for a single ticket, one per chunk for a batch: a 500-event push is one message."""
    ticket_ids = list(ticket_ids)
    if len(ticket_ids) == 1:
        _publish(assign_ticket_task, ticket_ids[0])
        return
    for start in range(0, len(ticket_ids), ASSIGN_CHUNK):
        _publish(assign_tickets_task, ticket_ids[start : start + ASSIGN_CHUNK])


def queue_pool_assignment(shop_ids):
    _publish(assign_waiting_tickets_task, shop_ids=list(shop_ids))
