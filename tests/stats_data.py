"""A small crafted data set for the statistics tests (issue 6), with every expected figure worked
out by hand below, so the page, the API and the CSV are each compared with arithmetic, not with
each other only.

Period: 2026-03-02 to 2026-03-04 (Asia/Shanghai); "now" is 2026-03-05 12:00 +08:00.

| ticket | shop | assignee | opened | first-contact due | contact (min) | closed | outcome |
|---|---|---|---|---|---|---|---|
| t1 | A | agent | 03-02 10:00 | 11:00 | 10:30 (30) | 03-03 10:00 | revised_positive, verified |
| t2 | A | agent | 03-02 12:00 | 13:00 | 14:00 (120) | 03-04 09:00 | deleted_by_buyer, claimed |
| t3 | A | colleague | 03-03 09:00 | 10:00 | 09:10 (10) | 03-03 18:00 | buyer_refused |
| t4 | A | agent | 03-03 20:00 | 21:00 | — | open, breached | |
| t5 | A | agent | 03-04 23:30 | 03-05 00:30 | 03-05 00:10 (40) | open, ok | |
| t6 | A | — | 03-05 10:00 | 11:00 | — | open, warning | |
| t7 | A | agent | 03-01 08:00 | 09:00 | 08:20 (20) | 03-02 08:00 | revised_positive, verified |
| t8 | A | — | 02-20 10:00 | 11:00 | — | open, breached | |
| t9 | B | agent_b | 03-02 10:00 | 11:00 | 10:05 (5) | 03-02 15:00 | revised_positive, verified |

Accepted remedies: t1 20.00 (03-02), t2 15.50 (03-03), t4 7.25 (03-04), t7 5.00 (03-01, before
the period), t9 100.00 (shop B). Not accepted: t2 99.00 offered, t3 10.00 declined.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from reviews.models import Review
from tickets.models import Remedy, Ticket

from .factories import make_agent

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 5, 12, 0, tzinfo=SH)
PERIOD = {"from": "2026-03-02", "to": "2026-03-04"}


def at(month, day, hour, minute=0):
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


_counter = iter(range(1, 10_000))


def make_ticket(
    shop,
    *,
    created,
    assignee=None,
    status="assigned",
    tier="negative",
    cause="",
    outcome="",
    verified=False,
    closed=None,
    contact=None,
    minutes=None,
    sla_state="ok",
    sku="SKU-A",
    title="加厚保暖羽绒服",
):
    n = next(_counter)
    review = Review.objects.create(
        shop=shop,
        platform=shop.platform,
        review_id=f"stats-{n}",
        state="active",
        order_id=f"{n:012d}",
        tier=tier,
        stars=1,
        rated_at=created,
        item_sku=sku,
        item_title=title,
    )
    return Ticket.objects.create(
        review=review,
        shop=shop,
        platform=shop.platform,
        tier=tier,
        status=status,
        assignee=assignee,
        cause=cause,
        outcome=outcome,
        outcome_verified=verified,
        sla_state=sla_state,
        created_at=created,
        first_contact_due_at=created + dt.timedelta(hours=1),
        first_contact_at=contact,
        first_contact_business_minutes=minutes,
        closed_at=closed,
        resolved_at=closed if status == "resolved" else None,
        item_sku=sku,
        item_title=title,
    )


def remedy(ticket, amount, status, when):
    row = Remedy.objects.create(ticket=ticket, kind="partial_refund", amount=Decimal(amount), status=status)
    Remedy.objects.filter(pk=row.pk).update(created_at=when)
    return row


def build(shop_a, shop_b, agent, colleague, agent_b):
    t = {}
    t["t1"] = make_ticket(
        shop_a,
        created=at(3, 2, 10),
        assignee=agent,
        status="resolved",
        cause="slow_delivery",
        outcome="revised_positive",
        verified=True,
        closed=at(3, 3, 10),
        contact=at(3, 2, 10, 30),
        minutes=30,
    )
    t["t2"] = make_ticket(
        shop_a,
        created=at(3, 2, 12),
        assignee=agent,
        status="resolved",
        cause="poor_quality",
        outcome="deleted_by_buyer",
        closed=at(3, 4, 9),
        contact=at(3, 2, 14),
        minutes=120,
    )
    t["t3"] = make_ticket(
        shop_a,
        created=at(3, 3, 9),
        assignee=colleague,
        status="closed_unresolved",
        cause="poor_quality",
        outcome="buyer_refused",
        closed=at(3, 3, 18),
        contact=at(3, 3, 9, 10),
        minutes=10,
        sku="SKU-B",
        title="纯棉T恤",
    )
    t["t4"] = make_ticket(
        shop_a, created=at(3, 3, 20), assignee=agent, sla_state="breached", sku="SKU-B", title="纯棉T恤"
    )
    t["t5"] = make_ticket(
        shop_a, created=at(3, 4, 23, 30), assignee=agent, status="in_progress", contact=at(3, 5, 0, 10), minutes=40
    )
    t["t6"] = make_ticket(shop_a, created=at(3, 5, 10), status="new", sla_state="warning")
    t["t7"] = make_ticket(
        shop_a,
        created=at(3, 1, 8),
        assignee=agent,
        status="resolved",
        cause="slow_delivery",
        outcome="revised_positive",
        verified=True,
        closed=at(3, 2, 8),
        contact=at(3, 1, 8, 20),
        minutes=20,
    )
    t["t8"] = make_ticket(shop_a, created=at(2, 20, 10), status="waiting_buyer", sla_state="breached")
    t["t9"] = make_ticket(
        shop_b,
        created=at(3, 2, 10),
        assignee=agent_b,
        status="resolved",
        cause="damaged",
        outcome="revised_positive",
        verified=True,
        closed=at(3, 2, 15),
        contact=at(3, 2, 10, 5),
        minutes=5,
        sku="SKU-J",
        title="京东商品",
    )
    remedy(t["t1"], "20.00", "accepted", at(3, 2, 11))
    remedy(t["t2"], "15.50", "accepted", at(3, 3, 11))
    remedy(t["t2"], "99.00", "offered", at(3, 3, 12))
    remedy(t["t3"], "10.00", "declined", at(3, 3, 12))
    remedy(t["t4"], "7.25", "accepted", at(3, 4, 12))
    remedy(t["t7"], "5.00", "accepted", at(3, 1, 9))
    remedy(t["t9"], "100.00", "accepted", at(3, 2, 12))
    return t


# Worked out by hand from the table above, for shop A over the period.
SUMMARY_A = {
    "opened": 5,  # t1 t2 t3 t4 t5
    "closed": 4,  # t1 t2 t3 t7
    "first_contact_sla_met_rate": 0.5,  # due in period: t1 met, t2 missed, t3 met, t4 missed (t5 due 03-05)
    "median_minutes_to_first_contact": 35.0,  # opened in period and contacted: 10 30 40 120
    "p90_minutes_to_first_contact": 96.0,  # 40 + 0.7 × (120 − 40)
    "resolution_rate": 0.75,  # t1 t2 t7 of 4 closed
    "verified_resolution_rate": 0.5,  # t1 t7 of 4
    "remedy_cost_total": "42.75",  # 20.00 + 15.50 + 7.25
    "remedy_cost_per_revision": "21.38",  # 42.75 / 2 revised (t1 t7), half up
    "backlog": {
        "open": 4,  # t4 t5 t6 t8
        "breached": 2,  # t4 t8
        "by_age": {"<4h": 1, "4-24h": 1, "1-3d": 1, ">3d": 1},  # t6 2 h, t5 12.5 h, t4 40 h, t8 13 days
    },
}

EMPTY = {
    "opened": 0,
    "closed": 0,
    "first_contact_sla_met_rate": None,
    "median_minutes_to_first_contact": None,
    "p90_minutes_to_first_contact": None,
    "resolution_rate": None,
    "verified_resolution_rate": None,
    "remedy_cost_total": "0.00",
    "remedy_cost_per_revision": None,
    "backlog": {"open": 0, "breached": 0, "by_age": {"<4h": 0, "4-24h": 0, "1-3d": 0, ">3d": 0}},
}


def api_keys(body):
    """Only API.md's summary keys of a summary or breakdown row (the extra counts aside)."""
    out = {key: body[key] for key in EMPTY if key != "backlog" and key in body}
    if "backlog" in body:
        out["backlog"] = {k: body["backlog"][k] for k in ("open", "breached", "by_age")}
    return out


# Fixtures shared by the statistics, dashboard and export tests (imported by name there).


@pytest.fixture
def colleague(shop_a):
    return make_agent(shop_a, username="colleague_a")


@pytest.fixture
def data(shop_a, shop_b, agent, colleague, agent_b):
    return build(shop_a, shop_b, agent, colleague, agent_b)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield
