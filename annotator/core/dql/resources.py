"""What each DQL resource exposes: its fields, its JSON columns and the resources it joins.

A resource spec is pure data. It names ORM fields as strings and resolves its model lazily,
so that core does not import the apps whose models it queries.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import Q

from annotator.core.dql.errors import invalid, quoted

# Letters, digits, "_" and "-" only: nothing the ORM or a JSON path could read as syntax.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_PATH_SEGMENTS = 16


class FieldKind(enum.Enum):
    STRING = "string"
    BOOLEAN = "boolean"
    NUMBER = "number"
    DATETIME = "datetime"


@dataclass(frozen=True)
class ColumnSpec:
    """A DQL field stored in a plain column (or a foreign key's `_id` column)."""

    column: str
    kind: FieldKind


@dataclass(frozen=True, eq=False)
class JoinSpec:
    """How a resource joins another one, as Dataloop spells it in `join.on`.

    Dataloop's `on` is `{"resource": <joined>, "local": <field of the joined resource>,
    "forigen": <field of this resource>}`, e.g. items join annotations on
    `{"resource": "annotations", "local": "itemId", "forigen": "id"}`. The join keeps the rows
    of this resource whose `base_column` is among the `joined_column` values of the joined rows
    that match the join's filter (a semi-join: no row is repeated).
    """

    resource: ResourceSpec
    local: str
    foreign: str
    base_column: str
    joined_column: str


VirtualField = Callable[[Any], Q]
"""Compiles the value given for a virtual field (a plain value or an operator object) to a Q;
raises BadRequest (via `invalid`) for what it does not support."""


def virtual_field(resource: ResourceSpec, name: str) -> Callable[[VirtualField], VirtualField]:
    """Register a computed DQL field on `resource` (an app does this in its ready())."""

    def register(compile_value: VirtualField) -> VirtualField:
        resource.virtual[name] = compile_value
        return compile_value

    return register


@dataclass(frozen=True)
class ColumnTarget:
    name: str
    column: str
    kind: FieldKind


@dataclass(frozen=True)
class JsonTarget:
    """A path into a JSON column: `metadata.user.split` is column `metadata`, keys (user, split)."""

    name: str
    column: str
    keys: tuple[str, ...]


Target = ColumnTarget | JsonTarget


@dataclass(frozen=True, eq=False)
class ResourceSpec:
    name: str
    model_label: str  # "app_label.ModelName"
    columns: Mapping[str, ColumnSpec]
    json_columns: Mapping[str, str]  # DQL prefix -> JSONField name, e.g. {"metadata": "metadata"}
    joins: Mapping[str, JoinSpec] = field(default_factory=lambda: MappingProxyType({}))
    # Fields computed by the app that owns them (see `virtual_field`), e.g. items'
    # `metadata.system.refs.id`, answered from task rows. Filled in at app start.
    virtual: dict[str, VirtualField] = field(default_factory=dict)
    # Columns that writes to other tables keep up to date (an item's `annotated`,
    # `annotationsCount` and `updatedAt` follow its annotations): a filter on them depends on
    # those writes too, so its count is not remembered.
    volatile: frozenset[str] = frozenset()

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    def resolve(self, name: str) -> Target:
        """The column or JSON path a DQL field name stands for; BadRequest naming it otherwise."""
        if name in self.columns:
            spec = self.columns[name]
            return ColumnTarget(name, spec.column, spec.kind)
        prefix, dot, path = name.partition(".")
        if prefix in self.json_columns:
            if not dot or not path:
                raise invalid(f"Field {quoted(name)} needs a path, e.g. {prefix}.user.myKey.", field=name)
            keys = tuple(path.split("."))
            if len(keys) > MAX_PATH_SEGMENTS:
                raise invalid(
                    f"Field {quoted(name)} is nested too deeply (at most {MAX_PATH_SEGMENTS} keys).", field=name
                )
            for key in keys:
                if not _SEGMENT.fullmatch(key) or "__" in key:
                    raise invalid(
                        f"Invalid field {quoted(name)}: each key of a {prefix} path may contain only letters, digits,"
                        " '_' and '-' (and no '__').",
                        field=name,
                    )
            return JsonTarget(name, self.json_columns[prefix], keys)
        known = ", ".join(sorted(self.columns)) + ", " + ", ".join(f"{p}.<path>" for p in sorted(self.json_columns))
        raise invalid(f"Unknown field {quoted(name)} for {self.name}; known fields: {known}.", field=name)


def _columns(**specs: tuple[str, FieldKind]) -> Mapping[str, ColumnSpec]:
    return MappingProxyType({name: ColumnSpec(column, kind) for name, (column, kind) in specs.items()})


S, B, N, D = FieldKind.STRING, FieldKind.BOOLEAN, FieldKind.NUMBER, FieldKind.DATETIME

ANNOTATIONS = ResourceSpec(
    name="annotations",
    model_label="annotations.Annotation",
    columns=_columns(
        id=("id", S),
        annotationId=("id", S),  # dtlpy's delete(annotation_id=[...]) filters on it
        itemId=("item_id", S),
        datasetId=("dataset_id", S),
        type=("type", S),
        label=("label", S),
        creator=("creator__email", S),
        updatedBy=("updated_by__email", S),
        createdAt=("created_at", D),
        updatedAt=("updated_at", D),
        version=("version", N),
        description=("description", S),
    ),
    json_columns=MappingProxyType({"metadata": "metadata"}),
)

ITEMS = ResourceSpec(
    name="items",
    model_label="datasets.Item",
    columns=_columns(
        id=("id", S),
        filename=("filename", S),
        name=("name", S),
        dir=("dir", S),
        type=("type", S),
        hidden=("hidden", B),
        createdAt=("created_at", D),
        updatedAt=("updated_at", D),
        annotated=("annotated", B),
        annotationsCount=("annotations_count", N),
        datasetId=("dataset_id", S),
        description=("description", S),
    ),
    json_columns=MappingProxyType({"metadata": "metadata"}),
    volatile=frozenset({"annotated", "annotationsCount", "updatedAt"}),
    joins=MappingProxyType(
        {
            "annotations": JoinSpec(
                ANNOTATIONS, local="itemId", foreign="id", base_column="id", joined_column="item_id"
            ),
        }
    ),
)

DATASETS = ResourceSpec(
    name="datasets",
    model_label="datasets.Dataset",
    columns=_columns(
        id=("id", S),
        name=("name", S),
        createdAt=("created_at", D),
        updatedAt=("updated_at", D),
        itemsCount=("items_count", N),
        annotated=("annotated_count", N),
        projects=("project_id", S),
        projectId=("project_id", S),
    ),
    json_columns=MappingProxyType({"metadata": "metadata"}),
)

RESOURCES: Mapping[str, ResourceSpec] = MappingProxyType({spec.name: spec for spec in (ITEMS, DATASETS, ANNOTATIONS)})
