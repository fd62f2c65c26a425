"""CSV exports (issue 6): UTF-8 with BOM, streamed, the same numbers as the API and the page."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/stats_data.py) by the names imported here

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tickets import exports, stats

from .stats_data import NOW, PERIOD, SUMMARY_A, build, colleague, data, frozen  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def read_csv(response):
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _value(text):
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


@pytest.mark.parametrize("by", stats.BREAKDOWNS)
def test_every_breakdown_exports_the_numbers_the_api_returns(data, supervisor, by):
    client = logged_in(supervisor)
    rows = read_csv(client.get(f"/dashboard/export/{by}.csv", PERIOD))
    api = client.get("/api/v1/stats/breakdown/", {**PERIOD, "by": by}).json()["results"]
    assert len(rows) == len(api)
    for line, row in zip(rows, api, strict=True):
        assert line["key"] == ("" if row["key"] is None else str(row["key"]))
        assert line["label"] == row["label"]
        for name in ("opened", "closed", "first_contact_sla_met_rate", "median_minutes_to_first_contact"):
            assert _value(line[name]) == row[name], name
        assert line["remedy_cost_total"] == row["remedy_cost_total"]
        assert line["remedy_cost_per_revision"] == (row["remedy_cost_per_revision"] or "")
        if by != "day":
            assert int(line["backlog_open"]) == row["backlog"]["open"]
            assert int(line["backlog_<4h"]) == row["backlog"]["by_age"]["<4h"]


def test_the_shop_export_adds_up_to_the_figures_worked_out_by_hand_with_chinese_intact(data, supervisor):
    rows = read_csv(logged_in(supervisor).get("/dashboard/export/shop.csv", PERIOD))
    assert [r["label"] for r in rows] == ["甲店"]
    row = rows[0]
    assert int(row["opened"]) == SUMMARY_A["opened"]
    assert float(row["resolution_rate"]) == SUMMARY_A["resolution_rate"]
    assert float(row["p90_minutes_to_first_contact"]) == SUMMARY_A["p90_minutes_to_first_contact"]
    assert row["remedy_cost_per_revision"] == "21.38"
    assert int(row["backlog_breached"]) == 2


def test_the_ticket_export_follows_the_ticket_list_filters_and_the_supervisors_shops(data, supervisor):
    client = logged_in(supervisor)
    rows = read_csv(client.get("/dashboard/tickets.csv"))
    assert len(rows) == 8  # t1 … t8 of shop A; t9 is shop B's
    assert {r["Shop"] for r in rows} == {"tb-a"} and {r["Shop name"] for r in rows} == {"甲店"}
    rows = read_csv(
        client.get("/dashboard/tickets.csv", {"created_after": "2026-03-02", "created_before": "2026-03-04"})
    )
    assert sorted(int(r["Ticket"]) for r in rows) == sorted(data[t].pk for t in ("t1", "t2", "t3", "t4", "t5"))
    by_id = {int(r["Ticket"]): r for r in rows}
    t2 = by_id[data["t2"].pk]
    assert t2["Accepted remedies"] == "15.50"  # the 99.00 only offered is not counted
    assert t2["Outcome"] == "deleted_by_buyer" and t2["Verified"] == "false"
    assert t2["Opened"] == "2026-03-02T12:00:00+08:00"
    assert t2["Business minutes to first contact"] == "120.0"
    assert t2["Item"] == "加厚保暖羽绒服"
    rows = read_csv(client.get("/dashboard/tickets.csv", {"status": "resolved", "verified": "true"}))
    assert sorted(int(r["Ticket"]) for r in rows) == sorted([data["t1"].pk, data["t7"].pk])
    assert client.get("/dashboard/tickets.csv", {"sla": "late"}).status_code == 400


def test_an_unknown_breakdown_export_is_a_404(supervisor):
    assert logged_in(supervisor).get("/dashboard/export/colour.csv", PERIOD).status_code == 404


def test_exports_are_for_supervisors(data, agent):
    client = logged_in(agent)
    assert client.get("/dashboard/tickets.csv").status_code == 403
    assert client.get("/dashboard/export/agent.csv", PERIOD).status_code == 403
    assert Client().get("/dashboard/tickets.csv").status_code == 302


def test_the_ticket_export_reads_through_a_chunked_iterator_in_one_query(data, supervisor, shop_a):
    client = logged_in(supervisor)
    response = client.get("/dashboard/tickets.csv")
    with CaptureQueriesContext(connection) as ctx:
        lines = list(response.streaming_content)
    assert len(lines) == 9  # header + 8 tickets, one chunk each: written as they are read
    selects = [q["sql"] for q in ctx.captured_queries if "tickets_ticket" in q["sql"]]
    assert len(selects) <= 2  # one cursor (on PostgreSQL DECLARE … + FETCH), never a query per row


@pytest.mark.slow
def test_a_200000_ticket_export_streams_in_bounded_memory(shop_a, supervisor):
    if connection.vendor != "postgresql":
        pytest.skip("bulk set-up uses generate_series")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO reviews_review (shop_id, platform, review_id, state, order_id, sub_order_id, item_id, "
            "item_sku, item_title, item_sku_text, tier, content, image_count, followup_content, reply_content, "
            "created_at, updated_at) SELECT %s, 'taobao', 'bulk-' || g, 'active', g::text, '', '', 'SKU-' || (g %% 50), "
            "'羽绒服', '', 'negative', '', 0, '', '', now(), now() FROM generate_series(1, 200000) g",
            [shop_a.pk],
        )
        cursor.execute(
            "INSERT INTO tickets_ticket (review_id, shop_id, platform, tier, status, cause, outcome, outcome_verified, "
            "sla_state, reopen_count, created_at, updated_at) SELECT id, shop_id, 'taobao', 'negative', 'new', '', '', "
            "false, 'ok', 0, now(), now() FROM reviews_review WHERE review_id LIKE 'bulk-%%'"
        )
    import tracemalloc

    response = logged_in(supervisor).get("/dashboard/tickets.csv")
    tracemalloc.start()
    count = 0
    for chunk in response.streaming_content:
        count += chunk.count(b"\n")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_001
    assert peak < 40 * 1024 * 1024  # a few chunks of rows, not 200,000 of them


def test_csv_cells_write_none_as_empty_and_booleans_as_words():
    assert exports._cell(None) == "" and exports._cell(True) == "true" and exports._cell(0) == 0
