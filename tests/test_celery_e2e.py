"""End to end with real processes: the API in this process, a Celery worker and beat as child
processes, Redis as the broker and PostgreSQL as the database."""

import datetime as dt

import pytest
from django.core import mail  # noqa: F401 — the worker sends through the configured backend
from django.utils import timezone

from tickets.models import Notification, Ticket

from .conftest import event
from .factories import make_agent
from .processes import flush_broker, read_log, start_celery, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker_and_beat(tmp_path):
    flush_broker()
    worker = start_celery("worker", tmp_path, "--pool=solo", "--without-gossip", "--without-mingle")
    beat = start_celery("beat", tmp_path, SLA_SWEEP_SECONDS=1, POOL_SWEEP_SECONDS=2)
    yield worker, beat
    for process in (beat, worker):
        stop(process)


def test_a_pushed_review_is_assigned_by_the_worker_and_its_breach_handled_by_beat(push, shop_a, celery_worker_and_beat):
    worker, beat = celery_worker_and_beat
    agent = make_agent(shop_a, on_duty=True, capacity=10, username="on_duty_agent")
    supervisor = make_agent(shop_a, role="supervisor", username="boss")

    response = push(event(event_id="e2e-1", review_id="e2e-r1", occurred_at=timezone.now().isoformat()))
    assert response.status_code == 200
    ticket_id = response.json()["results"][0]["ticket_id"]

    ticket = wait_for(
        lambda: Ticket.objects.filter(pk=ticket_id, assignee=agent).first(),
        timeout=30,
        what=f"the worker to assign the ticket (worker log:\n{read_log(worker)})",
    )
    assert ticket.status == "assigned"
    assert ticket.timeline.filter(kind="assigned", data__rule="fewest_open").count() == 1

    # Move the clock past the due time: the ticket's first contact is now a minute overdue.
    past = timezone.now() - dt.timedelta(minutes=1)
    Ticket.objects.filter(pk=ticket_id).update(first_contact_warn_at=past, first_contact_due_at=past)

    breached = wait_for(
        lambda: Ticket.objects.filter(pk=ticket_id, first_contact_breached_at__isnull=False).first(),
        timeout=30,
        what=f"beat's SLA sweep to fire the breach (beat log:\n{read_log(beat)})",
    )
    assert breached.sla_state == "breached"
    assert breached.status == "escalated"
    assert Notification.objects.filter(recipient=supervisor, ticket_id=ticket_id, kind="sla_breach").count() == 1
    assert breached.timeline.filter(kind="sla", data__clock="first_contact_breach").count() == 1
