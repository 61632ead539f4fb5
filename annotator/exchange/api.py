"""REST views for exports and imports. `POST /datasets/{id}/export` is the route dtlpy's
`dataset.export` and `download_annotations` call; formats beyond Dataloop JSON are ours."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.core.commands import command_json
from annotator.core.errors import BadRequest
from annotator.core.parsers import JSONParser
from annotator.exchange.exporting import dataset_export_start
from annotator.exchange.importing import dataset_import_start
from annotator.exchange.selectors import export_list

IMPORT_FORM = inline_serializer(
    "DatasetImport",
    {
        "file": serializers.FileField(help_text="A zip (images and/or annotation files) or one annotation file"),
        "format": serializers.ChoiceField(choices=["dataloop", "coco", "yolo", "voc", "masks"]),
        "missingLabels": serializers.ChoiceField(choices=["add", "refuse"], required=False),
    },
)


def _flag(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"})


class DatasetExportView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=["exchange"],
        operation_id="datasets_export",
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command; spec.outputItemId")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object.")
        annotations = body.get("annotations")
        if annotations is not None and not isinstance(annotations, dict):
            raise BadRequest("annotations must be an object.", details={"field": "annotations"})
        export_type = body.get("exportType", "zip")
        if export_type not in ("json", "zip"):
            raise BadRequest("exportType must be json or zip.", details={"field": "exportType"})
        command = dataset_export_start(
            user=request.user,
            dataset_id=dataset_id,
            format_name=body.get("format", "dataloop"),
            query=body.get("itemsQuery"),
            task_status=body.get("taskStatus"),
            include_images=_flag(body.get("includeImages", False)),
            include_annotations=_flag((annotations or {}).get("include", True)),
            single_json=export_type == "json",
        )
        return Response(command_json(command))


class DatasetExportListView(APIView):
    @extend_schema(
        tags=["exchange"],
        operation_id="datasets_exports_list",
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The dataset's export commands")},
    )
    def get(self, request: Request, dataset_id: str) -> Response:
        return Response({"items": [command_json(c) for c in export_list(user=request.user, dataset_id=dataset_id)]})


class DatasetImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["exchange"],
        operation_id="datasets_import",
        request={"multipart/form-data": IMPORT_FORM},
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A Command; spec.report")},
    )
    def post(self, request: Request, dataset_id: str) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise BadRequest("Send the file as the multipart field 'file'.", details={"file": "missing"})
        command = dataset_import_start(
            user=request.user,
            dataset_id=dataset_id,
            format_name=request.data.get("format", ""),
            fileobj=upload,
            filename=upload.name or "upload",
            missing_labels=request.data.get("missingLabels", "add"),
        )
        return Response(command_json(command))
