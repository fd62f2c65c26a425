"""Migration operations for what only PostgreSQL has. The laptop desk runs on SQLite, where these
are skipped: search there falls back to a plain scan, which is fine at demo sizes."""

from django.db import migrations


class PostgresOnlyRunSQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and does nothing on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table, column, name):
    """A GIN trigram index on UPPER(column): the expression Django's `icontains` compares on
    PostgreSQL (`UPPER(col::text) LIKE UPPER(%s)`), so `?q=` substring searches use it."""
    return PostgresOnlyRunSQL(
        sql=[
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)',
        ],
        reverse_sql=[f'DROP INDEX IF EXISTS "{name}"'],
    )
