"""The supervisor dashboard (issue 6): the same figures as the API and the hand-worked numbers of
tests/stats_data.py, supervisors only, scoped to their shops, a fixed number of queries."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/stats_data.py) by the names imported here

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tickets.choices import Role
from tickets.feedback import sku_alerts, weekly_digest_send
from tickets.tasks import send_weekly_digest_task

from .factories import make_agent
from .stats_data import NOW, PERIOD, SUMMARY_A, at, build, colleague, data, frozen, make_ticket  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def page(client, **params):
    response = client.get("/dashboard/", {**PERIOD, **params})
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def kpi(html, name):
    match = re.search(rf'data-testid="kpi-{re.escape(name)}" data-value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def as_number(text):
    return None if text == "" else float(text)


def test_the_kpi_tiles_show_the_figures_worked_out_by_hand_and_returned_by_the_api(data, supervisor):
    client = logged_in(supervisor)
    html = page(client)
    api = client.get("/api/v1/stats/summary/", PERIOD).json()
    for name in ("opened", "closed"):
        assert int(kpi(html, name)) == SUMMARY_A[name] == api[name]
    for name in (
        "first_contact_sla_met_rate",
        "median_minutes_to_first_contact",
        "p90_minutes_to_first_contact",
        "resolution_rate",
        "verified_resolution_rate",
    ):
        assert as_number(kpi(html, name)) == SUMMARY_A[name] == api[name], name
    assert kpi(html, "remedy_cost_total") == "42.75" == api["remedy_cost_total"]
    assert kpi(html, "remedy_cost_per_revision") == "21.38" == api["remedy_cost_per_revision"]
    assert int(kpi(html, "backlog-open")) == 4
    assert int(kpi(html, "backlog-breached")) == 2
    assert "50.0 %" in html and "75.0 %" in html


def test_the_leaderboard_backlog_and_top_skus_match_the_breakdowns(data, supervisor, agent):
    client = logged_in(supervisor)
    html = page(client)
    agents = {r["key"]: r for r in client.get("/api/v1/stats/breakdown/", {**PERIOD, "by": "agent"}).json()["results"]}
    row = re.search(rf'data-testid="leaderboard-row" data-key="{agent.pk}"[^>]*>', html).group(0)
    assert f'data-closed="{agents[agent.pk]["closed"]}"' in row
    assert 'data-resolution-rate="1.0"' in row and 'data-sla-rate="0.3333"' in row
    assert 'data-remedy-cost="42.75"' in row
    ages = dict(re.findall(r'data-testid="backlog-age" data-bucket="([^"]+)" data-value="(\d+)"', html))
    assert ages == {"under 4 hours": "1", "4 to 24 hours": "1", "1 to 3 days": "1", "over 3 days": "1"}
    states = dict(re.findall(r'data-testid="backlog-sla" data-state="(\w+)" data-value="(\d+)"', html))
    assert states == {"ok": "1", "warning": "1", "breached": "2"}
    skus = re.findall(r'data-testid="sku-row" data-key="([^"]+)" data-value="(\d+)"', html)
    assert skus == [("SKU-A", "3"), ("SKU-B", "2")]
    assert "纯棉T恤" in html
    causes = re.findall(r'data-testid="cause-row" data-key="([^"]*)"', html)
    assert set(causes) == {"slow_delivery", "poor_quality"}


def test_the_trend_charts_are_server_drawn_svg_with_a_point_per_day(data, supervisor):
    html = page(logged_in(supervisor))
    assert html.count('data-testid="svg-chart"') == 2
    opened = re.search(r'<polyline class="s-opened" points="([^"]+)"', html).group(1)
    assert len(opened.split()) == 3
    assert "<script" not in html.split('data-testid="kpis"')[1]


def test_the_shop_table_shows_the_positive_rate_and_dsr_over_30_and_180_days(shop_a, supervisor):
    from reviews.models import Review

    for i, (tier, days_ago) in enumerate([("positive", 1), ("positive", 2), ("negative", 3), ("positive", 60)]):
        Review.objects.create(
            shop=shop_a,
            platform="taobao",
            review_id=f"dsr-{i}",
            state="active",
            tier=tier,
            rated_at=at(3, 5, 9) - dt.timedelta(days=days_ago),
            dsr_description=5 if tier == "positive" else 1,
            dsr_service=4,
            dsr_logistics=5,
        )
    html = page(logged_in(supervisor))
    row = re.search(r'data-testid="shop-row" data-key="tb-a"[^>]*>', html).group(0)
    assert 'data-positive-30="0.6667"' in row and 'data-positive-180="0.75"' in row
    assert "3.67 / 4.0 / 5.0" in html  # DSR over 30 days: (5 + 5 + 1) / 3


def test_an_agent_gets_403_and_an_anonymous_visitor_the_login_page(agent):
    assert logged_in(agent).get("/dashboard/", PERIOD).status_code == 403
    response = Client().get("/dashboard/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_supervisor_sees_only_the_shops_they_supervise(data, shop_b, supervisor):
    html = page(logged_in(supervisor))
    assert "SKU-J" not in html and "乙店" not in html
    supervisor_b = make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")
    html = page(logged_in(supervisor_b))
    assert int(kpi(html, "opened")) == 1 and "SKU-J" in html and "纯棉T恤" not in html
    # Asking for a shop one does not supervise shows nothing of it.
    html = page(logged_in(supervisor_b), shop="tb-a")
    assert int(kpi(html, "opened")) == 0


def test_bad_dates_show_the_problem_and_no_figures(supervisor):
    response = logged_in(supervisor).get("/dashboard/", {"from": "2026-03-09", "to": "2026-03-01"})
    assert response.status_code == 400
    assert 'data-testid="dashboard-errors"' in response.content.decode()
    assert 'data-testid="kpis"' not in response.content.decode()


def test_without_dates_the_dashboard_shows_the_last_30_days(data, supervisor):
    response = logged_in(supervisor).get("/dashboard/")
    assert response.status_code == 200
    assert response.context["query"].date_from.isoformat() == "2026-02-04"
    assert response.context["query"].date_to.isoformat() == "2026-03-05"


def test_the_dashboard_takes_the_same_number_of_queries_whatever_the_number_of_tickets(
    data, supervisor, shop_a, agent, colleague
):
    client = logged_in(supervisor)
    page(client)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            page(client)
        return len(ctx.captured_queries)

    before = count()
    for i in range(40):
        make_ticket(
            shop_a,
            created=at(3, 2 + i % 3, 8) + dt.timedelta(minutes=i),
            assignee=[agent, colleague, None][i % 3],
            cause=["slow_delivery", "damaged", "unknown", ""][i % 4],
            status=["assigned", "resolved"][i % 2],
            outcome=["", "revised_positive"][i % 2],
            closed=at(3, 4, 10) if i % 2 else None,
            sku=f"SKU-{i % 12}",
            contact=at(3, 2 + i % 3, 9),
            minutes=i,
        )
    page(client)  # new reviews came in: the shop table's ten-minute cache is refilled once
    assert count() == before
    assert before <= 40


# Operations feedback -----------------------------------------------------------------------


def _reviews(shop, sku, *, recent_unhappy, recent_happy, old_unhappy, old_happy):
    from datetime import timedelta

    from reviews.models import Review

    rows = []
    plan = [(recent_unhappy, "negative", 2), (recent_happy, "positive", 2), (old_unhappy, "neutral", 20)]
    plan.append((old_happy, "positive", 20))
    for count, tier, days_ago in plan:
        for _i in range(count):
            rows.append(
                Review(
                    shop=shop,
                    platform=shop.platform,
                    review_id=f"{sku}-{len(rows)}",
                    state="active",
                    tier=tier,
                    rated_at=NOW - timedelta(days=days_ago),
                    item_sku=sku,
                    item_title=f"商品 {sku}",
                )
            )
    Review.objects.bulk_create(rows)


def test_a_sku_whose_7_day_unhappy_rate_runs_above_its_30_day_baseline_is_flagged(shop_a, agent, supervisor):
    # Hot: 5 of 10 unhappy this week (one is the ticket's review), 6 of 40 over 30 days (0.5 > 1.5 × 0.15).
    _reviews(shop_a, "HOT-1", recent_unhappy=4, recent_happy=5, old_unhappy=1, old_happy=29)
    # Steady: 3 of 10 this week, 12 of 40 over 30 days (0.3, not above 1.5 × 0.3).
    _reviews(shop_a, "FLAT-1", recent_unhappy=3, recent_happy=7, old_unhappy=9, old_happy=21)
    make_ticket(shop_a, created=NOW - dt.timedelta(days=1), cause="damaged", sku="HOT-1")
    rows = sku_alerts({shop_a.pk}, factor=1.5)
    assert [r["sku"] for r in rows] == ["HOT-1"]
    assert (rows[0]["recent_rate"], rows[0]["baseline_rate"]) == (0.5, 0.15)
    assert rows[0]["causes"] == [("Damaged", 1)]
    html = logged_in(supervisor).get("/dashboard/feedback/").content.decode()
    assert 'data-testid="sku-alert" data-key="HOT-1"' in html and "FLAT-1" not in html
    assert logged_in(agent).get("/dashboard/feedback/").status_code == 403
    assert sku_alerts({shop_a.pk}, factor=5) == []


def test_the_weekly_digest_mails_each_supervisor_the_figures_of_their_shops(data, supervisor, shop_b):
    supervisor.email = "boss@example.com"
    supervisor.save()
    other = make_agent(shop_b, role=Role.SUPERVISOR, username="supervisor_b")
    other.email = "b@example.com"
    other.save()
    make_agent(shop_b, role=Role.SUPERVISOR, username="no_mail")  # no address: skipped
    with time_machine.travel(at(3, 9, 9), tick=False):  # Monday: last week is 03-02 … 03-08
        assert send_weekly_digest_task() == 2
    assert len(mail.outbox) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    body = by_to["boss@example.com"].body
    assert "2026-03-02" in by_to["boss@example.com"].subject
    assert "Opened: 6" in body  # t1 … t6 opened 03-02 … 03-08
    assert "Opened: 1" in by_to["b@example.com"].body
    assert weekly_digest_send(now=at(3, 9, 9)) == 2


def test_the_weekly_digest_is_on_the_beat_schedule():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["send-weekly-digest"]
    assert entry["task"] == "tickets.tasks.send_weekly_digest_task"
    assert entry["schedule"].day_of_week == {1}
