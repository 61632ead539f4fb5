"""Inserting many annotations at once (copies, imports) with their history rows.

Rows go straight to the database: COPY on PostgreSQL, one executemany on SQLite. The ORM's
bulk_create spends most of its time preparing each value of each row, which made an import
of 100,000 annotations take longer than checking them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.utils import timezone

from annotator.annotations.models import Annotation, AnnotationChange
from annotator.datasets.models import Item

ANNOTATION_COLUMNS = (
    "id",
    "item_id",
    "dataset_id",
    "type",
    "label",
    "coordinates",
    "metadata",
    "description",
    "version",
    "creator_id",
    "updated_by_id",
    "created_at",
    "updated_at",
)
CHANGE_COLUMNS = ("annotation_id", "item_id", "action", "version", "before", "after", "actor_id", "at")
# Each column's array type for PostgreSQL's unnest (write_item_annotations); JSON goes as text.
_ARRAY_TYPES = {
    **dict.fromkeys(
        ("id", "item_id", "dataset_id", "type", "label", "description", "creator_id", "updated_by_id"), "text[]"
    ),
    **dict.fromkeys(("annotation_id", "action", "actor_id"), "text[]"),
    **dict.fromkeys(("coordinates", "metadata", "before", "after"), "text[]::jsonb[]"),
    "version": "integer[]",
    **dict.fromkeys(("created_at", "updated_at", "at"), "timestamptz[]"),
}


@dataclass(slots=True)
class NewAnnotation:
    """A checked annotation about to be inserted (cheaper than a model instance by far)."""

    id: str
    item_id: str
    dataset_id: str
    type: str
    label: str
    coordinates: Any
    metadata: dict[str, Any]
    description: str | None
    creator_id: int | None
    updated_by_id: int | None


@dataclass(slots=True)
class ChangeRow:
    """A history row about to be inserted (an AnnotationChange instance cost a save ~4% of its
    CPU, most of it in setting the actor relation)."""

    annotation_id: str
    item_id: str
    action: str
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_id: str | None


def _json(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson refuses (integers beyond 64 bits): the standard library's way
        return json.dumps(value)


def _insert(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # psycopg 3
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("%s" for _ in columns)
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def _timestamp(value: Any) -> Any:
    return value if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(value)


def insert_annotation_rows(annotations: Sequence[NewAnnotation | Annotation]) -> None:
    """Insert the annotations as they are (their version and times when set, else 1 and now)."""
    _insert(Annotation._meta.db_table, ANNOTATION_COLUMNS, _annotation_rows(annotations))


def _annotation_rows(annotations: Sequence[NewAnnotation | Annotation]) -> list[tuple]:
    now = _timestamp(timezone.now())
    rows = []
    for a in annotations:
        created = getattr(a, "created_at", None)
        updated = getattr(a, "updated_at", None)
        rows.append(
            (
                a.id,
                a.item_id,
                a.dataset_id,
                a.type,
                a.label,
                _json(a.coordinates),
                _json(a.metadata),
                a.description,
                getattr(a, "version", 1),
                a.creator_id,
                a.updated_by_id,
                _timestamp(created) if created else now,
                _timestamp(updated) if updated else now,
            )
        )
    return rows


def _change_rows(changes: Sequence[ChangeRow]) -> list[tuple]:
    at = _timestamp(timezone.now())
    return [
        (
            c.annotation_id,
            c.item_id,
            c.action,
            c.version,
            None if c.before is None else _json(c.before),
            None if c.after is None else _json(c.after),
            c.actor_id,
            at,
        )
        for c in changes
    ]


def write_item_annotations(
    *,
    annotations: Sequence[Annotation],
    changes: Sequence[ChangeRow],
    item_counts: tuple[str, int, bool] | None,
) -> None:
    """A request's writes to one item, whose row the caller has locked: insert its new
    `annotations` (as they are) and the history rows, and set the item's
    `(item id, annotationsCount, annotated)` with its updatedAt when given.

    On PostgreSQL that is one statement, one round trip: each insert reads its rows from
    arrays (`unnest`), one array a column, so the statement's text is the same for any
    number of rows and stays prepared; the item's UPDATE is its main statement. (Two COPYs
    and an ORM update took eight round trips and ~10% of a save's CPU.) The arrays go in
    binary (`%b`): in text, psycopg escapes every quote of every JSON value with a regular
    expression, which cost more than the round trips saved. On SQLite, one executemany per
    table and an UPDATE."""
    parts = []
    if annotations:
        parts.append((Annotation._meta.db_table, ANNOTATION_COLUMNS, _annotation_rows(annotations)))
    if changes:
        parts.append((AnnotationChange._meta.db_table, CHANGE_COLUMNS, _change_rows(changes)))
    item_update, item_params = "", []
    if item_counts is not None:
        item_id, count, annotated = item_counts
        item_update = (
            f"UPDATE {Item._meta.db_table} SET annotations_count = %s, annotated = %s, updated_at = %s WHERE id = %s"
        )
        item_params = [count, annotated, _timestamp(timezone.now()), item_id]
    if connection.vendor != "postgresql":
        for table, columns, rows in parts:
            _insert(table, columns, rows)
        if item_update:
            with connection.cursor() as cursor:
                cursor.execute(item_update, item_params)
        return
    if not parts and not item_update:
        return
    inserts, params = [], []
    for table, columns, rows in parts:
        arrays = ", ".join(f"%b::{_ARRAY_TYPES[column]}" for column in columns)
        inserts.append(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays})")
        params.extend(list(values) for values in zip(*rows, strict=True))
    main = item_update or inserts.pop()
    ctes = ", ".join(f"written_{n} AS ({insert})" for n, insert in enumerate(inserts))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} {main}" if ctes else main, params + item_params)


def insert_annotations(annotations: Sequence[NewAnnotation | Annotation], *, actor_id: int | None) -> None:
    """Insert new annotations (version 1) and a `created` history row for each. The history's
    `after` is assembled from the JSON already made for the row, not encoded a second time."""
    now = timezone.now()
    at = _timestamp(now)
    annotation_rows, change_rows = [], []
    for a in annotations:
        coordinates, metadata = _json(a.coordinates), _json(a.metadata)
        annotation_rows.append(
            (
                a.id,
                a.item_id,
                a.dataset_id,
                a.type,
                a.label,
                coordinates,
                metadata,
                a.description,
                1,
                a.creator_id,
                a.updated_by_id,
                at,
                at,
            )
        )
        after = (
            f'{{"id":{_json(a.id)},"type":{_json(a.type)},"label":{_json(a.label)},"coordinates":{coordinates},'
            f'"metadata":{metadata},"description":{_json(a.description)},"version":1,'
            f'"itemId":{_json(a.item_id)},"datasetId":{_json(a.dataset_id)}}}'
        )
        change_rows.append((a.id, a.item_id, AnnotationChange.Action.CREATED.value, 1, None, after, actor_id, at))
    _insert(Annotation._meta.db_table, ANNOTATION_COLUMNS, annotation_rows)
    _insert(AnnotationChange._meta.db_table, CHANGE_COLUMNS, change_rows)
