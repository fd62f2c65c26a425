"""The statistics rollup (TicketDayCount): ticket counts per day, shop, platform and agent, so the
dashboard and the statistics API add up a few thousand rows instead of reading every ticket of a
period (docs/metrics.md § Rollup).

Why a trigger and not the services: a ticket is written by a dozen services, the SLA sweep, bulk
ingestion and admin actions, and a count that one forgotten path leaves wrong is worse than no
count. A statement-level trigger sees every write, old and new rows alike, in the writer's own
transaction, as an index does. It only appends the difference a statement made (-1 for a row's
old groups, +1 for its new ones, nothing when only `updated_at` moved), so concurrent writers never
wait on each other's counter rows. `rollup_compact` (beat) folds each day's differences into one
row per group; readers SUM either way.

PostgreSQL only: the SQLite desk (a demo) reads the tickets directly, through the same definitions
in tickets.stats. Days are counted in the time zone the trigger was installed with; after a change
of TIME_ZONE the readers fall back to the tickets until `manage.py rebuild_stats_rollup` is run.
"""

import logging

from django.conf import settings
from django.db import connection, transaction

from .models import Ticket, TicketDayCount

logger = logging.getLogger(__name__)

TICKETS = Ticket._meta.db_table
COUNTS = TicketDayCount._meta.db_table
_GROUP = "kind, shop_id, platform, day, assignee_id, cause, outcome, verified"
_COLUMNS = f"{_GROUP}, n, contacted, met, compact"
_NONZERO = "HAVING sum(n) <> 0 OR sum(contacted) <> 0 OR sum(met) <> 0"
# Serialises compactions (and a rebuild with them); any constant unique to this lock.
_LOCK_KEY = 0x5244_524F_4C4C


def _contributions(table, sign, tz_literal):
    """SELECT of what each row of `table` (the tickets or a transition table) contributes, signed:
    the definitions of DESIGN.md § Metrics, each by the day of the timestamp it is counted by (a
    ticket not closed yet has no `closed` day, and so no row there)."""

    def day(column):
        return f"(t.{column} AT TIME ZONE {tz_literal})::date"

    return f"""
    SELECT c.* FROM {table} t CROSS JOIN LATERAL (VALUES
        ('opened', t.shop_id, t.platform, {day("created_at")}, t.assignee_id, '', '', false, {sign}, 0, 0),
        ('closed', t.shop_id, t.platform, {day("closed_at")}, t.assignee_id, '', t.outcome, t.outcome_verified,
         {sign}, 0, 0),
        ('closed_cause', t.shop_id, t.platform, {day("closed_at")}, NULL, t.cause, t.outcome, false, {sign}, 0, 0),
        ('sla', t.shop_id, t.platform, {day("first_contact_due_at")}, t.assignee_id, '', '', false, {sign},
         CASE WHEN t.first_contact_at IS NOT NULL THEN {sign} ELSE 0 END,
         CASE WHEN t.first_contact_at <= t.first_contact_due_at THEN {sign} ELSE 0 END)
    ) AS c (kind, shop_id, platform, day, assignee_id, cause, outcome, verified, n, contacted, met)
    WHERE c.day IS NOT NULL"""


def _quote(tz):
    return "'" + tz.replace("'", "''") + "'"


def _apply_sql(tz):
    """The trigger function, with the time zone written in (it never comes from input)."""

    def differences(tables):
        rows = " UNION ALL ".join(_contributions(table, sign, _quote(tz)) for table, sign in tables)
        return (
            f"INSERT INTO {COUNTS} ({_COLUMNS}) "
            f"SELECT {_GROUP}, sum(n), sum(contacted), sum(met), false FROM ({rows}) d GROUP BY {_GROUP} {_NONZERO};"
        )

    return f"""
CREATE OR REPLACE FUNCTION tickets_day_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {differences([("new_rows", 1)])}
    ELSIF TG_OP = 'UPDATE' THEN
        {differences([("new_rows", 1), ("old_rows", -1)])}
    ELSE
        {differences([("old_rows", -1)])}
    END IF;
    RETURN NULL;
END
$$
"""


_TRIGGERS_SQL = [
    f"DROP TRIGGER IF EXISTS tickets_day_counts_insert ON {TICKETS}",
    f"DROP TRIGGER IF EXISTS tickets_day_counts_update ON {TICKETS}",
    f"DROP TRIGGER IF EXISTS tickets_day_counts_delete ON {TICKETS}",
    f"""CREATE TRIGGER tickets_day_counts_insert AFTER INSERT ON {TICKETS}
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_day_counts_apply()""",
    f"""CREATE TRIGGER tickets_day_counts_update AFTER UPDATE ON {TICKETS}
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION tickets_day_counts_apply()""",
    f"""CREATE TRIGGER tickets_day_counts_delete AFTER DELETE ON {TICKETS}
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tickets_day_counts_apply()""",
]

UNINSTALL_SQL = [
    *_TRIGGERS_SQL[:3],
    "DROP FUNCTION IF EXISTS tickets_day_counts_apply()",
]


def rollup_rebuild(*, using_connection=None):
    """(Re)install the trigger for TIME_ZONE and recount every ticket into the rollup, in one
    transaction that holds off ticket writes (readers go on) while it runs."""
    conn = using_connection or connection
    if conn.vendor != "postgresql":
        return False
    tz = settings.TIME_ZONE
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {TICKETS} IN SHARE MODE")
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(_apply_sql(tz))
        cursor.execute("COMMENT ON FUNCTION tickets_day_counts_apply() IS %s", [tz])
        for statement in _TRIGGERS_SQL:
            cursor.execute(statement)
        cursor.execute(f"DELETE FROM {COUNTS}")
        cursor.execute(
            f"INSERT INTO {COUNTS} ({_COLUMNS}) SELECT {_GROUP}, sum(n), sum(contacted), sum(met), true "
            f"FROM ({_contributions(TICKETS, 1, _quote(tz))}) d "
            f"GROUP BY {_GROUP} {_NONZERO}"
        )
    return True


def rollup_compact():
    """Fold the differences appended since the last run into one row per group and day; returns
    the number of rows folded, or None when another compaction holds the lock. Writers are never
    blocked: a difference appended while this runs is not in its snapshot and waits for the next."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            f"""
            WITH pending AS (SELECT DISTINCT day, kind FROM {COUNTS} WHERE NOT compact),
            moved AS (
                DELETE FROM {COUNTS} c USING pending p WHERE c.day = p.day AND c.kind = p.kind RETURNING c.*
            ),
            folded AS (
                INSERT INTO {COUNTS} ({_COLUMNS})
                SELECT {_GROUP}, sum(n), sum(contacted), sum(met), true FROM moved GROUP BY {_GROUP} {_NONZERO}
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM moved)
            """
        )
        return cursor.fetchone()[0]


def rollup_time_zone():
    """The time zone the installed trigger counts days in (None: not installed). It is kept as
    the trigger function's comment, which a TRUNCATE of the tables (a test's flush) leaves alone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p WHERE p.proname = 'tickets_day_counts_apply'"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def rollup_ready():
    """Whether the statistics may read the rollup: PostgreSQL, with the trigger counting days in
    the current TIME_ZONE."""
    if connection.vendor != "postgresql":
        return False
    installed = rollup_time_zone()
    if installed == settings.TIME_ZONE:
        return True
    logger.warning(
        "The statistics rollup counts days in %s, not TIME_ZONE %s: reading tickets until "
        "`manage.py rebuild_stats_rollup` is run.",
        installed,
        settings.TIME_ZONE,
    )
    return False
