"""Celery tasks of the tickets app: thin wrappers that take ids and call a service.

Queuing never fails the caller: when the broker is down the work waits in the database and the
beat sweeps (pool assignment every minute, SLA every 30 s) pick it up.
"""

from celery import shared_task

from reviewdesk.queueing import publish

from .actions import followup_visits_remind
from .assignment import assign_tickets, assign_waiting_tickets
from .models import Ticket
from .rollup import rollup_compact
from .sla import sla_sweep

# Ids per assignment task: an ingest batch of 500 events opens at most 500 tickets.
ASSIGN_CHUNK = 500


def _assign_with_fresh_risk(ticket_ids):
    # The buyers' risk decides who may take a ticket (high risk → senior agents): assess it with
    # everything ingested so far before choosing, whatever order the worker got its tasks in.
    from contacts.services import buyers_risk_assess

    buyers_risk_assess(Ticket.objects.filter(pk__in=ticket_ids).values_list("review__buyer_id", flat=True))
    assign_tickets(ticket_ids)


@shared_task
def assign_ticket_task(ticket_id):
    _assign_with_fresh_risk([ticket_id])


@shared_task
def assign_tickets_task(ticket_ids):
    _assign_with_fresh_risk(ticket_ids)


@shared_task
def assign_waiting_tickets_task(shop_ids=None):
    return assign_waiting_tickets(shop_ids=shop_ids)


@shared_task
def sweep_sla_task():
    return sla_sweep()


@shared_task
def compact_stats_rollup_task():
    rollup_compact()


@shared_task
def remind_followup_visits_task():
    return followup_visits_remind()


def queue_assignment(ticket_ids):
    """One task for a single ticket, one per chunk for a batch: a 500-event push is one message."""
    ticket_ids = list(ticket_ids)
    if len(ticket_ids) == 1:
        publish(assign_ticket_task, ticket_ids[0])
        return
    for start in range(0, len(ticket_ids), ASSIGN_CHUNK):
        publish(assign_tickets_task, ticket_ids[start : start + ASSIGN_CHUNK])


def queue_pool_assignment(shop_ids):
    publish(assign_waiting_tickets_task, shop_ids=list(shop_ids))


@shared_task
def send_weekly_digest_task():
    from .feedback import weekly_digest_send

    return weekly_digest_send()
