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
from annotator.core.json import json_text
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
_JSON_COLUMNS = frozenset({"coordinates", "metadata", "before", "after"})
_TIME_COLUMNS = frozenset({"created_at", "updated_at", "at"})
# Each column's type in jsonb_to_recordset's record (write_item_annotations).
_RECORD_TYPES = {
    **dict.fromkeys(ANNOTATION_COLUMNS + CHANGE_COLUMNS, "text"),
    **dict.fromkeys(_JSON_COLUMNS, "jsonb"),
    **dict.fromkeys(_TIME_COLUMNS, "timestamptz"),
    "version": "integer",
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
    _insert(Annotation._meta.db_table, ANNOTATION_COLUMNS, _encoded(ANNOTATION_COLUMNS, _annotation_rows(annotations)))


def _annotation_rows(annotations: Sequence[NewAnnotation | Annotation]) -> list[tuple]:
    """Rows of ANNOTATION_COLUMNS, with JSON values as objects and times as datetimes."""
    now = timezone.now()
    return [
        (
            a.id,
            a.item_id,
            a.dataset_id,
            a.type,
            a.label,
            a.coordinates,
            a.metadata,
            a.description,
            getattr(a, "version", 1),
            a.creator_id,
            a.updated_by_id,
            getattr(a, "created_at", None) or now,
            getattr(a, "updated_at", None) or now,
        )
        for a in annotations
    ]


def _change_rows(changes: Sequence[ChangeRow]) -> list[tuple]:
    """Rows of CHANGE_COLUMNS, as _annotation_rows makes them."""
    at = timezone.now()
    return [(c.annotation_id, c.item_id, c.action, c.version, c.before, c.after, c.actor_id, at) for c in changes]


def _encoded(columns: Sequence[str], rows: list[tuple]) -> list[tuple]:
    """Rows as COPY and SQLite take them: JSON as text, times as the backend keeps them."""
    json_at = [n for n, column in enumerate(columns) if column in _JSON_COLUMNS]
    times_at = [n for n, column in enumerate(columns) if column in _TIME_COLUMNS]
    encoded = []
    for row in rows:
        values = list(row)
        for n in json_at:
            if values[n] is not None:
                values[n] = json_text(values[n])
        for n in times_at:
            values[n] = _timestamp(values[n])
        encoded.append(tuple(values))
    return encoded


def _recordset(columns: Sequence[str], rows: list[tuple]) -> str:
    """Rows as one JSON array of objects, for jsonb_to_recordset."""
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    try:
        return orjson.dumps(records).decode()
    except TypeError:  # integers beyond 64 bits: the standard library's way
        return json.dumps(records, default=lambda value: value.isoformat())


def write_item_annotations(
    *,
    annotations: Sequence[Annotation],
    changes: Sequence[ChangeRow],
    item_counts: tuple[str, int, bool] | None,
) -> None:
    """A request's writes to one item, whose row the caller has locked: insert its new
    `annotations` (as they are) and the history rows, and set the item's
    `(item id, annotationsCount, annotated)` with its updatedAt when given.

    On PostgreSQL that is one statement, one round trip: each insert reads its rows from one
    JSON array (`jsonb_to_recordset`), so the statement's text is the same for any number of
    rows and stays prepared, and the rows are encoded in one call; the item's UPDATE is its
    main statement. (Two COPYs and an ORM update took eight round trips and ~10% of a save's
    CPU; arrays, one a column, cost as much again in psycopg's dumping.) On SQLite, one
    executemany per table and an UPDATE."""
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
            _insert(table, columns, _encoded(columns, rows))
        if item_update:
            with connection.cursor() as cursor:
                cursor.execute(item_update, item_params)
        return
    if not parts and not item_update:
        return
    inserts, params = [], []
    for table, columns, rows in parts:
        names = ", ".join(columns)
        record = ", ".join(f"{column} {_RECORD_TYPES[column]}" for column in columns)
        inserts.append(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({record})"
        )
        params.append(_recordset(columns, rows))
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
        coordinates, metadata = json_text(a.coordinates), json_text(a.metadata)
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
            f'{{"id":{json_text(a.id)},"type":{json_text(a.type)},"label":{json_text(a.label)},"coordinates":{coordinates},'
            f'"metadata":{metadata},"description":{json_text(a.description)},"version":1,'
            f'"itemId":{json_text(a.item_id)},"datasetId":{json_text(a.dataset_id)}}}'
        )
        change_rows.append((a.id, a.item_id, AnnotationChange.Action.CREATED.value, 1, None, after, actor_id, at))
    _insert(Annotation._meta.db_table, ANNOTATION_COLUMNS, annotation_rows)
    _insert(AnnotationChange._meta.db_table, CHANGE_COLUMNS, change_rows)
