"""seed_demo at scale (issue 6): the demo team's work on every ticket, and the bulk writer
(COPY, PostgreSQL) that must leave the same data as the ingest service, only faster."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from contacts.models import Buyer
from reviews.models import InboundEvent, Review, Shop
from tickets import stats
from tickets.management.demo import demo_period_end
from tickets.models import ContactAttempt, Remedy, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

UNTIL = date(2026, 3, 1)


def seed(*extra, reviews=300):
    out = io.StringIO()
    call_command(
        "seed_demo", "--reviews", str(reviews), "--until", UNTIL.isoformat(), "--no-progress", *extra, stdout=out
    )
    return out.getvalue()


def figures():
    query = stats.StatsQuery(
        frozenset(Shop.objects.values_list("pk", flat=True)), date(2025, 12, 2), UNTIL, now=demo_period_end(UNTIL)
    )
    return {by: stats.breakdown(query, by) for by in ("agent", "cause", "sku", "day")} | {
        "summary": stats.summary(query)
    }


def test_demo_tickets_carry_the_teams_work_spread_over_the_period():
    seed()
    tickets = Ticket.objects.all()
    assert tickets.filter(assignee__isnull=True).count() == 0
    assert tickets.filter(first_contact_at__isnull=False, first_contact_business_minutes__isnull=True).count() == 0
    assert ContactAttempt.objects.exists() and Remedy.objects.filter(status="accepted").exists()
    assert tickets.filter(status="closed_unresolved").exclude(outcome="").exists()
    assert {t.created_at.date().month for t in tickets} >= {9, 10, 11, 12, 1, 2}
    assert all(t.item_sku == t.review.item_sku for t in tickets.select_related("review"))
    summary = figures()["summary"]
    assert summary["opened"] > 0 and summary["closed"] > 0
    assert 0 < summary["first_contact_sla_met_rate"] < 1
    assert summary["median_minutes_to_first_contact"] is not None
    assert summary["remedy_cost_total"] != "0.00"


def test_the_bulk_writer_leaves_the_figures_the_ingest_service_leaves():
    if connection.vendor != "postgresql":
        pytest.skip("the bulk writer uses COPY")
    seed("--no-bulk")
    by_ingest = figures()
    Ticket.objects.all().delete()
    InboundEvent.objects.all().delete()
    Review.objects.all().delete()
    Buyer.objects.all().delete()
    output = seed("--bulk")
    assert "300 reviews" in output and "tickets in the demo shops: 30 " in output
    assert figures() == by_ingest
    again = seed("--bulk")
    assert "0 created" in again and Review.objects.count() == 300 and Ticket.objects.count() == 30


@pytest.mark.parametrize("writer", ["bulk", "ingest"])
def test_the_demo_teams_timeline_reads_in_each_readers_language(writer):
    if writer == "bulk" and connection.vendor != "postgresql":
        pytest.skip("the bulk writer uses COPY")
    seed(*(["--no-bulk"] if writer == "ingest" else []))
    team_kinds = ["assigned", "contact_attempt", "cause_set", "remedy"]
    events = list(
        TicketEvent.objects.filter(kind__in=team_kinds, actor__isnull=False).union(
            TicketEvent.objects.filter(kind="assigned")
        )
    )
    assert {e.kind for e in events} == set(team_kinds)
    for event in events:
        assert event.phrase is not None, (event.kind, event.message)
        with translation.override("en"):
            english = event.display_message
        with translation.override("zh-hans"):
            chinese = event.display_message
        assert english and chinese and english != chinese, (event.kind, english, chinese)
        assert "message_sent" not in english + chinese and "_" not in english  # labels, not codes
