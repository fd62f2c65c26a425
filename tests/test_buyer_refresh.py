"""Buyers' counters and risk follow ingestion (issue 5): each ingest batch queues one refresh of
the buyers it touched after commit; assignment reassesses the risk before it routes a ticket; a
beat sweep refreshes what a lost task left stale."""

from unittest.mock import patch

import pytest

from contacts.models import Buyer, BuyerStats, RiskLevel
from contacts.tasks import refresh_buyers_task, refresh_stale_buyers_task
from tickets.actions import outcome_claim
from tickets.models import Ticket
from tickets.tasks import assign_ticket_task

from .conftest import event
from .factories import make_agent

pytestmark = pytest.mark.django_db


def test_a_pushed_batch_queues_one_refresh_of_its_buyers_after_commit(push, django_capture_on_commit_callbacks):
    body = {
        "events": [
            event(event_id="e-1", review_id="r-1"),
            event(event_id="e-2", review_id="r-2", rating={"stars": 5}),
            event(event_id="e-3", review_id="r-3", buyer={"id": "other-buyer"}),
        ]
    }
    with patch("contacts.tasks.publish") as publish, django_capture_on_commit_callbacks(execute=True):
        assert push(body).status_code == 200

    buyer_ids = sorted(Buyer.objects.values_list("id", flat=True))
    assert [call.args for call in publish.call_args_list] == [(refresh_buyers_task, buyer_ids)]
    assert not BuyerStats.objects.exists()  # the worker does it, not the request

    refresh_buyers_task(buyer_ids)

    stats = BuyerStats.objects.get(buyer__open_id="buyer-open-1")
    assert (stats.reviews_total, stats.reviews_positive, stats.reviews_negative, stats.tickets_open) == (2, 1, 1, 1)


def test_a_replayed_event_changes_nothing_and_queues_no_refresh(push, django_capture_on_commit_callbacks):
    push(event())
    with patch("contacts.tasks.publish") as publish, django_capture_on_commit_callbacks(execute=True):
        assert push(event()).json()["results"][0]["status"] == "duplicate"

    publish.assert_not_called()


def test_the_sweep_refreshes_buyers_never_counted_or_written_since_and_leaves_fresh_ones(push):
    push(
        {"events": [event(event_id="e-1", review_id="r-1"), event(event_id="e-2", review_id="r-2", buyer={"id": "b2"})]}
    )
    fresh = Buyer.objects.get(open_id="b2")
    refresh_buyers_task([fresh.pk])
    counted_at = BuyerStats.objects.get(buyer=fresh).refreshed_at

    assert refresh_stale_buyers_task() == 1

    assert BuyerStats.objects.get(buyer__open_id="buyer-open-1").reviews_total == 1
    assert BuyerStats.objects.get(buyer=fresh).refreshed_at == counted_at
    assert refresh_stale_buyers_task() == 0


def test_assignment_reassesses_a_stale_risk_and_routes_the_abuser_to_a_senior_agent(push, shop_a, supervisor):
    junior = make_agent(shop_a, username="junior", on_duty=True)
    senior = make_agent(shop_a, username="senior", on_duty=True, skills=["senior"])
    first = push(event(event_id="e-1", review_id="r-1")).json()["results"][0]["ticket_id"]
    outcome_claim(first, supervisor, outcome="abuse_reported", note="职业差评师，要求返现")
    # As if the refresh after the next push had not run yet.
    Buyer.objects.update(risk_level=RiskLevel.LOW)
    second = push(event(event_id="e-2", review_id="r-2")).json()["results"][0]["ticket_id"]

    assign_ticket_task(second)

    assert Buyer.objects.get().risk_level == RiskLevel.HIGH
    assert Ticket.objects.get(pk=second).assignee == senior
    assert junior.tickets.count() == 0
