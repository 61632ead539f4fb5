"""Annotations against the dataset's recipe: labels, tools per label, attributes.

Rules:
- The label must be a tag of one of the recipe's ontologies, and the type one of the tools
  the recipe allows for that label (a label the recipe's `labelTools` does not name may use
  every tool). A dataset without a recipe takes any label.
- A `note` is the reviewer's pin, not a label of the ontology: its label is free text.
- `metadata.system.attributes` is `{key: value}` (attributes v2). Each key must be an
  attribute whose scope includes the label, and each value must fit its definition. A
  mandatory attribute may be left empty while work is in progress; `completion_errors`
  enforces it when an item is marked complete.
- Errors name the annotation (`where`) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection, connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from annotator.annotations.geometry import NOTE
from annotator.core.errors import BadRequest
from annotator.datasets.models import Dataset
from annotator.ontologies.attributes import attribute_applies_to, attribute_value_errors
from annotator.ontologies.models import Recipe
from annotator.ontologies.selectors import recipe_labels, recipe_ontologies

LABEL_MAX = 512


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


@dataclass
class RecipeRules:
    """What a dataset's recipe allows, read once per request."""

    has_recipe: bool = False
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # tag -> label value
    tools: dict[str, list[str]] = field(default_factory=dict)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    _attributes_by_label: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    @property
    def colors(self) -> dict[str, str]:
        return {tag: value.get("color") for tag, value in self.labels.items() if value.get("color")}

    def attributes_for(self, label: str) -> dict[str, dict[str, Any]]:
        known = self._attributes_by_label.get(label)
        if known is None:  # an import checks thousands of annotations of a few labels
            known = {a["key"]: a for a in self.attributes if attribute_applies_to(a, label)}
            self._attributes_by_label[label] = known
        return known

    def check(self, *, kind: str, label: Any, attributes: Any, where: str) -> None:
        if not isinstance(label, str) or not label.strip() or len(label) > LABEL_MAX:
            raise BadRequest(
                f"{where}: label must be text of 1 to {LABEL_MAX} characters.", details={"field": f"{where}.label"}
            )
        if not isinstance(attributes, dict):
            raise BadRequest(
                f"{where}: metadata.system.attributes must be an object of key: value.",
                details={"field": f"{where}.metadata.system.attributes"},
            )
        if not self.has_recipe or kind == NOTE:
            return
        if label not in self.labels:
            raise BadRequest(
                f"{where}: label {label!r} is not in the recipe's ontology.",
                code="invalid_label",
                details={"field": f"{where}.label", "label": label},
            )
        allowed = self.tools.get(label)
        if allowed and kind not in allowed:
            raise BadRequest(
                f"{where}: label {label!r} may be drawn as {', '.join(allowed)}, not as {kind}.",
                code="invalid_type",
                details={"field": f"{where}.type", "label": label, "allowed": allowed},
            )
        definitions = self.attributes_for(label)
        for key, value in attributes.items():
            definition = definitions.get(key)
            if definition is None:
                raise BadRequest(
                    f"{where}: attribute {key!r} does not apply to label {label!r}.",
                    code="invalid_attribute",
                    details={"field": f"{where}.metadata.system.attributes.{key}"},
                )
            if _empty(value):
                continue  # mandatory ones are enforced at completion
            errors = attribute_value_errors(definition, value)
            if errors:
                raise BadRequest(
                    f"{where}: {' '.join(errors)}",
                    code="invalid_attribute",
                    details={"field": f"{where}.metadata.system.attributes.{key}", "errors": errors},
                )

    def missing_mandatory(self, *, label: str, attributes: dict[str, Any]) -> list[str]:
        return [
            key
            for key, definition in self.attributes_for(label).items()
            if not definition.get("optional", True) and _empty(attributes.get(key))
        ]


def _dataset_recipe_id(dataset: Dataset) -> str | None:
    recipe_ids = ((dataset.metadata or {}).get("system") or {}).get("recipes") or []
    return recipe_ids[0] if recipe_ids else None


def dataset_recipe(dataset: Dataset) -> Recipe | None:
    recipe_id = _dataset_recipe_id(dataset)
    if recipe_id is None:
        return None
    return Recipe.objects.filter(pk=recipe_id, project_id=dataset.project_id).first()


# Rules built from a recipe, by what they were built from: the recipe's id and update time and
# its ontologies' ids and update times in order. Any change to the recipe, its ontology list
# or an ontology moves a time, so a stale entry is never looked up again. Per process, bounded.
_RULES_BUILT: dict[tuple, RecipeRules] = {}
_RULES_BUILT_MAX = 256
_RECIPE_STAMP_SQL = (
    "SELECT r.updated_at, o.id, o.updated_at FROM ontologies_recipe r "
    "LEFT JOIN ontologies_recipeontology l ON l.recipe_id = r.id "
    "LEFT JOIN ontologies_ontology o ON o.id = l.ontology_id "
    "WHERE r.id = %s AND r.project_id = %s ORDER BY l.position"
)


def _recipe_stamp(recipe_id: str, project_id: str) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(_RECIPE_STAMP_SQL, [recipe_id, project_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    return (recipe_id, rows[0][0], *((ontology_id, updated) for _, ontology_id, updated in rows if ontology_id))


# The same stamp as one text column of a query that reads the dataset's row (PostgreSQL), so an
# annotation write reads it with the item it locks: one round trip fewer. NULL without a recipe.
_RECIPE_STAMP_COLUMN = """(
    SELECT concat_ws(' ', r.id, r.updated_at, string_agg(o.id || '@' || o.updated_at, ' ' ORDER BY l.position))
    FROM ontologies_recipe r
    LEFT JOIN ontologies_recipeontology l ON l.recipe_id = r.id
    LEFT JOIN ontologies_ontology o ON o.id = l.ontology_id
    WHERE r.id = ("datasets_dataset"."metadata" #>> '{system,recipes,0}')
        AND r.project_id = "datasets_dataset"."project_id"
    GROUP BY r.id
)"""
RECIPE_STAMP_UNREAD = object()


def with_recipe_stamp(items: QuerySet) -> QuerySet:
    """`items` (joined to their dataset as "datasets_dataset") with each dataset's recipe stamp
    as `recipe_stamp`, for `recipe_rules(..., stamp=)`; on PostgreSQL. Elsewhere `items` as
    they are: SQLite's own query costs no round trip."""
    if connections[items.db].vendor != "postgresql":
        return items
    return items.annotate(recipe_stamp=RawSQL(_RECIPE_STAMP_COLUMN, ()))


def _rules_build(recipe: Recipe) -> RecipeRules:
    attributes: list[dict[str, Any]] = []
    seen: set[str] = set()
    ontologies = recipe_ontologies(recipe)
    for ontology in ontologies:
        for definition in ontology.attributes or []:
            if definition.get("key") not in seen:
                seen.add(definition.get("key"))
                attributes.append(definition)
    return RecipeRules(
        has_recipe=True,
        labels={value["tag"]: value for value in recipe_labels(recipe, ontologies)},
        tools=dict(recipe.label_tools or {}),
        attributes=attributes,
    )


def recipe_rules(dataset: Dataset, *, stamp: Any = RECIPE_STAMP_UNREAD) -> RecipeRules:
    """The dataset's recipe rules: one short query when this process has built them already
    (they were two queries that decode every ontology's label tree, then the build), none when
    the caller read the `stamp` already (`with_recipe_stamp`)."""
    if stamp is RECIPE_STAMP_UNREAD:
        recipe_id = _dataset_recipe_id(dataset)
        stamp = _recipe_stamp(recipe_id, dataset.project_id) if recipe_id else None
    if stamp is None:
        return RecipeRules()
    built = _RULES_BUILT.get(stamp)
    if built is None:
        recipe = dataset_recipe(dataset)
        if recipe is None:  # deleted since the stamp was read
            return RecipeRules()
        built = _rules_build(recipe)
        if len(_RULES_BUILT) >= _RULES_BUILT_MAX:
            _RULES_BUILT.clear()
        _RULES_BUILT[stamp] = built
    # A copy of the containers: a caller may add to them (an import adding labels it creates).
    return RecipeRules(
        has_recipe=True, labels=dict(built.labels), tools=dict(built.tools), attributes=list(built.attributes)
    )


def completion_errors(*, rules: RecipeRules, annotations) -> list[dict[str, Any]]:
    """One entry per annotation that lacks a mandatory attribute, naming the keys."""
    problems = []
    for annotation in annotations:
        if annotation.type == NOTE:
            continue
        attributes = ((annotation.metadata or {}).get("system") or {}).get("attributes") or {}
        missing = rules.missing_mandatory(label=annotation.label, attributes=attributes)
        if missing:
            problems.append({"annotationId": annotation.id, "label": annotation.label, "missing": missing})
    return problems
