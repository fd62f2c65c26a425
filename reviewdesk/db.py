"""Database helpers shared by the apps."""

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
