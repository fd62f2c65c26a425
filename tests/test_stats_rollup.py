"""The statistics rollup (tickets.rollup, issue 6): the counts the trigger keeps per day give the
same figures as the tickets themselves, after every kind of write, folded or not, with writers
that never wait for each other, and the reader falls back to the tickets when the rollup counts
another time zone's days."""

# ruff: noqa: F811 - pytest finds the shared fixtures (tests/stats_data.py) by the names imported here

import datetime as dt
import logging

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from reviewdesk.celery import app as celery_app
from tickets import stats
from tickets.models import Remedy, Ticket, TicketDayCount
from tickets.rollup import rollup_compact, rollup_ready, rollup_rebuild, rollup_time_zone
from tickets.sla import sla_sweep
from tickets.tasks import compact_stats_rollup_task

from .stats_data import NOW, at, colleague, data, frozen, make_ticket  # noqa: F401 — fixtures

pytestmark = pytest.mark.django_db

# Periods that cut the crafted data set in different places, by platform too.
PERIODS = [
    (dt.date(2026, 3, 2), dt.date(2026, 3, 4), ""),
    (dt.date(2026, 2, 1), dt.date(2026, 3, 31), ""),
    (dt.date(2026, 3, 5), dt.date(2026, 3, 5), ""),
    (dt.date(2026, 3, 1), dt.date(2026, 3, 6), "taobao"),
    (dt.date(2026, 3, 3), dt.date(2026, 3, 3), "jd"),
]


def figures(query):
    """Every figure the page, the API and the exports read."""
    return {
        "summary": stats.summary(query),
        **{f"by {by}": stats.breakdown(query, by) for by in stats.BREAKDOWNS},
        "cause × outcome": stats.cause_outcome_matrix(query),
        "dashboard": stats.dashboard_figures(query),
    }


def assert_rollup_agrees(shop_ids):
    for date_from, date_to, platform in PERIODS:
        period = {"shop_ids": frozenset(shop_ids), "date_from": date_from, "date_to": date_to, "platform": platform}
        from_rollup = figures(stats.StatsQuery(**period, use_rollup=True))
        from_tickets = figures(stats.StatsQuery(**period, use_rollup=False))
        for name, value in from_tickets.items():
            assert from_rollup[name] == value, (name, date_from, date_to, platform)


def pending():
    return TicketDayCount.objects.filter(compact=False).count()


def test_migrations_install_the_trigger_for_the_installation_time_zone():
    assert rollup_time_zone() == settings.TIME_ZONE
    assert rollup_ready()
    assert stats.StatsQuery(frozenset(), dt.date(2026, 3, 1), dt.date(2026, 3, 2)).rollup


def test_the_rollup_gives_the_figures_of_the_tickets_after_every_kind_of_write(
    data, shop_a, shop_b, agent, colleague, agent_b
):
    shops = [shop_a.pk, shop_b.pk]
    assert TicketDayCount.objects.exists()
    assert_rollup_agrees(shops)

    t1, t2, t3, t4, t6 = (data[name] for name in ("t1", "t2", "t3", "t4", "t6"))
    # A save of a few fields (what the services do): reassign, contact, close with an outcome.
    t4.assignee = colleague
    t4.first_contact_at = at(3, 4, 9)
    t4.save(update_fields=["assignee", "first_contact_at", "updated_at"])
    t6.status, t6.outcome, t6.closed_at, t6.cause = "resolved", "revised_positive", at(3, 5, 11), "poor_quality"
    t6.save()
    # Bulk updates that bypass save(): a reopen (closed_at cleared) and a change of verification.
    Ticket.objects.filter(pk=t2.pk).update(status="reopened", closed_at=None, outcome="")
    Ticket.objects.filter(pk=t1.pk).update(outcome_verified=False)
    Ticket.objects.filter(shop=shop_a, assignee=agent).update(assignee=colleague)
    # The SLA sweep (select_for_update, then save) and new tickets, one by one and in bulk.
    sla_sweep(now=timezone.now())
    make_ticket(shop_b, created=at(3, 3, 8), assignee=agent_b, cause="damaged")
    Ticket.objects.bulk_create(
        [
            Ticket(
                review=make_ticket(shop_a, created=at(3, 2, 7)).review,
                shop=shop_a,
                platform=shop_a.platform,
                tier="neutral",
                status="closed_unresolved",
                outcome="buyer_refused",
                created_at=at(3, 2, 7),
                closed_at=at(3, 3, 7),
                first_contact_due_at=at(3, 2, 8),
                first_contact_at=at(3, 2, 7, 30),
            )
        ]
    )
    # A deletion (its remedies go with it).
    Remedy.objects.filter(ticket=t3).delete()
    t3.delete()
    assert pending() > 0
    assert_rollup_agrees(shops)

    rows_before = TicketDayCount.objects.count()
    assert rollup_compact() > 0
    assert pending() == 0
    assert TicketDayCount.objects.count() < rows_before
    assert_rollup_agrees(shops)


def test_a_write_that_changes_no_figure_appends_nothing(data):
    ticket = Ticket.objects.filter(closed_at__isnull=False).first()
    rows = TicketDayCount.objects.count()
    ticket.save()
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now(), sla_state="warning")
    assert TicketDayCount.objects.count() == rows


def test_clocks_that_ran_out_today_count_as_they_run_out(data, shop_a, agent):
    """Now is 03-05 12:00. Due today: t5 (00:30, contacted in time) and t6 (11:00, not contacted:
    ran out); a clock due at 13:00 has not run out and is not counted yet."""
    make_ticket(shop_a, created=at(3, 5, 11, 30), assignee=agent)  # first contact due 12:30
    query = stats.StatsQuery(frozenset([shop_a.pk]), dt.date(2026, 3, 5), dt.date(2026, 3, 5), now=NOW)
    assert query.rollup
    summary = stats.summary(query)
    assert (summary["first_contact_due"], summary["first_contact_met"]) == (2, 1)
    assert summary["first_contact_sla_met_rate"] == 0.5
    later = stats.StatsQuery(query.shop_ids, query.date_from, query.date_to, now=at(3, 5, 13))
    assert stats.summary(later)["first_contact_due"] == 3
    assert_rollup_agrees([shop_a.pk])


def test_another_time_zone_reads_the_tickets_until_the_rollup_is_rebuilt(data, shop_a, shop_b, caplog):
    with override_settings(TIME_ZONE="Europe/London"):
        with caplog.at_level(logging.WARNING, logger="tickets.rollup"):
            assert not rollup_ready()
        assert "rebuild_stats_rollup" in caplog.text
        query = stats.StatsQuery(frozenset([shop_a.pk, shop_b.pk]), dt.date(2026, 3, 2), dt.date(2026, 3, 4))
        assert not query.rollup
        # Rebuilt: days are London days now, and the rollup agrees with the tickets again.
        rollup_rebuild()
        assert rollup_time_zone() == "Europe/London"
        assert rollup_ready()
        assert_rollup_agrees([shop_a.pk, shop_b.pk])


def test_the_beat_folds_the_rollup_every_few_minutes(data, shop_a):
    entry = settings.CELERY_BEAT_SCHEDULE["compact-stats-rollup"]
    assert entry["task"] == "tickets.tasks.compact_stats_rollup_task"
    assert entry["task"] in celery_app.tasks
    Ticket.objects.filter(shop=shop_a).update(cause="damaged")
    assert pending() > 0
    compact_stats_rollup_task()
    assert pending() == 0
    assert_rollup_agrees([shop_a.pk])


# Concurrency: real transactions on separate connections ------------------------------------


def _connect():
    params = connection.settings_dict
    return psycopg2.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
    )


@pytest.mark.django_db(transaction=True)
def test_writers_of_the_same_counts_never_wait_for_each_other(shop_a, agent, colleague):
    one = make_ticket(shop_a, created=at(3, 2, 10), assignee=agent)
    two = make_ticket(shop_a, created=at(3, 2, 11), assignee=agent)
    first, second = _connect(), _connect()
    try:
        with first.cursor() as cursor:
            cursor.execute("UPDATE tickets_ticket SET assignee_id = %s WHERE id = %s", [colleague.pk, one.pk])
        # Same shop, day and agent, so the same counts: an upsert would wait for `first` here.
        with second.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
            cursor.execute("UPDATE tickets_ticket SET assignee_id = %s WHERE id = %s", [colleague.pk, two.pk])
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert_rollup_agrees([shop_a.pk])


@pytest.mark.django_db(transaction=True)
def test_a_difference_written_while_the_rollup_is_folded_is_kept(shop_a, agent, colleague):
    ticket = make_ticket(shop_a, created=at(3, 2, 10), assignee=agent, contact=at(3, 2, 10, 20), minutes=20)
    writer = _connect()
    try:
        with writer.cursor() as cursor:
            cursor.execute(
                "UPDATE tickets_ticket SET assignee_id = %s, closed_at = %s, outcome = 'revised_positive' WHERE id = %s",
                [colleague.pk, at(3, 3, 9), ticket.pk],
            )
        assert rollup_compact() is not None  # folds what is committed; the writer's rows are not
        writer.commit()
    finally:
        writer.close()
    assert pending() > 0
    assert_rollup_agrees([shop_a.pk])
    rollup_compact()
    assert pending() == 0
    assert_rollup_agrees([shop_a.pk])
