"""Who gets a ticket (DESIGN.md § Assignment, issue 3 § Agents and § Assignment): the rules, the
stored decision, the unassigned pool, duty, reopened tickets, and scheduling after commit.

Tasks are called directly; scheduling is checked with django_capture_on_commit_callbacks and by
patching `apply_async` only, which is the edge where a message would leave for the broker."""

import datetime as dt
import itertools
import logging
from unittest.mock import ANY, call, patch
from zoneinfo import ZoneInfo

import pytest

from contacts.models import Buyer, RiskLevel
from reviewdesk.celery import app as celery_app
from reviews.choices import ReviewState, Tier
from reviews.models import Review
from tickets.assignment import agent_set_duty, assign_ticket, assign_waiting_tickets, reassign_after_breach
from tickets.choices import Role, TicketStatus
from tickets.models import AgentProfile, Ticket, TicketEvent
from tickets.services import contact_attempt_log
from tickets.tasks import (
    assign_ticket_task,
    assign_tickets_task,
    assign_waiting_tickets_task,
    queue_assignment,
    queue_pool_assignment,
)

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"
_numbers = itertools.count(1)


def make_ticket(shop, *, risk=RiskLevel.LOW, status=TicketStatus.NEW, assignee=None, due=None):
    """A ticket of `shop` for a fresh buyer of the given risk, written straight to the database."""
    n = next(_numbers)
    buyer = Buyer.objects.create(platform=shop.platform, open_id=f"buyer-{n}", risk_level=risk)
    review = Review.objects.create(
        shop=shop,
        platform=shop.platform,
        review_id=f"orm-{n}",
        state=ReviewState.ACTIVE,
        tier=Tier.NEGATIVE,
        stars=1,
        buyer=buyer,
    )
    return Ticket.objects.create(
        review=review,
        shop=shop,
        platform=shop.platform,
        tier=Tier.NEGATIVE,
        status=status,
        assignee=assignee,
        first_contact_due_at=due,
    )


def give_open_tickets(user, shop, n, status=TicketStatus.ASSIGNED):
    for _ in range(n):
        make_ticket(shop, status=status, assignee=user)


def set_profile(user, **fields):
    AgentProfile.objects.filter(user=user).update(**fields)


def kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def candidate(user, load, *, capacity=30, last_assigned_at=None):
    """One entry of a stored decision's candidate list."""
    return {
        "agent": user.pk,
        "name": user.username,
        "load": load,
        "capacity": capacity,
        "last_assigned_at": last_assigned_at,
    }


def followup(event_id, occurred_at, negative=True):
    return {
        "event_id": event_id,
        "type": "review.followup",
        "occurred_at": occurred_at,
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": "r-1",
        "followup": {"content": "用了两天又坏了", "negative": negative},
    }


def revised_positive(event_id="e-revised", occurred_at="2026-03-03T09:00:00+08:00"):
    return {
        "event_id": event_id,
        "type": "review.revised",
        "occurred_at": occurred_at,
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": "r-1",
        "rating": {"tier": "positive", "stars": 5},
    }


def deleted(review_id, event_id="e-deleted", occurred_at="2026-03-03T09:00:00+08:00"):
    return {
        "event_id": event_id,
        "type": "review.deleted",
        "occurred_at": occurred_at,
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": review_id,
    }


@pytest.fixture
def publish():
    """The broker edge: what would have been sent, per task, without sending it."""
    with (
        patch.object(assign_ticket_task, "apply_async") as assign,
        patch.object(assign_tickets_task, "apply_async") as assign_batch,
        patch.object(assign_waiting_tickets_task, "apply_async") as pool,
    ):
        yield {"assign": assign, "assign_batch": assign_batch, "pool": pool}


def run_sent(mock, task):
    """Run what a patched `apply_async` was asked to send, as a worker would; returns its result."""
    [sent] = mock.call_args_list
    return task(*sent.kwargs["args"], **sent.kwargs["kwargs"])


# The rules -----------------------------------------------------------------------------------


def test_the_agent_with_the_fewest_open_tickets_gets_the_ticket_and_the_decision_is_stored(shop_a):
    zhang = make_agent(shop_a, username="zhang", on_duty=True)
    li = make_agent(shop_a, username="li", on_duty=True)
    wang = make_agent(shop_a, username="wang", on_duty=True)
    give_open_tickets(zhang, shop_a, 3)
    give_open_tickets(li, shop_a, 1)
    give_open_tickets(wang, shop_a, 2)
    ticket = make_ticket(shop_a)

    result = assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert result.pk == ticket.pk
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.ASSIGNED, li.pk)
    [row] = TicketEvent.objects.filter(ticket=ticket)
    assert (row.kind, row.from_status, row.to_status) == ("assigned", "new", "assigned")
    assert (row.actor_id, row.actor_label) == (None, "assignment")
    assert row.message == "Assigned to li: fewest open tickets."
    assert row.data == {
        "rule": "fewest_open",
        "chosen": li.pk,
        "needs_senior": False,
        "candidates": [candidate(zhang, 3), candidate(li, 1), candidate(wang, 2)],
    }
    assert AgentProfile.objects.get(user=li).last_assigned_at == NOW
    assert list(AgentProfile.objects.exclude(user=li).values_list("last_assigned_at", flat=True)) == [None, None]


def test_only_open_tickets_count_towards_an_agents_load(shop_a):
    zhang = make_agent(shop_a, username="zhang", on_duty=True)
    li = make_agent(shop_a, username="li", on_duty=True)
    give_open_tickets(zhang, shop_a, 5, status=TicketStatus.RESOLVED)
    give_open_tickets(zhang, shop_a, 2, status=TicketStatus.CLOSED_UNRESOLVED)
    give_open_tickets(zhang, shop_a, 1, status=TicketStatus.WAITING_BUYER)
    for status in (TicketStatus.IN_PROGRESS, TicketStatus.ESCALATED):
        give_open_tickets(li, shop_a, 1, status=status)
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == zhang.pk
    assert TicketEvent.objects.get(ticket=ticket).data["candidates"] == [candidate(zhang, 1), candidate(li, 2)]


def test_a_tie_on_open_tickets_goes_to_the_agent_idle_longest(shop_a):
    zhang = make_agent(shop_a, username="zhang", on_duty=True, last_assigned_at=NOW - dt.timedelta(minutes=30))
    li = make_agent(shop_a, username="li", on_duty=True, last_assigned_at=NOW - dt.timedelta(hours=2))
    wang = make_agent(shop_a, username="wang", on_duty=True, last_assigned_at=NOW - dt.timedelta(hours=1))
    for user in (zhang, li, wang):
        give_open_tickets(user, shop_a, 1)
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == li.pk
    row = TicketEvent.objects.get(ticket=ticket)
    assert row.message == "Assigned to li: tied on open tickets, idle longest."
    assert row.data == {
        "rule": "idle_longest",
        "chosen": li.pk,
        "needs_senior": False,
        "candidates": [
            candidate(zhang, 1, last_assigned_at="2026-03-02T01:30:00+00:00"),
            candidate(li, 1, last_assigned_at="2026-03-02T00:00:00+00:00"),
            candidate(wang, 1, last_assigned_at="2026-03-02T01:00:00+00:00"),
        ],
    }


def test_an_agent_never_assigned_before_counts_as_idle_longest(shop_a):
    make_agent(shop_a, username="zhang", on_duty=True, last_assigned_at=NOW - dt.timedelta(days=30))
    li = make_agent(shop_a, username="li", on_duty=True)
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == li.pk
    assert TicketEvent.objects.get(ticket=ticket).data["rule"] == "idle_longest"


def _off_duty(shop_a, shop_b):
    return make_agent(shop_a, username="idle", on_duty=False)


def _other_shop(shop_a, shop_b):
    return make_agent(shop_b, username="idle", on_duty=True)


def _inactive_user(shop_a, shop_b):
    user = make_agent(shop_a, username="idle", on_duty=True)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


def _supervisor(shop_a, shop_b):
    return make_agent(shop_a, username="idle", role=Role.SUPERVISOR, on_duty=True)


def _before_their_shift(shop_a, shop_b):
    return make_agent(shop_a, username="idle", on_duty=True, shift_schedule={"mon": [["13:00", "21:00"]]})


def _after_their_shift(shop_a, shop_b):
    # A shift's end is exclusive: 09:00–10:00 is over at 10:00.
    return make_agent(shop_a, username="idle", on_duty=True, shift_schedule={"mon": [["09:00", "10:00"]]})


def _on_a_day_off(shop_a, shop_b):
    return make_agent(shop_a, username="idle", on_duty=True, shift_schedule={"mon": [], "tue": [["00:00", "24:00"]]})


@pytest.mark.parametrize(
    "make_idle",
    [
        _off_duty,
        _other_shop,
        _inactive_user,
        _supervisor,
        _before_their_shift,
        _after_their_shift,
        _on_a_day_off,
    ],
)
def test_an_ineligible_agent_never_gets_the_ticket_even_with_no_open_tickets(shop_a, shop_b, make_idle):
    busy = make_agent(shop_a, username="busy", on_duty=True)
    give_open_tickets(busy, shop_a, 3)
    idle = make_idle(shop_a, shop_b)
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == busy.pk
    assert TicketEvent.objects.get(ticket=ticket).data["candidates"] == [candidate(busy, 3)]
    assert AgentProfile.objects.get(user=idle).last_assigned_at is None


def test_an_agent_inside_their_shift_is_eligible(shop_a):
    busy = make_agent(shop_a, username="busy", on_duty=True)
    give_open_tickets(busy, shop_a, 3)
    shift = make_agent(shop_a, username="shift", on_duty=True, shift_schedule={"mon": [["10:00", "18:00"]], "sun": []})
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == shift.pk


def test_an_agent_at_capacity_is_passed_over_for_one_with_more_open_tickets_and_room(shop_a):
    full = make_agent(shop_a, username="full", on_duty=True, capacity=2)
    roomy = make_agent(shop_a, username="roomy", on_duty=True, capacity=30)
    give_open_tickets(full, shop_a, 2)
    give_open_tickets(roomy, shop_a, 5)
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == roomy.pk
    assert TicketEvent.objects.get(ticket=ticket).data == {
        "rule": "fewest_open",
        "chosen": roomy.pk,
        "needs_senior": False,
        "candidates": [candidate(full, 2, capacity=2), candidate(roomy, 5)],
    }


def test_with_every_eligible_agent_at_capacity_the_ticket_waits_in_the_pool_with_one_pool_row(shop_a):
    full = make_agent(shop_a, username="full", on_duty=True, capacity=1)
    give_open_tickets(full, shop_a, 1)
    ticket = make_ticket(shop_a)

    result = assign_ticket(ticket.pk, now=NOW)

    assert result.pk == ticket.pk and result.assignee_id is None
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
    [row] = TicketEvent.objects.filter(ticket=ticket)
    assert (row.kind, row.from_status, row.to_status) == ("pool", "", "")
    assert row.message == "Waiting in the pool: every eligible agent is at capacity."
    assert row.data == {
        "rule": "no_capacity",
        "chosen": None,
        "needs_senior": False,
        "candidates": [candidate(full, 1, capacity=1)],
    }
    assert AgentProfile.objects.get(user=full).last_assigned_at is None


def test_with_no_agent_on_duty_the_ticket_stays_unassigned_with_one_pool_row(shop_a, agent):
    ticket = make_ticket(shop_a)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)
    [row] = TicketEvent.objects.filter(ticket=ticket)
    assert row.kind == "pool"
    assert row.message == "Waiting in the pool: no agent is on duty for this shop."
    assert row.data == {"rule": "no_eligible_agent", "chosen": None, "needs_senior": False, "candidates": []}


def test_a_high_risk_buyer_goes_only_to_a_senior_agent(shop_a):
    junior = make_agent(shop_a, username="junior", on_duty=True)
    senior = make_agent(shop_a, username="senior", on_duty=True, skills=["senior", "phone"])
    give_open_tickets(senior, shop_a, 4)
    ticket = make_ticket(shop_a, risk=RiskLevel.HIGH)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == senior.pk
    assert TicketEvent.objects.get(ticket=ticket).data == {
        "rule": "fewest_open",
        "chosen": senior.pk,
        "needs_senior": True,
        "candidates": [candidate(senior, 4)],
    }
    assert AgentProfile.objects.get(user=junior).last_assigned_at is None


@pytest.mark.parametrize("risk", [RiskLevel.LOW, RiskLevel.MEDIUM])
def test_a_buyer_who_is_not_high_risk_may_go_to_any_agent(shop_a, risk):
    junior = make_agent(shop_a, username="junior", on_duty=True)
    senior = make_agent(shop_a, username="senior", on_duty=True, skills=["senior"])
    give_open_tickets(senior, shop_a, 1)
    ticket = make_ticket(shop_a, risk=risk)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id == junior.pk
    assert TicketEvent.objects.get(ticket=ticket).data["needs_senior"] is False


def test_a_high_risk_buyer_waits_in_the_pool_when_no_senior_agent_is_working(shop_a):
    make_agent(shop_a, username="junior", on_duty=True)
    make_agent(shop_a, username="senior", on_duty=False, skills=["senior"])
    ticket = make_ticket(shop_a, risk=RiskLevel.HIGH)

    assign_ticket(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert ticket.assignee_id is None
    assert TicketEvent.objects.get(ticket=ticket).data == {
        "rule": "no_eligible_agent",
        "chosen": None,
        "needs_senior": True,
        "candidates": [],
    }


@pytest.mark.parametrize(
    "status", [TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED_UNRESOLVED]
)
def test_assigning_a_ticket_that_is_not_waiting_returns_none_and_changes_nothing(shop_a, status):
    holder = make_agent(shop_a, username="holder", on_duty=True)
    make_agent(shop_a, username="other", on_duty=True)
    ticket = make_ticket(shop_a, status=status, assignee=holder)
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    assert assign_ticket(ticket.pk, now=NOW) is None

    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert TicketEvent.objects.count() == 0
    assert AgentProfile.objects.filter(last_assigned_at__isnull=False).count() == 0


def test_assigning_a_ticket_that_does_not_exist_returns_none(db):
    assert assign_ticket(987654) is None


# The pool --------------------------------------------------------------------------------------


def test_the_pool_sweep_assigns_the_most_urgent_waiting_tickets_of_the_given_shops_without_pool_rows(
    shop_a, shop_b, agent_b
):
    zhang = make_agent(shop_a, username="zhang", on_duty=True, capacity=2)
    set_profile(agent_b, on_duty=True)
    later = make_ticket(shop_a, due=NOW + dt.timedelta(minutes=30))
    first = make_ticket(shop_a, due=NOW + dt.timedelta(minutes=10))
    second = make_ticket(shop_a, due=NOW + dt.timedelta(minutes=20))
    other_shop = make_ticket(shop_b, due=NOW)

    assert assign_waiting_tickets(shop_ids=[shop_a.pk]) == 2

    assignees = dict(Ticket.objects.values_list("id", "assignee_id"))
    assert assignees == {first.pk: zhang.pk, second.pk: zhang.pk, later.pk: None, other_shop.pk: None}
    assert list(TicketEvent.objects.values_list("ticket_id", "kind")) == [
        (first.pk, "assigned"),
        (second.pk, "assigned"),
    ]


def test_the_pool_sweep_keeps_going_past_a_ticket_only_a_senior_may_take(shop_a):
    zhang = make_agent(shop_a, username="zhang", on_duty=True)
    flagged = make_ticket(shop_a, risk=RiskLevel.HIGH, due=NOW)
    normal = make_ticket(shop_a, due=NOW + dt.timedelta(minutes=5))

    assert assign_waiting_tickets() == 1

    assert dict(Ticket.objects.values_list("id", "assignee_id")) == {flagged.pk: None, normal.pk: zhang.pk}
    assert kinds(flagged) == []


def test_going_on_duty_queues_a_pool_assignment_for_the_agents_shops_that_assigns_the_waiting_tickets(
    shop_a, shop_b, publish, django_capture_on_commit_callbacks
):
    zhang = make_agent(shop_a, shop_b, username="zhang")
    waiting_a = make_ticket(shop_a)
    waiting_b = make_ticket(shop_b)
    assign_ticket(waiting_a.pk)
    assert kinds(waiting_a) == ["pool"]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile, returned = agent_set_duty(zhang, True)
        assert publish["pool"].call_count == 0  # not before the duty change commits

    assert (profile.on_duty, returned) == (True, [])
    assert AgentProfile.objects.get(user=zhang).on_duty is True
    assert len(callbacks) == 1
    publish["pool"].assert_called_once_with(args=(), kwargs={"shop_ids": ANY}, retry=True, retry_policy=ANY)
    assert sorted(publish["pool"].call_args.kwargs["kwargs"]["shop_ids"]) == sorted([shop_a.pk, shop_b.pk])
    assert publish["assign"].call_count == 0

    assert run_sent(publish["pool"], assign_waiting_tickets_task) == 2

    assert dict(Ticket.objects.values_list("id", "assignee_id")) == {waiting_a.pk: zhang.pk, waiting_b.pk: zhang.pk}
    assert kinds(waiting_a) == ["pool", "assigned"]
    assert kinds(waiting_b) == ["assigned"]


def test_going_off_duty_with_return_tickets_hands_back_only_tickets_without_a_contact_attempt(
    shop_a, publish, django_capture_on_commit_callbacks
):
    zhang = make_agent(shop_a, username="zhang", on_duty=True)
    uncontacted, contacted = make_ticket(shop_a), make_ticket(shop_a)
    assign_ticket(uncontacted.pk)
    assign_ticket(contacted.pk)
    contact_attempt_log(contacted.pk, zhang, channel="im", result="no_answer")
    # Contacted, then handed back to zhang by a supervisor: assigned again, but not "uncontacted".
    handed_over = make_ticket(shop_a, status=TicketStatus.ASSIGNED, assignee=zhang)
    Ticket.objects.filter(pk=handed_over.pk).update(first_contact_at=NOW)
    li = make_agent(shop_a, username="li", on_duty=True)
    kept = Ticket.objects.filter(pk__in=[contacted.pk, handed_over.pk])
    kept_before = list(kept.values())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile, returned = agent_set_duty(zhang, False, return_uncontacted=True)

    assert (profile.on_duty, returned) == (False, [uncontacted.pk])
    uncontacted.refresh_from_db()
    assert (uncontacted.status, uncontacted.assignee_id) == (TicketStatus.NEW, None)
    row = TicketEvent.objects.filter(ticket=uncontacted).last()
    assert (row.kind, row.from_status, row.to_status, row.actor_id) == ("duty", "assigned", "new", zhang.pk)
    assert row.message == "Returned to the pool: zhang went off duty."
    assert list(kept.values()) == kept_before
    assert kinds(handed_over) == []
    assert len(callbacks) == 1
    publish["assign"].assert_called_once_with(args=(uncontacted.pk,), kwargs={}, retry=True, retry_policy=ANY)
    assert publish["pool"].call_count == 0

    run_sent(publish["assign"], assign_ticket_task)

    uncontacted.refresh_from_db()
    assert (uncontacted.status, uncontacted.assignee_id) == (TicketStatus.ASSIGNED, li.pk)


def test_going_off_duty_without_return_tickets_keeps_every_ticket_and_queues_nothing(
    shop_a, publish, django_capture_on_commit_callbacks
):
    zhang = make_agent(shop_a, username="zhang", on_duty=True)
    ticket = make_ticket(shop_a)
    assign_ticket(ticket.pk)
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        profile, returned = agent_set_duty(zhang, False)

    assert (profile.on_duty, returned) == (False, [])
    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert callbacks == []
    assert (publish["assign"].call_count, publish["pool"].call_count) == (0, 0)


def test_a_verified_close_of_an_assigned_ticket_queues_a_pool_assignment_that_fills_the_freed_capacity(
    shop_a, push, publish, django_capture_on_commit_callbacks
):
    zhang = make_agent(shop_a, username="zhang", on_duty=True, capacity=1)
    push({"events": [event(), event(event_id="e-2", review_id="r-2", buyer={"id": "buyer-open-2"})]})
    first, second = Ticket.objects.order_by("id")
    assign_ticket(first.pk)
    assign_ticket(second.pk)
    assert (Ticket.objects.get(pk=second.pk).assignee_id, kinds(second)) == (None, ["opened", "pool"])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert push(deleted("r-1")).status_code == 200

    first.refresh_from_db()
    assert (first.status, first.outcome, first.outcome_verified) == (TicketStatus.RESOLVED, "deleted_by_buyer", True)
    assert len(callbacks) == 1
    publish["pool"].assert_called_once_with(args=(), kwargs={"shop_ids": [shop_a.pk]}, retry=True, retry_policy=ANY)
    assert publish["assign"].call_count == 0

    assert run_sent(publish["pool"], assign_waiting_tickets_task) == 1

    second.refresh_from_db()
    assert (second.status, second.assignee_id) == (TicketStatus.ASSIGNED, zhang.pk)


def test_closing_a_ticket_nobody_holds_queues_no_pool_assignment(
    shop_a, push, publish, django_capture_on_commit_callbacks
):
    push(event())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert push(deleted("r-1")).status_code == 200

    assert Ticket.objects.get().status == TicketStatus.RESOLVED
    assert callbacks == []
    assert (publish["assign"].call_count, publish["pool"].call_count) == (0, 0)


# Reopened tickets ------------------------------------------------------------------------------


@pytest.fixture
def zhang(shop_a):
    return make_agent(shop_a, username="zhang", on_duty=True)


@pytest.fixture
def reopened(shop_a, push, zhang, publish, django_capture_on_commit_callbacks):
    """A ticket zhang worked, closed verified (revised to positive), then reopened by a negative
    follow-up; its assignment task was queued but not run."""
    push(event())
    ticket = Ticket.objects.get()
    assign_ticket(ticket.pk)
    push(revised_positive())
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.outcome_verified) == ("resolved", "revised_positive", True)

    with django_capture_on_commit_callbacks(execute=True):
        push(followup("e-followup", "2026-03-04T09:00:00+08:00"))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.reopen_count) == (TicketStatus.REOPENED, zhang.pk, 1)
    publish["assign"].assert_called_once_with(args=(ticket.pk,), kwargs={}, retry=True, retry_policy=ANY)
    return ticket


def test_a_reopened_ticket_goes_back_to_its_previous_agent_when_they_are_working(shop_a, zhang, reopened, publish):
    li = make_agent(shop_a, username="li", on_duty=True)
    give_open_tickets(zhang, shop_a, 2)  # by load alone, li would win

    run_sent(publish["assign"], assign_ticket_task)

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.ASSIGNED, zhang.pk)
    row = TicketEvent.objects.filter(ticket=reopened).last()
    assert (row.kind, row.from_status, row.to_status) == ("assigned", "reopened", "assigned")
    assert row.message == "Assigned to zhang: worked this ticket before."
    assert row.data["rule"] == "previous_agent"
    assert row.data["chosen"] == zhang.pk
    assert [c["agent"] for c in row.data["candidates"]] == [zhang.pk, li.pk]


def test_a_reopened_ticket_whose_previous_agent_is_off_duty_goes_to_the_agent_the_rules_pick(
    shop_a, zhang, reopened, publish
):
    set_profile(zhang, on_duty=False)
    li = make_agent(shop_a, username="li", on_duty=True)

    run_sent(publish["assign"], assign_ticket_task)

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.ASSIGNED, li.pk)
    row = TicketEvent.objects.filter(ticket=reopened).last()
    assert row.data == {
        "rule": "fewest_open",
        "chosen": li.pk,
        "needs_senior": False,
        "candidates": [candidate(li, 0)],
    }


def test_a_reopened_ticket_goes_back_to_its_previous_agent_when_it_fills_their_last_place(
    shop_a, zhang, reopened, publish
):
    set_profile(zhang, capacity=3)
    give_open_tickets(zhang, shop_a, 2)  # with the reopened ticket: 3 of 3
    make_agent(shop_a, username="li", on_duty=True)

    run_sent(publish["assign"], assign_ticket_task)

    reopened.refresh_from_db()
    assert reopened.assignee_id == zhang.pk
    assert Ticket.objects.filter(assignee=zhang, status="assigned").count() == 3


def test_a_reopened_ticket_whose_previous_agent_is_at_capacity_goes_to_another_agent(shop_a, zhang, reopened, publish):
    set_profile(zhang, capacity=2)
    give_open_tickets(zhang, shop_a, 2)
    li = make_agent(shop_a, username="li", on_duty=True)
    give_open_tickets(li, shop_a, 1)

    run_sent(publish["assign"], assign_ticket_task)

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.ASSIGNED, li.pk)
    assert TicketEvent.objects.filter(ticket=reopened).last().data["rule"] == "fewest_open"
    assert Ticket.objects.filter(assignee=zhang, status__in=["assigned", "reopened"]).count() == 2


def test_a_reopened_ticket_with_nobody_working_waits_in_the_pool_until_an_agent_comes_on_duty(
    shop_a, zhang, reopened, publish, django_capture_on_commit_callbacks
):
    set_profile(zhang, on_duty=False)

    run_sent(publish["assign"], assign_ticket_task)

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.REOPENED, None)
    assert TicketEvent.objects.filter(ticket=reopened).last().kind == "pool"

    li = make_agent(shop_a, username="li")
    with django_capture_on_commit_callbacks(execute=True):
        agent_set_duty(li, True)
    assert run_sent(publish["pool"], assign_waiting_tickets_task) == 1

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.ASSIGNED, li.pk)


def test_the_pool_sweep_picks_up_a_reopened_ticket_whose_assignment_task_was_lost(shop_a, zhang, reopened, publish):
    set_profile(zhang, on_duty=False)
    li = make_agent(shop_a, username="li", on_duty=True)
    # The task queued by the reopening never ran (lost with a crashed worker or a down broker).

    assert assign_waiting_tickets_task() == 1

    reopened.refresh_from_db()
    assert (reopened.status, reopened.assignee_id) == (TicketStatus.ASSIGNED, li.pk)


# Reassignment after an SLA breach --------------------------------------------------------------


def test_reassignment_after_a_breach_moves_the_ticket_to_another_eligible_agent(shop_a, zhang):
    ticket = make_ticket(shop_a)
    assign_ticket(ticket.pk)
    li = make_agent(shop_a, username="li", on_duty=True)
    give_open_tickets(li, shop_a, 3)  # more than zhang, but zhang is the one being replaced

    reassign_after_breach(ticket.pk, now=NOW)

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.ASSIGNED, li.pk)
    row = TicketEvent.objects.filter(ticket=ticket).last()
    assert row.message == "Assigned to li: reassigned after an SLA breach."
    assert row.data == {"rule": "reassigned", "chosen": li.pk, "needs_senior": False, "candidates": [candidate(li, 3)]}


def test_reassignment_after_a_breach_with_no_other_eligible_agent_leaves_the_ticket_be(shop_a, zhang):
    ticket = make_ticket(shop_a)
    assign_ticket(ticket.pk)
    make_agent(shop_a, username="li", on_duty=False)
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    assert reassign_after_breach(ticket.pk, now=NOW).pk == ticket.pk

    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert kinds(ticket) == ["assigned"]


# Scheduling after commit -----------------------------------------------------------------------


def test_pushing_a_batch_queues_one_assignment_task_for_all_its_opened_tickets_after_commit(
    shop_a, push, zhang, publish, django_capture_on_commit_callbacks
):
    batch = {
        "events": [
            event(),
            event(event_id="e-2", review_id="r-2", rating={"stars": 3}),
            event(event_id="e-3", review_id="r-3", rating={"stars": 5}),  # positive: no ticket
        ]
    }
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = push(batch)
        assert publish["assign_batch"].call_count == 0  # nothing leaves before the commit

    assert response.status_code == 200
    first, second = Ticket.objects.order_by("id")
    assert [r["ticket_id"] for r in response.json()["results"]] == [first.pk, second.pk, None]
    assert len(callbacks) == 1
    # One message for the whole batch, not one per ticket: the push returns sooner and the worker
    # places the tickets in one transaction.
    assert publish["assign_batch"].call_args_list == [
        call(args=([first.pk, second.pk],), kwargs={}, retry=True, retry_policy=ANY)
    ]
    assert publish["assign"].call_count == 0
    assert publish["pool"].call_count == 0
    assert Ticket.objects.filter(assignee__isnull=True).count() == 2  # the worker has not run yet

    run_sent(publish["assign_batch"], assign_tickets_task)

    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {zhang.pk}


def test_a_duplicate_push_queues_no_assignment(shop_a, push, publish, django_capture_on_commit_callbacks):
    push(event())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert push(event()).json()["results"][0]["status"] == "duplicate"

    assert callbacks == []
    assert publish["assign"].call_count == 0


@pytest.fixture
def broker_down():
    """Point the Celery app at a closed port. The app caches its connection pools, so they are
    swapped out for the test and put back afterwards."""
    conf = celery_app.conf
    saved_urls = {"broker_url": conf.broker_url, "broker_write_url": conf.broker_write_url}
    saved_pools = celery_app._pool, celery_app.amqp._producer_pool
    celery_app._pool = celery_app.amqp._producer_pool = None
    conf.update(broker_url=UNREACHABLE_BROKER, broker_write_url=UNREACHABLE_BROKER)
    try:
        connection = celery_app.connection_for_write()
        assert (connection.hostname, connection.port) == ("127.0.0.1", 1)
        yield
    finally:
        for pool in (celery_app._pool, celery_app.amqp._producer_pool):
            if pool is not None:
                pool.force_close_all()
        conf.update(**saved_urls)
        celery_app._pool, celery_app.amqp._producer_pool = saved_pools


def test_queueing_with_the_broker_unreachable_logs_a_warning_and_does_not_raise(shop_a, broker_down, caplog):
    ticket = make_ticket(shop_a)

    with caplog.at_level(logging.WARNING, logger="reviewdesk.queueing"):
        assert queue_assignment([ticket.pk]) is None
        assert queue_pool_assignment([shop_a.pk]) is None

    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "reviewdesk.queueing"] == [
        (
            "WARNING",
            f"could not queue tickets.tasks.assign_ticket_task({ticket.pk},); the periodic sweep will pick it up",
        ),
        ("WARNING", "could not queue tickets.tasks.assign_waiting_tickets_task(); the periodic sweep will pick it up"),
    ]


def test_a_push_with_the_broker_unreachable_still_lands_and_the_sweep_assigns_the_ticket_later(
    shop_a, push, zhang, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = push(event())

    assert response.status_code == 200
    assert len(callbacks) == 1
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.NEW, None)

    assert assign_waiting_tickets_task() == 1

    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id) == (TicketStatus.ASSIGNED, zhang.pk)
