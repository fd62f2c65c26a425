"""Database helpers shared by the apps."""

import functools
import io
import time

from django.db import connections, router


def bulk_update_rows(objs, fields, *, batch_size=1000):
    """Write `fields` of already-saved model instances in as few statements as possible.

    On PostgreSQL one `UPDATE … FROM (VALUES …)` per batch: Django's bulk_update builds a CASE
    expression per row and field, which costs more than the rest of a 500-event ingest together.
    Elsewhere (SQLite for the local desk) it falls back to Django's bulk_update.
    """
    objs = list(objs)
    if not objs:
        return 0
    model = type(objs[0])
    using = router.db_for_write(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_update(objs, fields, batch_size=batch_size)

    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    quote = connection.ops.quote_name
    value_names = ["pk", *[f"v{i}" for i in range(len(columns))]]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}::{field.db_type(connection)}"
        for field, name in zip(columns, value_names[1:], strict=True)
    )
    row_placeholder = "(" + ", ".join(["%s"] * len(value_names)) + ")"
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            params = []
            for obj in batch:
                params.append(pk.get_db_prep_value(obj.pk, connection))
                for field in columns:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            # Row values are text or typed literals; the casts give every column its real type. Only
            # quoted identifiers and placeholders are interpolated: the values go as parameters.
            sql = (
                f"UPDATE {table} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([row_placeholder] * len(batch))}) AS v({', '.join(value_names)}) "
                f"WHERE t.{quote(pk.column)} = v.pk::{pk.db_type(connection)}"
            )
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated


def is_postgresql(model):
    """Whether `model` is written to PostgreSQL (the raw-SQL fast paths are PostgreSQL-only)."""
    return connections[router.db_for_write(model)].vendor == "postgresql"


def insert_rows(model, columns, rows, *, returning=None, on_conflict=""):
    """PostgreSQL: insert `rows` (tuples of database-ready values, in `columns` order) with one
    `INSERT … VALUES` and return the `returning` column of each row, in row order.

    No model instances and no per-field preparation: the caller passes values psycopg2 adapts
    as they are (str, int, Decimal, aware datetime, UUID, None; JSON already serialised).
    `on_conflict` is appended verbatim (a constant clause such as `ON CONFLICT (…) DO UPDATE …`).
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    head, values, tail = _insert_sql(connection.alias, model._meta.db_table, tuple(columns), returning, on_conflict)
    sql = head + ", ".join([values] * len(rows)) + tail
    params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()] if returning else []


@functools.lru_cache(maxsize=64)
def _insert_sql(alias, table, columns, returning, on_conflict):
    """(`INSERT INTO t (…) VALUES `, one row's placeholders, the tail): built once per shape."""
    quote = connections[alias].ops.quote_name
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) VALUES "
    tail = f" {on_conflict}" if on_conflict else ""
    if returning:
        tail += f" RETURNING {quote(returning)}"
    return head, "(" + ", ".join(["%s"] * len(columns)) + ")", tail


# Below this many rows an INSERT is cheaper than COPY's extra protocol round trip.
COPY_MIN_ROWS = 16


def _copy_field(value):
    """One value in COPY's text format: \\N for NULL; backslash, newline, CR and tab escaped."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = value if type(value) is str else str(value)
    if "\\" in text or "\n" in text or "\r" in text or "\t" in text:
        text = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return text


def copy_rows(model, columns, rows):
    """PostgreSQL: append `rows` (as for insert_rows) with `COPY … FROM STDIN`, or with one INSERT
    for a few rows. COPY skips building, sending and parsing one huge INSERT statement; constraints
    and foreign keys are checked as for an INSERT, and its errors surface as Django's (a unique
    violation is an IntegrityError)."""
    if len(rows) < COPY_MIN_ROWS:
        insert_rows(model, columns, rows)
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    buffer = io.StringIO("".join("\t".join(map(_copy_field, row)) + "\n" for row in rows))
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, buffer)
    if connection.queries_logged:  # visible to query counting like any other statement
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )


def _pairs_where(quote, first, second, pairs):
    if first is None:
        return f"{quote(second)} = ANY(%s)", [sorted({b for _a, b in pairs})]
    grouped = {}
    for a, b in pairs:
        grouped.setdefault(a, set()).add(b)
    term = f"({quote(first)} = %s AND {quote(second)} = ANY(%s))"
    params = [value for a, bs in grouped.items() for value in (a, sorted(bs))]
    return " OR ".join([term] * len(grouped)) or "FALSE", params


def _pairs_select(connection, model, columns, pairs, *, first, second, order_by=None, for_update=False):
    quote = connection.ops.quote_name
    where, params = _pairs_where(quote, first, second, pairs)
    sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(model._meta.db_table)} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {quote(order_by)}"
    if for_update:
        sql += " FOR UPDATE"
    return sql, params


def copy_rows_returning_ids(model, columns, rows):
    """PostgreSQL: insert `rows` and return their new primary keys in row order. Many rows: the
    keys are drawn from the table's sequence first, then the rows go with COPY (two round trips,
    but no huge INSERT to build and parse); a few rows: one `INSERT … RETURNING`."""
    pk = model._meta.pk.column
    if len(rows) < COPY_MIN_ROWS:
        return insert_rows(model, columns, rows, returning=pk)
    connection = connections[router.db_for_write(model)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk, len(rows)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    copy_rows(model, (pk, *columns), [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)])
    return ids


def select_by_pairs(model, columns, pairs, *, first, second, order_by=None, for_update=False):
    """PostgreSQL: the rows whose (`first`, `second`) columns are one of `pairs`, as tuples of
    `columns`, in one plain SELECT (no query compilation): one `(first = %s AND second = ANY(%s))`
    term per distinct first value, which a unique index on both columns serves. With `first`
    None: `second = ANY(%s)` over the pairs' second values."""
    connection = connections[router.db_for_write(model)]
    sql, params = _pairs_select(
        connection, model, columns, pairs, first=first, second=second, order_by=order_by, for_update=for_update
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
