"""Assignment under real concurrency (issue 3, § Assignment): several threads, each with its own
PostgreSQL connection, assign 1,000 tickets to 10 agents at once. No agent exceeds capacity,
every ticket gets exactly one agent, and with equal capacities loads differ by at most 1."""

import random
import threading

import pytest
from django.db import connection
from django.db.models import Count

from reviews.choices import ReviewState, Tier
from reviews.models import Review
from tickets.assignment import assign_ticket, assign_waiting_tickets
from tickets.choices import TicketStatus, TimelineKind
from tickets.models import AgentProfile, Ticket, TicketEvent

from .factories import ShopFactory, make_agent

pytestmark = pytest.mark.django_db(transaction=True)

TICKETS = 1000
AGENTS = 10


def open_tickets(shop, n):
    """n new, unassigned tickets of `shop`, created in two queries."""
    reviews = Review.objects.bulk_create(
        Review(
            shop=shop,
            platform=shop.platform,
            review_id=f"r-{i}",
            state=ReviewState.ACTIVE,
            tier=Tier.NEGATIVE,
            stars=1,
        )
        for i in range(n)
    )
    tickets = Ticket.objects.bulk_create(
        Ticket(review=review, shop=shop, platform=shop.platform, tier=Tier.NEGATIVE, status=TicketStatus.NEW)
        for review in reviews
    )
    return [ticket.pk for ticket in tickets]


def run_in_threads(work_lists, target):
    """Run target(items) for each list in its own thread, all released at once; re-raise the
    first error a thread hit. Every thread closes its own database connection."""
    barrier = threading.Barrier(len(work_lists))
    errors = []

    def worker(items):
        try:
            barrier.wait()
            target(items)
        except BaseException as exc:  # noqa: BLE001 — surfaced in the main thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(items,)) for items in work_lists]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if errors:
        raise errors[0]


def shuffled_with_overlap(ticket_ids, threads, seed):
    """Split shuffled ids over `threads` lists; every fifth id is also given to the next list,
    so some tickets are raced for by two workers."""
    rng = random.Random(seed)
    ids = list(ticket_ids)
    rng.shuffle(ids)
    lists = [[] for _ in range(threads)]
    for index, ticket_id in enumerate(ids):
        lists[index % threads].append(ticket_id)
        if index % 5 == 0:
            lists[(index + 1) % threads].append(ticket_id)
    for items in lists:
        rng.shuffle(items)
    return lists


def assign_each(items):
    for ticket_id in items:
        assign_ticket(ticket_id)


def assigned_rows_per_ticket():
    rows = (
        TicketEvent.objects.filter(kind=TimelineKind.ASSIGNED)
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values_list("ticket_id", "n")
    )
    return dict(rows)


def open_loads_by_agent(agents):
    loads = dict(
        Ticket.objects.filter(assignee__isnull=False)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return {agent.pk: loads.get(agent.pk, 0) for agent in agents}


def test_eight_threads_assigning_1000_tickets_to_10_agents_give_each_ticket_exactly_one_agent_within_capacity():
    shop = ShopFactory()
    agents = [make_agent(shop, on_duty=True, capacity=100) for _ in range(AGENTS)]
    ticket_ids = open_tickets(shop, TICKETS)

    run_in_threads(shuffled_with_overlap(ticket_ids, 8, seed=8), assign_each)

    assert Ticket.objects.filter(assignee__isnull=True).count() == 0
    assert Ticket.objects.filter(status=TicketStatus.ASSIGNED).count() == TICKETS
    per_ticket = assigned_rows_per_ticket()
    assert sorted(per_ticket) == sorted(ticket_ids)
    assert set(per_ticket.values()) == {1}
    assert TicketEvent.objects.filter(kind=TimelineKind.POOL).count() == 0
    loads = open_loads_by_agent(agents)
    assert sorted(loads.values()) == [100] * AGENTS
    # The decision each timeline row recorded names the agent the ticket went to.
    mismatched = [
        event.ticket_id
        for event in TicketEvent.objects.filter(kind=TimelineKind.ASSIGNED).select_related("ticket")
        if event.data["chosen"] != event.ticket.assignee_id
    ]
    assert mismatched == []
    assert AgentProfile.objects.filter(last_assigned_at__isnull=True).count() == 0


def test_when_four_threads_fill_every_agent_600_tickets_are_assigned_once_and_400_wait_in_the_pool():
    shop = ShopFactory()
    agents = [make_agent(shop, on_duty=True, capacity=60) for _ in range(AGENTS)]
    ticket_ids = open_tickets(shop, TICKETS)

    run_in_threads(shuffled_with_overlap(ticket_ids, 4, seed=60), assign_each)

    loads = open_loads_by_agent(agents)
    assert sorted(loads.values()) == [60] * AGENTS
    per_ticket = assigned_rows_per_ticket()
    assert len(per_ticket) == 600
    assert set(per_ticket.values()) == {1}
    assert Ticket.objects.filter(status=TicketStatus.ASSIGNED, assignee__isnull=False).count() == 600
    pool = set(Ticket.objects.filter(status=TicketStatus.NEW, assignee__isnull=True).values_list("id", flat=True))
    assert len(pool) == 400
    assert pool.isdisjoint(per_ticket)
    # Every waiting ticket says why it waits.
    pool_rows = TicketEvent.objects.filter(kind=TimelineKind.POOL)
    assert set(pool_rows.values_list("ticket_id", flat=True)) == pool
    assert set(pool_rows.values_list("data__rule", flat=True)) == {"no_capacity"}


def test_unequal_loads_even_out_so_that_no_two_agents_differ_by_more_than_one():
    shop = ShopFactory()
    agents = [make_agent(shop, on_duty=True, capacity=50) for _ in range(AGENTS)]
    # 200 new tickets do not split evenly over 10 agents when 3 of them already hold one each.
    ticket_ids = open_tickets(shop, 203)
    Ticket.objects.filter(pk__in=ticket_ids[:3]).update(status=TicketStatus.ASSIGNED)
    for agent, ticket_id in zip(agents[:3], ticket_ids[:3], strict=True):
        Ticket.objects.filter(pk=ticket_id).update(assignee=agent)

    run_in_threads(shuffled_with_overlap(ticket_ids[3:], 8, seed=7), assign_each)

    loads = open_loads_by_agent(agents)
    assert sum(loads.values()) == 203
    assert max(loads.values()) - min(loads.values()) <= 1
    assert sorted(loads.values()) == [20] * 7 + [21] * 3
    per_ticket = assigned_rows_per_ticket()
    assert sorted(per_ticket) == sorted(ticket_ids[3:])
    assert set(per_ticket.values()) == {1}


def test_pool_sweeps_running_at_once_assign_every_waiting_ticket_exactly_once():
    shop = ShopFactory()
    agents = [make_agent(shop, on_duty=True, capacity=10) for _ in range(AGENTS)]
    open_tickets(shop, 120)
    assigned_counts = []

    def sweep(_items):
        assigned_counts.append(assign_waiting_tickets(shop_ids=[shop.pk]))

    run_in_threads([[]] * 3, sweep)

    assert sum(assigned_counts) == 100
    per_ticket = assigned_rows_per_ticket()
    assert len(per_ticket) == 100
    assert set(per_ticket.values()) == {1}
    assert sorted(open_loads_by_agent(agents).values()) == [10] * AGENTS
    assert Ticket.objects.filter(status=TicketStatus.NEW, assignee__isnull=True).count() == 20
    # A sweep runs every minute, so it writes no "waiting in the pool" rows of its own.
    assert TicketEvent.objects.filter(kind=TimelineKind.POOL).count() == 0
