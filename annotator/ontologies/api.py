"""REST views for ontologies (labels, attributes) and recipes.

Thin by rule: parse, call one service or selector, serialize. Paths and bodies are the
ones dtlpy 1.126 uses (see shared/API-COMPAT.md); lists are Dataloop's paged shape,
which the SDK's PagedEntities reads, paged by `pageOffset` and `pageSize`.
"""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.accounts.api import validated
from annotator.core.errors import BadRequest
from annotator.ontologies import selectors, services
from annotator.ontologies.serializers import (
    AttributesDeleteInput,
    AttributesPatchInput,
    LabelsAddInput,
    LabelsPatchInput,
    OntologyCreateInput,
    OntologyPageSchema,
    OntologySchema,
    OntologyUpdateInput,
    RecipeCreateInput,
    RecipePageSchema,
    RecipeSchema,
    RecipeUpdateInput,
    ontology_json,
    paged_json,
    recipe_json,
)

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000

LIST_PARAMETERS = [
    OpenApiParameter("projects", OpenApiTypes.STR, description="Comma-separated project ids (default: all yours)."),
    OpenApiParameter("ids", OpenApiTypes.STR, description="Comma-separated ids to keep."),
    OpenApiParameter("pageOffset", OpenApiTypes.INT, description="Page number, from 0."),
    OpenApiParameter(
        "pageSize", OpenApiTypes.INT, description=f"At most {PAGE_SIZE_MAX}; {PAGE_SIZE_DEFAULT} by default."
    ),
]


def _csv(request: Request, name: str) -> list[str] | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}.", details={"field": name})
    return value


def _paged(request: Request, queryset, to_json) -> Response:
    page = _int_param(request, "pageOffset", 0, 0, 1_000_000)
    size = _int_param(request, "pageSize", PAGE_SIZE_DEFAULT, 1, PAGE_SIZE_MAX)
    total = queryset.count()
    rows = list(queryset[page * size : (page + 1) * size]) if total else []
    return Response(paged_json([to_json(row) for row in rows], total=total, page=page, page_size=size))


def _put_attributes(data: dict[str, Any]) -> list | None:
    """dtlpy sends attributes twice (metadata.attributes and attributes); metadata wins."""
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("attributes"), list):
        return metadata["attributes"]
    return data.get("attributes")


# --- ontologies ------------------------------------------------------------------------------------
class OntologyListView(APIView):
    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses={200: OntologyPageSchema},
        tags=["ontologies"],
        operation_id="ontology_list",
    )
    def get(self, request: Request) -> Response:
        ontologies = selectors.ontology_list(
            user=request.user, project_ids=_csv(request, "projects"), ids=_csv(request, "ids")
        )
        return _paged(request, ontologies, ontology_json)

    @extend_schema(request=OntologyCreateInput, responses={201: OntologySchema}, tags=["ontologies"])
    def post(self, request: Request) -> Response:
        data = validated(OntologyCreateInput, request.data)
        ontology = services.ontology_create(
            user=request.user,
            project_ids=data["projectIds"],
            title=data.get("title"),
            roots=data.get("roots"),
            attributes=_put_attributes(data),
        )
        return Response(ontology_json(ontology), status=status.HTTP_201_CREATED)


class OntologyDetailView(APIView):
    @extend_schema(responses={200: OntologySchema}, tags=["ontologies"])
    def get(self, request: Request, ontology_id: str) -> Response:
        return Response(ontology_json(selectors.ontology_get(user=request.user, ontology_id=ontology_id)))

    @extend_schema(request=OntologyUpdateInput, responses={200: OntologySchema}, tags=["ontologies"])
    def put(self, request: Request, ontology_id: str) -> Response:
        data = validated(OntologyUpdateInput, request.data)
        ontology = services.ontology_update(
            user=request.user,
            ontology_id=ontology_id,
            title=data.get("title"),
            roots=data.get("roots"),
            attributes=_put_attributes(data),
        )
        return Response(ontology_json(ontology))

    patch = put

    @extend_schema(responses={200: OpenApiResponse(description="Deleted.")}, tags=["ontologies"])
    def delete(self, request: Request, ontology_id: str) -> Response:
        services.ontology_delete(user=request.user, ontology_id=ontology_id)
        return Response(True)


class OntologyLabelsView(APIView):
    """dtlpy's add_labels / update_labels: the reply is the whole ontology."""

    @extend_schema(request=LabelsPatchInput, responses={200: OntologySchema}, tags=["ontologies"])
    def patch(self, request: Request, ontology_id: str) -> Response:
        data = validated(LabelsPatchInput, request.data)
        ontology = services.ontology_labels_upsert(
            user=request.user, ontology_id=ontology_id, labels=data["labelsNode"], upsert=data["upsert"]
        )
        return Response(ontology_json(ontology))


class OntologyAddLabelsView(APIView):
    """Dataloop's add-only variant: a tag that already exists is a 409."""

    @extend_schema(request=LabelsAddInput, responses={200: OntologySchema}, tags=["ontologies"])
    def patch(self, request: Request, ontology_id: str) -> Response:
        data = validated(LabelsAddInput, request.data)
        ontology = services.ontology_labels_add(user=request.user, ontology_id=ontology_id, labels=data["labelsNode"])
        return Response(ontology_json(ontology))


class OntologyAttributesView(APIView):
    """dtlpy's update_attributes (upsert by key) and delete_attributes (by keys)."""

    @extend_schema(request=AttributesPatchInput, responses={200: OntologySchema}, tags=["ontologies"])
    def patch(self, request: Request, ontology_id: str) -> Response:
        data = validated(AttributesPatchInput, request.data)
        ontology = services.ontology_attributes_upsert(
            user=request.user, ontology_id=ontology_id, items=data["items"], upsert=data["upsert"]
        )
        return Response(ontology_json(ontology))

    @extend_schema(request=AttributesDeleteInput, responses={200: OntologySchema}, tags=["ontologies"])
    def delete(self, request: Request, ontology_id: str) -> Response:
        data = validated(AttributesDeleteInput, request.data)
        ontology = services.ontology_attributes_delete(user=request.user, ontology_id=ontology_id, keys=data["keys"])
        return Response(ontology_json(ontology))


# --- recipes ---------------------------------------------------------------------------------------
class RecipeListView(APIView):
    @extend_schema(
        parameters=LIST_PARAMETERS, responses={200: RecipePageSchema}, tags=["recipes"], operation_id="recipe_list"
    )
    def get(self, request: Request) -> Response:
        recipes = selectors.recipe_list(
            user=request.user, project_ids=_csv(request, "projects"), ids=_csv(request, "ids")
        )
        return _paged(request, recipes, recipe_json)

    @extend_schema(request=RecipeCreateInput, responses={201: RecipeSchema}, tags=["recipes"])
    def post(self, request: Request) -> Response:
        data = validated(RecipeCreateInput, request.data)
        recipe = services.recipe_create(
            user=request.user,
            project_ids=data["projectIds"],
            title=data.get("title"),
            ontology_ids=data.get("ontologyIds"),
            instructions=data.get("instructions"),
            ui_settings=data.get("uiSettings"),
            label_tools=data.get("labelTools"),
        )
        return Response(recipe_json(recipe), status=status.HTTP_201_CREATED)


class RecipeDetailView(APIView):
    @extend_schema(responses={200: RecipeSchema}, tags=["recipes"])
    def get(self, request: Request, recipe_id: str) -> Response:
        return Response(recipe_json(selectors.recipe_get(user=request.user, recipe_id=recipe_id)))

    @extend_schema(request=RecipeUpdateInput, responses={200: RecipeSchema}, tags=["recipes"])
    def patch(self, request: Request, recipe_id: str) -> Response:
        data = validated(RecipeUpdateInput, request.data)
        recipe = services.recipe_update(
            user=request.user,
            recipe_id=recipe_id,
            title=data.get("title"),
            ontology_ids=data.get("ontologyIds"),
            instructions=data.get("instructions"),
            ui_settings=data.get("uiSettings"),
            label_tools=data.get("labelTools"),
        )
        return Response(recipe_json(recipe))

    put = patch

    @extend_schema(responses={200: OpenApiResponse(description="Deleted.")}, tags=["recipes"])
    def delete(self, request: Request, recipe_id: str) -> Response:
        services.recipe_delete(user=request.user, recipe_id=recipe_id)
        return Response(True)


class RecipeInstructionsView(APIView):
    """The recipe's instructions PDF: POST multipart `file` to set it, GET to download it."""

    parser_classes = [MultiPartParser]

    @extend_schema(tags=["recipes"], responses={200: OpenApiResponse(description="The PDF, as an attachment")})
    def get(self, request: Request, recipe_id: str):
        from annotator.datasets.documents import recipe_instructions_response

        return recipe_instructions_response(user=request.user, recipe_id=recipe_id)

    @extend_schema(
        tags=["recipes"],
        request={"multipart/form-data": inline_serializer("RecipeInstructions", {"file": drf_serializers.FileField()})},
        responses={200: RecipeSchema},
    )
    def post(self, request: Request, recipe_id: str) -> Response:
        from annotator.datasets.documents import recipe_instructions_upload

        document = request.FILES.get("file")
        if document is None:
            raise BadRequest("Send the PDF as the multipart field 'file'.", details={"file": "missing"})
        recipe = recipe_instructions_upload(user=request.user, recipe_id=recipe_id, fileobj=document)
        return Response(recipe_json(selectors.recipe_get(user=request.user, recipe_id=recipe.id)))
