"""REST views for datasets and items, shaped as dtlpy calls them (shared/API-COMPAT.md)."""

from collections.abc import Callable

from django.db.models import prefetch_related_objects
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.core.commands import command_json
from annotator.core.errors import BadRequest
from annotator.core.openapi import BINARY_RESPONSES, DELETED, JSON_ARRAY
from annotator.core.params import query_flag
from annotator.core.parsers import JSONParser
from annotator.datasets import selectors, services
from annotator.datasets.binaries import binary_response
from annotator.datasets.commands import (
    dataset_clone_start,
    datasets_merge_start,
    items_archive_upload_start,
    items_manifest_start,
)
from annotator.datasets.serializers import dataset_json, item_json

MAX_FILES_PER_REQUEST = 500
UPLOAD_FORM = inline_serializer(
    "ItemUpload",
    {
        "file": serializers.FileField(),
        "path": serializers.CharField(required=False, help_text="Remote path, e.g. /folder/name.png"),
        "type": serializers.CharField(required=False),
        "metadata": serializers.CharField(required=False, help_text='JSON, e.g. {"user": {"split": "train"}}'),
        "description": serializers.CharField(required=False, allow_blank=True, help_text="Empty: none"),
    },
)
ARCHIVE_FORM = inline_serializer(
    "ItemArchiveUpload",
    {
        "file": serializers.FileField(help_text="A zip of images"),
        "path": serializers.CharField(required=False, help_text="Folder to import into, e.g. /batch-7"),
    },
)
SYSTEM_PARAM = OpenApiParameter("system", bool, description="Allow changes to metadata.system (needs the role).")


def _object(data) -> dict:
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


class DatasetListView(APIView):
    @extend_schema(
        tags=["datasets"],
        operation_id="datasets_list",
        responses={200: OpenApiResponse(response=JSON_ARRAY, description="Datasets")},
    )
    def get(self, request: Request) -> Response:
        projects = request.query_params.getlist("projects") or None
        return Response([dataset_json(d) for d in selectors.dataset_list(user=request.user, project_ids=projects)])

    @extend_schema(
        tags=["datasets"],
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The dataset")},
    )
    def post(self, request: Request) -> Response:
        body = _object(request.data)
        projects = body.get("projects") or ([body["projectId"]] if body.get("projectId") else [])
        if not isinstance(projects, list) or len(projects) != 1 or not isinstance(projects[0], str):
            raise BadRequest("Give the dataset's project as projects: [projectId].", details={"projects": "invalid"})
        dataset = services.dataset_create(
            user=request.user,
            project_id=projects[0],
            name=body.get("name"),
            create_default_recipe=body.get("createDefaultRecipe", True) is not False,
        )
        return Response(dataset_json(dataset), status=status.HTTP_201_CREATED)


class DatasetQueryView(APIView):
    @extend_schema(
        tags=["datasets"],
        request=OpenApiTypes.OBJECT,
        operation_id="datasets_query",
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A page of datasets")},
    )
    def post(self, request: Request) -> Response:
        page = selectors.dataset_query(user=request.user, body=request.data)
        return Response(page.to_json(dataset_json))


class DatasetDetailView(APIView):
    @extend_schema(
        tags=["datasets"], responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The dataset")}
    )
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(dataset_json(dataset, directory_tree=selectors.directory_tree(dataset=dataset)))

    @extend_schema(
        tags=["datasets"],
        parameters=[SYSTEM_PARAM],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The dataset")},
    )
    def patch(self, request: Request, dataset_id: str) -> Response:
        dataset = services.dataset_update(
            user=request.user,
            dataset_id=dataset_id,
            changes=_object(request.data),
            system=query_flag(request, "system"),
        )
        return Response(dataset_json(dataset))

    put = patch

    @extend_schema(tags=["datasets"], responses={200: OpenApiResponse(response=DELETED, description="Deleted")})
    def delete(self, request: Request, dataset_id: str) -> Response:
        services.dataset_delete(user=request.user, dataset_id=dataset_id)
        return Response(True)


class ItemUploadView(APIView):
    """POST /datasets/{id}/items: multipart, as dtlpy streams it.

    One `file` field: `path` is the item's full path, and the reply is the item. Several
    `file` fields (bulk upload): `path` is the folder, each file is stored on its own, and
    the reply lists what happened to each (one bad file does not stop the others).
    """

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        tags=["items"],
        parameters=[OpenApiParameter("mode", str, enum=["skip", "overwrite"])],
        request={"multipart/form-data": UPLOAD_FORM},
        responses={
            201: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The new item (x-item-op: created)"),
            200: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="The existing item, skipped or overwritten (x-item-op), or with several files "
                "{items: [{op, item}], errors}",
            ),
        },
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        uploads = request.FILES.getlist("file")
        if not uploads:
            raise BadRequest("Send the image as the multipart field 'file'.", details={"file": "missing"})
        if len(uploads) > 1:
            return Response(self._bulk(request, dataset_id, uploads))
        upload = uploads[0]
        path = request.data.get("path") or f"/{upload.name}"
        item, op = services.item_upload(
            user=request.user,
            dataset_id=dataset_id,
            path=path,
            fileobj=upload,
            original_name=upload.name,
            metadata=request.data.get("metadata"),
            description=request.data.get("description"),
            mode=request.query_params.get("mode", "skip"),
        )
        response = Response(item_json(item), status=status.HTTP_201_CREATED if op == "created" else status.HTTP_200_OK)
        response["x-item-op"] = op
        return response

    def _bulk(self, request: Request, dataset_id: str, uploads: list) -> dict:
        if len(uploads) > MAX_FILES_PER_REQUEST:
            raise BadRequest(f"Send at most {MAX_FILES_PER_REQUEST} files per request, or a zip archive.")
        stored, errors = services.items_upload_many(
            user=request.user,
            dataset_id=dataset_id,
            folder=request.data.get("path") or "/",
            files=[(upload.name, upload) for upload in uploads],
            mode=request.query_params.get("mode", "skip"),
        )
        prefetch_related_objects([item for item, _op in stored], "task_items")  # their refs, in one query
        return {"items": [{"op": op, "item": item_json(item)} for item, op in stored], "errors": errors}


# Other resources queried through POST /datasets/{id}/query (dtlpy sends annotation queries
# there too), registered by the apps that own them: {resource name: view function}.
DATASET_QUERY_HANDLERS: dict[str, Callable[[Request, str], Response]] = {}


def dataset_query_handler(resource: str) -> Callable:
    def register(handler: Callable[[Request, str], Response]) -> Callable[[Request, str], Response]:
        DATASET_QUERY_HANDLERS[resource] = handler
        return handler

    return register


class ItemQueryView(APIView):
    @extend_schema(
        tags=["items"],
        request=OpenApiTypes.OBJECT,
        operation_id="items_query",
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A page of items, or a bulk result")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        resource = request.data.get("resource") if isinstance(request.data, dict) else None
        if isinstance(resource, str) and resource in DATASET_QUERY_HANDLERS:
            return DATASET_QUERY_HANDLERS[resource](request, dataset_id)
        dataset, compiled = selectors.item_query(user=request.user, dataset_id=dataset_id, body=request.data)
        if compiled.delete:
            return Response(services.items_bulk_delete(user=request.user, dataset=dataset, compiled=compiled))
        if compiled.update is not None:
            return Response(services.items_bulk_update(user=request.user, dataset=dataset, compiled=compiled))
        return Response(selectors.item_page(dataset=dataset, compiled=compiled).to_json(item_json))


class ItemDetailView(APIView):
    @extend_schema(
        tags=["items"], responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The item")}
    )
    def get(self, request: Request, item_id: str) -> Response:
        return Response(item_json(selectors.item_get(user=request.user, item_id=item_id)))

    @extend_schema(
        tags=["items"],
        parameters=[SYSTEM_PARAM],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The item")},
    )
    def patch(self, request: Request, item_id: str) -> Response:
        item = services.item_update(
            user=request.user, item_id=item_id, diff=_object(request.data), system=query_flag(request, "system")
        )
        return Response(item_json(item))

    put = patch

    @extend_schema(tags=["items"], responses={200: OpenApiResponse(response=DELETED, description="Deleted")})
    def delete(self, request: Request, item_id: str) -> Response:
        services.item_delete(user=request.user, item_id=item_id)
        return Response(True)


class ItemStreamView(APIView):
    @extend_schema(
        tags=["items"],
        responses=BINARY_RESPONSES,
        description="The item's bytes in its own media type; Range and If-None-Match supported.",
    )
    def get(self, request: Request, item_id: str):
        item = selectors.item_get(user=request.user, item_id=item_id)
        return binary_response(request, item, thumbnail=False)


class ItemThumbnailView(APIView):
    @extend_schema(
        tags=["items"],
        responses=BINARY_RESPONSES,
        description="A JPEG thumbnail (404 thumbnail_not_ready until it is made); If-None-Match supported.",
    )
    def get(self, request: Request, item_id: str):
        item = selectors.item_get(user=request.user, item_id=item_id)
        return binary_response(request, item, thumbnail=True)


class DatasetCloneView(APIView):
    @extend_schema(
        tags=["datasets"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command; spec.returnedModelId")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        body = _object(request.data)
        params = body.get("cloneDatasetParams") or {}
        if not isinstance(params, dict):
            raise BadRequest("cloneDatasetParams must be an object.")
        command = dataset_clone_start(
            user=request.user,
            dataset_id=dataset_id,
            name=body.get("name"),
            query=body.get("filter"),
            with_metadata=bool(params.get("withMetadata", True)),
            with_annotations=bool(params.get("withItemsAnnotations", True)),
            target_dataset_id=body.get("targetDatasetId"),
            target_directory=params.get("targetDirectory"),
        )
        return Response(command_json(command))


class DatasetMergeView(APIView):
    @extend_schema(
        tags=["datasets"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command")},
    )
    def post(self, request: Request) -> Response:
        body = _object(request.data)
        params = body.get("mergeDatasetParams") or {}
        if not isinstance(params, dict):
            raise BadRequest("mergeDatasetParams must be an object.")
        command = datasets_merge_start(
            user=request.user,
            name=body.get("name") or "",
            dataset_ids=body.get("datasetsIds"),
            with_metadata=bool(params.get("withMetadata", True)),
            with_annotations=bool(params.get("withItemsAnnotations", True)),
        )
        return Response(command_json(command))


class ItemArchiveUploadView(APIView):
    """POST /datasets/{id}/archive: a zip of images, checked now and imported as a Command."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["items"],
        parameters=[OpenApiParameter("mode", str, enum=["skip", "overwrite"])],
        request={"multipart/form-data": ARCHIVE_FORM},
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        archive = request.FILES.get("file")
        if archive is None:
            raise BadRequest("Send the zip as the multipart field 'file'.", details={"file": "missing"})
        command = items_archive_upload_start(
            user=request.user,
            dataset_id=dataset_id,
            fileobj=archive,
            target_dir=request.data.get("path"),
            mode=request.query_params.get("mode", "skip"),
        )
        return Response(command_json(command))


class ItemManifestView(APIView):
    """POST /datasets/{id}/manifest: NDJSON lines {url, path?, metadata?} registered as link items."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["items"],
        request={"multipart/form-data": inline_serializer("ItemManifest", {"file": serializers.FileField()})},
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        manifest = request.FILES.get("file")
        if manifest is None:
            raise BadRequest("Send the NDJSON manifest as the multipart field 'file'.", details={"file": "missing"})
        return Response(command_json(items_manifest_start(user=request.user, dataset_id=dataset_id, fileobj=manifest)))
