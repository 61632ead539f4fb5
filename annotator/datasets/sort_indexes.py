"""Indexes that let PostgreSQL read a DQL sort on a metadata key straight off a btree.

Without one, `{"sort": {"metadata.user.score": "descending"}}` reads and sorts every
matching item: about a second on a million items. Metadata keys are free-form, so which
keys deserve an index is the deployment's choice (`manage.py items_sort_index`), not a
migration's. Each index is `(dataset_id, <the key as the compiler orders by it> ASC NULLS
FIRST, id ASC)`: scanned forwards it serves `ascending`, backwards `descending` (the
compiler puts missing keys first going up and last going down, and breaks ties by id in
the same direction), so one index serves both. The expression is compiled by the same
code that compiles the sort, so the planner always recognises it.
"""

import hashlib

from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from annotator.core.dql import ITEMS
from annotator.core.dql.expressions import key_transform
from annotator.core.dql.resources import JsonTarget
from annotator.core.errors import BadRequest
from annotator.datasets.models import Item

PREFIX = "item_sort_"


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise CommandError("Sort indexes are for PostgreSQL; SQLite sorts its (smaller) datasets without them.")


def _target(field: str) -> JsonTarget:
    try:
        target = ITEMS.resolve(field)
    except BadRequest as exc:
        raise CommandError(str(exc.detail)) from exc
    if not isinstance(target, JsonTarget):
        raise CommandError(f"{field} is a column; columns that DQL sorts on are indexed by migrations.")
    return target


def index_name(field: str) -> str:
    return PREFIX + hashlib.sha256(field.encode()).hexdigest()[:20]


def _expression_sql(target: JsonTarget) -> str:
    query = Item.objects.all().query
    expression = key_transform(target.column, target.keys).resolve_expression(query)
    sql, params = query.get_compiler(connection=connection).compile(expression)
    return connection.ops.compose_sql(sql, params)


def sort_index_create(field: str) -> str:
    """Build the index for sorting items by `field` (without locking writes); its name."""
    _require_postgresql()
    target, name = _target(field), index_name(field)
    table = connection.ops.quote_name(Item._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
        if row is not None and not row[0]:  # an earlier concurrent build was interrupted
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} "
            f"(dataset_id, {_expression_sql(target)} ASC NULLS FIRST, id ASC)"
        )
        # DDL takes no bound parameters (PostgreSQL binds them server-side here): a quoted literal.
        cursor.execute(sql.SQL("COMMENT ON INDEX {} IS {}").format(sql.Identifier(name), sql.Literal(field)))
    return name


def sort_index_drop(field: str) -> bool:
    """Drop the index for `field`; False if there was none."""
    _require_postgresql()
    _target(field)
    name = index_name(field)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        exists = cursor.fetchone()[0]
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    return exists


def sort_indexes() -> dict[str, str]:
    """The fields that have a sort index, with their index names."""
    _require_postgresql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(indexrelid, 'pg_class'), indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = to_regclass(%s) AND indexrelid::regclass::text LIKE %s AND indisvalid",
            [Item._meta.db_table, PREFIX + "%"],
        )
        return dict(cursor.fetchall())
