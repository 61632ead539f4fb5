"""Entity JSON for ontologies and recipes (Dataloop's shapes, camelCase).

These plain functions are the one shape per entity: the API, websocket events and
exports call them. dtlpy needs `id` and `roots` on an ontology (it KeyErrors without
them) and reads attributes from `metadata.attributes`, falling back to `attributes`;
it needs `id` on a recipe. The DRF serializers below only check the top level of
request bodies and describe shapes for the OpenAPI schema; the label tree and
attribute definitions are validated by labels.py and attributes.py.
"""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from annotator.core.json import iso
from annotator.core.params import StrictCharField
from annotator.ontologies.models import Ontology, Recipe

LABEL_TOOLS = ("box", "segment", "polyline", "binary", "point", "ellipse", "class", "note")


def _email(user) -> str | None:
    return user.email if user is not None else None


def ontology_json(ontology: Ontology) -> dict[str, Any]:
    project_ids = [ontology.project_id]
    return {
        "id": ontology.id,
        "title": ontology.title,
        "creator": _email(ontology.creator),
        "projectIds": project_ids,
        "roots": ontology.roots,
        "attributes": ontology.attributes,
        "metadata": {"system": {"projectIds": project_ids}, "attributes": ontology.attributes},
        "url": f"{settings.API_BASE_PATH}/ontologies/{ontology.id}",
        "createdAt": iso(ontology.created_at),
        "updatedAt": iso(ontology.updated_at),
        "updatedBy": _email(ontology.updated_by),
    }


def recipe_ontology_ids(recipe: Recipe) -> list[str]:
    """The ontology ids in order; uses `ontology_links` when prefetched (see selectors)."""
    links = recipe.ontology_links.all()
    return [link.ontology_id for link in sorted(links, key=lambda link: link.position)]


def recipe_json(recipe: Recipe) -> dict[str, Any]:
    project_ids = [recipe.project_id]
    system: dict[str, Any] = {"projectIds": project_ids}
    if recipe.instructions_blob_sha256:
        system["instructionDocument"] = {"blobSha256": recipe.instructions_blob_sha256}
    return {
        "id": recipe.id,
        "title": recipe.title,
        "creator": _email(recipe.creator),
        "projectIds": project_ids,
        "ontologyIds": recipe_ontology_ids(recipe),
        "instructions": recipe.instructions,
        "uiSettings": recipe.ui_settings,
        "labelTools": recipe.label_tools,
        "metadata": {"system": system},
        "url": f"{settings.API_BASE_PATH}/recipes/{recipe.id}",
        "createdAt": iso(recipe.created_at),
        "updatedAt": iso(recipe.updated_at),
        "updatedBy": _email(recipe.updated_by),
    }


def paged_json(items: list[dict[str, Any]], *, total: int, page: int, page_size: int) -> dict[str, Any]:
    """Dataloop's paged list, which dtlpy's PagedEntities reads."""
    pages = -(-total // page_size)
    return {
        "items": items,
        "totalItemsCount": total,
        "totalPagesCount": pages,
        "hasNextPage": page + 1 < pages,
    }


# --- input (top level only) and schema ------------------------------------------------------------
class OntologyCreateInput(serializers.Serializer):
    projectIds = serializers.ListField(child=StrictCharField(), min_length=1)
    roots = serializers.ListField(child=serializers.JSONField(), required=False)
    attributes = serializers.ListField(child=serializers.JSONField(), required=False)
    metadata = serializers.DictField(required=False)
    title = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)


class OntologyUpdateInput(serializers.Serializer):
    """PUT /ontologies/{id}: the whole ontology as dtlpy sends it; read-only keys are ignored."""

    roots = serializers.ListField(child=serializers.JSONField(), required=False)
    attributes = serializers.ListField(child=serializers.JSONField(), required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    title = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)


class LabelsPatchInput(serializers.Serializer):
    labelsNode = serializers.ListField(child=serializers.JSONField())
    upsert = serializers.BooleanField(required=False, default=False)


class LabelsAddInput(serializers.Serializer):
    labelsNode = serializers.ListField(child=serializers.JSONField())


class AttributesPatchInput(serializers.Serializer):
    items = serializers.ListField(child=serializers.JSONField())
    upsert = serializers.BooleanField(required=False, default=False)


class AttributesDeleteInput(serializers.Serializer):
    keys = serializers.ListField(child=StrictCharField(), min_length=1)


class RecipeCreateInput(serializers.Serializer):
    projectIds = serializers.ListField(child=StrictCharField(), min_length=1)
    title = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    ontologyIds = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    instructions = StrictCharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    uiSettings = serializers.DictField(required=False, allow_null=True)
    labelTools = serializers.DictField(required=False, allow_null=True)


class RecipeUpdateInput(serializers.Serializer):
    """PATCH /recipes/{id}: only the keys given (and not null) change; dtlpy sends the whole recipe."""

    title = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    ontologyIds = serializers.ListField(child=StrictCharField(), required=False, allow_null=True)
    instructions = StrictCharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    uiSettings = serializers.DictField(required=False, allow_null=True)
    labelTools = serializers.DictField(required=False, allow_null=True)


class OntologySchema(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    creator = serializers.EmailField(allow_null=True)
    projectIds = serializers.ListField(child=serializers.CharField())
    roots = serializers.ListField(child=serializers.DictField())
    attributes = serializers.ListField(child=serializers.DictField())
    metadata = serializers.DictField()
    url = serializers.CharField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class RecipeSchema(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    creator = serializers.EmailField(allow_null=True)
    projectIds = serializers.ListField(child=serializers.CharField())
    ontologyIds = serializers.ListField(child=serializers.CharField())
    instructions = serializers.CharField()
    uiSettings = serializers.DictField()
    labelTools = serializers.DictField(child=serializers.ListField(child=serializers.ChoiceField(LABEL_TOOLS)))
    metadata = serializers.DictField()
    url = serializers.CharField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class OntologyPageSchema(serializers.Serializer):
    items = OntologySchema(many=True)
    totalItemsCount = serializers.IntegerField()
    totalPagesCount = serializers.IntegerField()
    hasNextPage = serializers.BooleanField()


class RecipePageSchema(serializers.Serializer):
    items = RecipeSchema(many=True)
    totalItemsCount = serializers.IntegerField()
    totalPagesCount = serializers.IntegerField()
    hasNextPage = serializers.BooleanField()
