"""Buyers' counters and risk follow ingestion (issue 5) without costing the push request a
message: ingestion marks the buyers it wrote (updated_at), the beat sweep recounts and reassesses
them, and assignment reassesses the risk itself before it routes a ticket."""

import datetime as dt

import pytest
from django.utils import timezone

from contacts.models import Buyer, BuyerStats, RiskLevel
from contacts.services import STALE_SWEEP_WINDOW
from contacts.tasks import refresh_buyers_task, refresh_stale_buyers_task
from tickets.actions import outcome_claim
from tickets.models import Ticket
from tickets.tasks import assign_ticket_task

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db


def counts(open_id="buyer-open-1"):
    stats = BuyerStats.objects.get(buyer__open_id=open_id)
    return stats.reviews_total, stats.reviews_positive, stats.reviews_negative, stats.tickets_open, stats.outcomes


def deleted(review_id):
    return {
        "event_id": f"del-{review_id}",
        "type": "review.deleted",
        "occurred_at": "2026-03-04T09:00:00+08:00",
        "platform": "taobao",
        "shop": "tb-a",
        "review_id": review_id,
    }


def test_the_sweep_counts_the_buyers_a_batch_wrote_and_leaves_the_others(push):
    push(event(event_id="e-0", review_id="r-0", buyer={"id": "quiet"}, rating={"stars": 5}))
    assert refresh_stale_buyers_task() == 1
    quiet_counted_at = BuyerStats.objects.get(buyer__open_id="quiet").refreshed_at

    push(
        {
            "events": [
                event(event_id="e-1", review_id="r-1"),
                event(event_id="e-2", review_id="r-2", rating={"stars": 5}),
            ]
        }
    )

    assert refresh_stale_buyers_task() == 1
    assert counts() == (2, 1, 1, 1, {})
    assert BuyerStats.objects.get(buyer__open_id="quiet").refreshed_at == quiet_counted_at
    assert refresh_stale_buyers_task() == 0


def test_an_event_without_buyer_details_still_marks_its_buyer_for_a_recount(push):
    push(event())
    refresh_stale_buyers_task()
    assert counts() == (1, 0, 1, 1, {})

    push(deleted("r-1"))  # carries no buyer: the review knows whose it is

    assert refresh_stale_buyers_task() == 1
    assert counts() == (1, 0, 1, 0, {"deleted_by_buyer": 1})


def test_a_replayed_event_marks_nobody(push):
    push(event())
    refresh_stale_buyers_task()

    assert push(event()).json()["results"][0]["status"] == "duplicate"

    assert refresh_stale_buyers_task() == 0


def test_buyers_written_before_the_sweep_window_are_left_to_the_refresh_command(push):
    push(event())
    Buyer.objects.update(updated_at=timezone.now() - STALE_SWEEP_WINDOW - dt.timedelta(minutes=1))

    assert refresh_stale_buyers_task() == 0
    refresh_buyers_task(list(Buyer.objects.values_list("id", flat=True)))
    assert counts() == (1, 0, 1, 1, {})


def test_assignment_reassesses_a_stale_risk_and_routes_the_abuser_to_a_senior_agent(push, shop_a, supervisor):
    junior = make_agent(shop_a, username="junior", on_duty=True)
    senior = make_agent(shop_a, username="senior", on_duty=True, skills=["senior"])
    first = push(event(event_id="e-1", review_id="r-1")).json()["results"][0]["ticket_id"]
    outcome_claim(first, supervisor, outcome="abuse_reported", note="职业差评师，要求返现")
    # As if the sweep had not run since: the stored level is out of date.
    Buyer.objects.update(risk_level=RiskLevel.LOW)
    second = push(event(event_id="e-2", review_id="r-2")).json()["results"][0]["ticket_id"]

    assign_ticket_task(second)

    assert Buyer.objects.get().risk_level == RiskLevel.HIGH
    assert Ticket.objects.get(pk=second).assignee == senior
    assert junior.tickets.count() == 0
