"""Shared actors and tickets for the workspace page tests (issue 4)."""

import pytest
from django.test import Client

from tickets.assignment import assign_ticket
from tickets.choices import Role, TicketStatus
from tickets.models import AgentProfile, ContactAttempt, Notification, Remedy, Ticket, TicketEvent

from .conftest import event
from .factories import make_agent

RAW_NICK = "tony"
RAW_PHONE = "13812345678"


def login(user):
    client = Client()
    client.force_login(user)
    return client


def snapshot(ticket):
    """Everything a refused action must leave as it was."""
    return {
        "ticket": Ticket.objects.filter(pk=ticket.pk).values().get(),
        "timeline": list(TicketEvent.objects.filter(ticket=ticket).values_list("id", flat=True)),
        "attempts": ContactAttempt.objects.filter(ticket=ticket).count(),
        "remedies": list(Remedy.objects.filter(ticket=ticket).order_by("id").values()),
        "agents": list(AgentProfile.objects.order_by("id").values()),
        "notifications": Notification.objects.count(),
    }


def push_tickets(push, n, *, start=1, same_buyer=False):
    """`n` negative reviews of shop A through the real push API; returns their tickets."""
    events = [
        event(
            event_id=f"e-{i}",
            review_id=f"r-{i}",
            order_id=f"390{i:010d}",
            buyer={
                "id": "buyer-same" if same_buyer else f"buyer-{i}",
                "nick": "tony",
                "phone": "13812345678",
                "region": "浙江 杭州",
            },
        )
        for i in range(start, start + n)
    ]
    response = push({"events": events})
    assert response.status_code == 200, response.content
    ids = [r["ticket_id"] for r in response.json()["results"]]
    return list(Ticket.objects.filter(pk__in=ids).order_by("id"))


@pytest.fixture
def pool_ticket(push):
    """A new ticket of shop A that nobody holds."""
    assert push(event()).status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
    return ticket


@pytest.fixture
def ticket(pool_ticket, agent):
    """A ticket of shop A assigned to `agent` by the rules."""
    AgentProfile.objects.filter(user=agent).update(on_duty=True)
    assign_ticket(pool_ticket.pk)
    pool_ticket.refresh_from_db()
    assert (pool_ticket.status, pool_ticket.assignee_id) == (TicketStatus.ASSIGNED, agent.pk)
    return pool_ticket


@pytest.fixture
def colleague(shop_a):
    """A second agent of shop A (not the assignee)."""
    return make_agent(shop_a, username="colleague_a")


@pytest.fixture
def supervisor_b(shop_b):
    return make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")
