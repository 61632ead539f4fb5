"""Dropping the `varchar_pattern_ops` twins of PostgreSQL indexes that no query needs.

Django's PostgreSQL backend gives every indexed or unique varchar column (a text primary key,
a foreign key to one) a second index with the pattern operator class, for LIKE 'prefix%'
whatever the collation. Nothing filters ids or hashes by prefix, and every insert keeps each
twin up: on the item table they were five of fifteen indexes. Django does not track them, so
a migration drops them by the name Django gave them, and its reverse makes them again.
"""

from django.db import migrations


def _twins(schema_editor, targets):
    for table, column in targets:
        yield schema_editor._create_index_name(table, [column], suffix="_like"), table, column


def without_pattern_twins(*targets: tuple[str, str]) -> migrations.RunPython:
    """A migration step dropping the twins of these (table, column) indexes on PostgreSQL."""

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name, _table, _column in _twins(schema_editor, targets):
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def create(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            quote = schema_editor.quote_name
            for name, table, column in _twins(schema_editor, targets):
                schema_editor.execute(
                    f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)} varchar_pattern_ops)"
                )

    return migrations.RunPython(drop, create)
