"""Reads of annotations and their history, limited to what the user may see."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
from django.db import connection
from django.db.models import F, QuerySet
from psycopg.types.datetime import TimestamptzLoader

from annotator.accounts.models import User
from annotator.annotations.geometry import BINARY
from annotator.annotations.models import Annotation, AnnotationChange
from annotator.annotations.services import annotation_item_id
from annotator.annotations.validation import RecipeRules, recipe_rules
from annotator.core.dql import ANNOTATIONS, CompiledQuery, Page, compile_query, paginate
from annotator.core.errors import BadRequest, NotFound
from annotator.core.ids import is_valid_id
from annotator.core.json import JsonText
from annotator.datasets.models import Dataset, Item
from annotator.datasets.services import item_require

ANNOTATION_RELATED = ("creator", "updated_by")
HISTORY_PAGE_MAX = 1000
ROW_FIELDS = (
    "id", "type", "label", "coordinates", "metadata", "description", "version",
    "item_id", "dataset_id", "created_at", "updated_at",
)  # fmt: skip


def with_authors(queryset: QuerySet[Annotation]) -> QuerySet:
    """Light rows for lists (dicts of the fields annotation_json reads, with `creator_email` and
    `updated_by_email`); read them through `row()`. Building an Annotation and two User
    instances per row cost more than everything else in a 2,000-annotation list."""
    return queryset.values(*ROW_FIELDS, creator_email=F("creator__email"), updated_by_email=F("updated_by__email"))


def row(values: dict) -> SimpleNamespace:
    """A with_authors() row read as attributes, as annotation_json and completion_errors read them."""
    return SimpleNamespace(**values)


def rows_fetch(queryset: QuerySet) -> list[dict]:
    """The with_authors() rows of `queryset`, read past Django's per-value converters on PostgreSQL,
    for annotation_json (a row's coordinates may be JSON text to pass on, but a mask's).

    Django loads each timestamp through a Python loader of its own and each JSON value through
    the field's converter: for a 2,000-annotation item that was ~25 ms of fetching where
    psycopg's own loaders take ~5. The session's time zone is UTC (Django sets it), so psycopg's
    timestamps are the same instants. Elsewhere: the queryset as it is.
    """
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)  # this cursor only
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    # jsonb arrives as text. The metadata is read; the coordinates, which the answer passes on
    # as they are, go into it as the text they came in (JsonText), but a mask's,
    # which becomes a PNG: parsing and writing them again was a fifth of a long list's CPU.
    at_type, at_coordinates, at_metadata = names.index("type"), names.index("coordinates"), names.index("metadata")
    result = []
    for values in rows:
        values = list(values)
        if values[at_metadata] is not None:
            values[at_metadata] = orjson.loads(values[at_metadata])
        coordinates = values[at_coordinates]
        if coordinates is not None:
            values[at_coordinates] = orjson.loads(coordinates) if values[at_type] == BINARY else JsonText(coordinates)
        result.append(dict(zip(names, values, strict=True)))
    return result


def item_annotations(*, user: User, item_id: str) -> tuple[Item, list[dict], RecipeRules]:
    """The item, its annotations in creation order (with_authors rows), and the recipe's rules
    (for mask colours)."""
    item = item_require(user=user, item_id=item_id, operation="annotation.view")
    rows = rows_fetch(with_authors(Annotation.objects.filter(item_id=item.id)).order_by("id"))
    return item, rows, recipe_rules(item.dataset)


def annotation_get(*, user: User, annotation_id: str) -> tuple[Annotation, RecipeRules]:
    item = item_require(user=user, item_id=annotation_item_id(user, annotation_id), operation="annotation.view")
    annotation = Annotation.objects.select_related(*ANNOTATION_RELATED).get(pk=annotation_id)
    return annotation, recipe_rules(item.dataset)


def annotation_compile(body: Any) -> CompiledQuery:
    if not isinstance(body, dict):
        raise BadRequest("The query must be a JSON object.")
    return compile_query(body, resource=ANNOTATIONS)


def annotation_page(*, dataset: Dataset, compiled: CompiledQuery) -> Page:
    matches = compiled.filter(Annotation.objects.filter(dataset=dataset))
    # Counted without the author joins, so PostgreSQL can count from the (dataset, label) index alone.
    return paginate(
        compiled.apply(with_authors(matches)), compiled, count=lambda _page: matches.count(), fetch=rows_fetch
    )


def item_history(*, user: User, item_id: str, page: int, page_size: int) -> tuple[list[AnnotationChange], int]:
    """An item's annotation changes, newest first, and how many there are."""
    item = item_require(user=user, item_id=item_id, operation="annotation.view")
    queryset = AnnotationChange.objects.filter(item_id=item.id).select_related("actor").order_by("-id")
    return list(queryset[page * page_size : (page + 1) * page_size]), queryset.count()


def annotation_history(*, user: User, annotation_id: str) -> list[AnnotationChange]:
    """One annotation's changes, oldest first; also for a deleted annotation."""
    change = (
        AnnotationChange.objects.filter(annotation_id=annotation_id).only("item_id").first()
        if is_valid_id(annotation_id)
        else None
    )
    if change is None:
        raise NotFound("Annotation not found.")
    item_require(user=user, item_id=change.item_id, operation="annotation.view")
    return list(AnnotationChange.objects.filter(annotation_id=annotation_id).select_related("actor").order_by("id"))
