"""Statistics API (API.md § Statistics) against figures worked out by hand (tests/stats_data.py)."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/stats_data.py) by the names imported here

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tickets import stats
from tickets.choices import Role

from .stats_data import EMPTY, NOW, PERIOD, SUMMARY_A, api_keys, at, build, colleague, data, frozen, make_ticket  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/stats/summary/"
BREAKDOWN = "/api/v1/stats/breakdown/"


def as_person(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def as_key(raw):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def get(client, path, **params):
    response = client.get(path, {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def rows_by_key(body):
    return {row["key"]: row for row in body["results"]}


# Summary -----------------------------------------------------------------------------------


def test_the_summary_of_a_supervisors_shops_matches_the_figures_worked_out_by_hand(data, supervisor):
    body = get(as_person(supervisor), SUMMARY)
    assert api_keys(body) == SUMMARY_A
    assert (body["first_contact_due"], body["first_contact_met"], body["revised"]) == (4, 2, 2)


def test_an_integration_key_reads_the_figures_of_its_shops_only(data, key_a, key_b):
    assert api_keys(get(as_key(key_a), SUMMARY)) == SUMMARY_A
    body = get(as_key(key_b), SUMMARY)
    assert (body["opened"], body["closed"], body["resolution_rate"], body["remedy_cost_total"]) == (
        1,
        1,
        1.0,
        "100.00",
    )
    assert body["median_minutes_to_first_contact"] == 5.0


def test_a_shop_the_caller_may_not_see_gives_empty_figures_not_another_shops(data, supervisor, key_a):
    assert api_keys(get(as_person(supervisor), SUMMARY, shop="jd-b")) == EMPTY
    assert api_keys(get(as_key(key_a), SUMMARY, shop="no-such-shop")) == EMPTY
    assert api_keys(get(as_key(key_a), SUMMARY, shop="tb-a")) == SUMMARY_A
    # No shop id has a NUL (PostgreSQL would refuse it in the query): nothing matches, no 5xx.
    assert api_keys(get(as_key(key_a), SUMMARY, shop="tb-a\x00")) == EMPTY
    assert get(as_key(key_a), BREAKDOWN, shop="\x00", by="agent")["results"] == []


def test_an_outsider_sees_empty_figures_and_an_anonymous_caller_gets_401(data, outsider):
    assert api_keys(get(as_person(outsider), SUMMARY)) == EMPTY
    response = APIClient().get(SUMMARY, PERIOD)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_platform_filter_narrows_the_figures(data, shop_b, supervisor):
    supervisor.agent_profile.shops.add(shop_b)
    assert api_keys(get(as_person(supervisor), SUMMARY, platform="taobao")) == SUMMARY_A
    assert get(as_person(supervisor), SUMMARY)["opened"] == 6
    assert get(as_person(supervisor), SUMMARY, platform="jd")["opened"] == 1


def test_money_is_a_decimal_string_rates_fractions_and_minutes_numbers(data, supervisor):
    body = get(as_person(supervisor), SUMMARY)
    assert isinstance(body["remedy_cost_total"], str)
    assert isinstance(body["first_contact_sla_met_rate"], float)
    assert isinstance(body["median_minutes_to_first_contact"], float)
    assert sum(body["backlog"]["by_age"].values()) == body["backlog"]["open"]


def test_a_first_contact_clock_still_running_is_neither_met_nor_missed(shop_a, agent, supervisor):
    # Due 12:30 today; it is 12:00: not in the divisor yet. One due at 11:00, missed, is.
    make_ticket(shop_a, created=at(3, 5, 11, 30), assignee=agent)
    make_ticket(shop_a, created=at(3, 5, 10), assignee=agent)
    body = get(as_person(supervisor), SUMMARY, **{"from": "2026-03-05", "to": "2026-03-05"})
    assert (body["first_contact_due"], body["first_contact_sla_met_rate"]) == (1, 0.0)


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"from", "to"}),
        ({"from": "2026-03-02"}, {"to"}),
        ({"from": "2026-3-2", "to": "2026-03-04"}, {"from"}),
        ({"from": "2026-03-02", "to": "yesterday"}, {"to"}),
        ({"from": "2026-03-05", "to": "2026-03-04"}, {"to"}),
        ({"from": "2026-02-30", "to": "2026-03-04"}, {"from"}),
        ({"from": "2020-01-01", "to": "2026-03-04"}, {"to"}),
        ({"from": "2026-03-02", "to": "2026-03-04", "platform": "ebay"}, {"platform"}),
    ],
)
def test_bad_or_missing_dates_are_a_400_invalid_filter_naming_the_fields(supervisor, params, fields):
    response = as_person(supervisor).get(SUMMARY, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_filter"
    assert set(error["fields"]) == fields


def test_a_missing_or_unknown_breakdown_is_a_400_invalid_filter(supervisor):
    for params in ({**PERIOD}, {**PERIOD, "by": "colour"}):
        response = as_person(supervisor).get(BREAKDOWN, params)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_filter"
        assert set(response.json()["error"]["fields"]) == {"by"}
    response = as_person(supervisor).get(BREAKDOWN, {"by": "day"})
    assert set(response.json()["error"]["fields"]) == {"from", "to"}


# Breakdowns --------------------------------------------------------------------------------


def test_the_breakdown_by_agent_matches_the_figures_worked_out_by_hand(data, supervisor, agent, colleague):
    body = get(as_person(supervisor), BREAKDOWN, by="agent")
    assert body["by"] == "agent"
    rows = rows_by_key(body)
    assert set(rows) == {agent.pk, colleague.pk, None}
    assert rows[agent.pk]["label"] == agent.username
    assert api_keys(rows[agent.pk]) == {
        "opened": 4,  # t1 t2 t4 t5
        "closed": 3,  # t1 t2 t7
        "first_contact_sla_met_rate": 0.3333,  # t1 of t1 t2 t4
        "median_minutes_to_first_contact": 40.0,  # 30 40 120
        "p90_minutes_to_first_contact": 104.0,  # 40 + 0.8 × 80
        "resolution_rate": 1.0,
        "verified_resolution_rate": 0.6667,  # t1 t7 of 3
        "remedy_cost_total": "42.75",
        "remedy_cost_per_revision": "21.38",
        "backlog": {"open": 2, "breached": 1, "by_age": {"<4h": 0, "4-24h": 1, "1-3d": 1, ">3d": 0}},
    }
    assert api_keys(rows[colleague.pk]) == {
        **EMPTY,
        "opened": 1,
        "closed": 1,
        "first_contact_sla_met_rate": 1.0,
        "median_minutes_to_first_contact": 10.0,
        "p90_minutes_to_first_contact": 10.0,
        "resolution_rate": 0.0,
        "verified_resolution_rate": 0.0,
    }
    assert rows[None]["label"] == "Unassigned"
    assert rows[None]["backlog"] == {
        "open": 2,
        "breached": 1,
        "by_age": {"<4h": 1, "4-24h": 0, "1-3d": 0, ">3d": 1},
        "by_sla": {"ok": 0, "warning": 1, "breached": 1},
    }
    assert sum(r["opened"] for r in rows.values()) == SUMMARY_A["opened"]
    assert sum(r["backlog"]["open"] for r in rows.values()) == SUMMARY_A["backlog"]["open"]


def test_the_breakdown_by_day_counts_each_figure_on_the_day_of_its_own_timestamp(data, supervisor):
    rows = rows_by_key(get(as_person(supervisor), BREAKDOWN, by="day"))
    assert list(rows) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    figures = {
        day: (r["opened"], r["closed"], r["first_contact_sla_met_rate"], r["remedy_cost_total"], r["resolution_rate"])
        for day, r in rows.items()
    }
    assert figures == {
        "2026-03-02": (2, 1, 0.5, "20.00", 1.0),  # t1 t2 opened; t7 closed; t1 met, t2 missed
        "2026-03-03": (2, 2, 0.5, "15.50", 0.5),  # t3 t4 opened; t1 t3 closed; t3 met, t4 missed
        "2026-03-04": (1, 1, None, "7.25", 1.0),  # t5 opened; t2 closed
    }
    assert "backlog" not in rows["2026-03-02"]


def test_the_breakdowns_by_shop_platform_cause_and_sku_label_their_groups(data, supervisor):
    client = as_person(supervisor)
    shops = rows_by_key(get(client, BREAKDOWN, by="shop"))
    assert list(shops) == ["tb-a"] and shops["tb-a"]["label"] == "甲店"
    assert api_keys(shops["tb-a"]) == SUMMARY_A
    platforms = rows_by_key(get(client, BREAKDOWN, by="platform"))
    assert list(platforms) == ["taobao"] and platforms["taobao"]["label"] == "Taobao"
    causes = rows_by_key(get(client, BREAKDOWN, by="cause"))
    assert {k: (r["closed"], r["resolution_rate"]) for k, r in causes.items()} == {
        "slow_delivery": (2, 1.0),
        "poor_quality": (2, 0.5),
        None: (0, None),
    }
    assert causes["slow_delivery"]["label"] == "Slow delivery"
    skus = rows_by_key(get(client, BREAKDOWN, by="sku"))
    assert {k: r["opened"] for k, r in skus.items()} == {"SKU-A": 3, "SKU-B": 2}
    assert skus["SKU-B"]["label"] == "SKU-B 纯棉T恤"


def test_statistics_take_the_same_number_of_queries_whatever_the_number_of_tickets(
    data, supervisor, shop_a, agent, colleague
):
    client = as_person(supervisor)

    def count():
        counts = []
        for path, params in [(SUMMARY, {}), *[(BREAKDOWN, {"by": by}) for by in stats.BREAKDOWNS]]:
            with CaptureQueriesContext(connection) as ctx:
                get(client, path, **params)
            counts.append(len(ctx.captured_queries))
        return counts

    count()  # the first request caches the caller's profile on the user
    before = count()
    for i in range(30):
        make_ticket(
            shop_a,
            created=at(3, 2 + i % 3, 9) + dt.timedelta(minutes=i),
            assignee=[agent, colleague][i % 2],
            cause=["slow_delivery", "damaged", "unknown"][i % 3],
            sku=f"SKU-{i}",
            contact=at(3, 2 + i % 3, 10),
            minutes=i,
        )
    assert count() == before
    assert max(before) <= 10


def test_the_schema_documents_both_statistics_endpoints():
    response = APIClient().get("/api/schema/", {"format": "json"})
    paths = response.json()["paths"]
    assert "/api/v1/stats/summary/" in paths and "/api/v1/stats/breakdown/" in paths
    names = {p["name"] for p in paths["/api/v1/stats/breakdown/"]["get"]["parameters"]}
    assert {"by", "from", "to", "shop", "platform"} <= names


# Stored business minutes -------------------------------------------------------------------


def test_the_first_contact_stores_its_business_minutes_from_the_shops_calendar(shop_a, agent):
    from tickets.models import BusinessCalendar, SlaPolicy
    from tickets.services import contact_attempt_log

    calendar = BusinessCalendar.objects.create(
        name="9-18", weekly_hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    )
    SlaPolicy.objects.create(shop=shop_a, tier="", calendar=calendar)
    # Opened 17:30 the day before; contacted 09:45: 30 + 45 business minutes.
    ticket = make_ticket(shop_a, created=at(3, 4, 17, 30), assignee=agent)
    with time_machine.travel(at(3, 5, 9, 45), tick=False):
        contact_attempt_log(ticket.pk, agent, channel="im", result="reached")
    ticket.refresh_from_db()
    assert ticket.first_contact_business_minutes == 75.0
    assert ticket.first_reach_business_minutes == 75.0
    with time_machine.travel(at(3, 5, 10, 0), tick=False):
        contact_attempt_log(ticket.pk, agent, channel="im", result="reached")
    ticket.refresh_from_db()
    assert ticket.first_contact_business_minutes == 75.0


def test_percentile_cont_in_python_interpolates_like_postgresql():
    assert stats.percentile_cont([10, 30, 40, 120], 0.5) == 35
    assert stats.percentile_cont([10, 30, 40, 120], 0.9) == pytest.approx(96)
    assert stats.percentile_cont([], 0.5) is None
    assert stats.percentile_cont([7], 0.9) == 7


def test_a_supervisor_role_is_not_needed_to_read_the_api_but_shops_are(data, agent):
    # An agent of shop A reads shop A's figures through the API (the dashboard page is for supervisors).
    assert api_keys(get(as_person(agent), SUMMARY)) == SUMMARY_A
    assert agent.agent_profile.role == Role.AGENT


@pytest.mark.parametrize("by", [b for b in stats.BREAKDOWNS if b != "day"])
def test_a_summary_added_up_from_a_breakdown_equals_the_summary(data, supervisor, by):
    from reviews.selectors import shop_ids_visible_to

    query = stats.parse_stats_params(PERIOD, shop_ids_visible_to(supervisor))
    rows, total = stats.breakdown_and_summary(query, by)
    assert total == stats.summary(query)
    assert rows == stats.breakdown(query, by)


def test_the_dashboards_figures_equal_the_summary_and_the_breakdowns(data, supervisor):
    from reviews.selectors import shop_ids_visible_to

    query = stats.parse_stats_params(PERIOD, shop_ids_visible_to(supervisor))
    agents, summary, days = stats.dashboard_figures(query)
    assert summary == stats.summary(query)
    assert agents == stats.breakdown(query, "agent")
    assert days == stats.breakdown(query, "day", minutes=False)
    assert [d["remedy_cost_total"] for d in days] == ["20.00", "15.50", "7.25"]
