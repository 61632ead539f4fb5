"""REST views for annotations, shaped as dtlpy calls them (shared/API-COMPAT.md, docs/NOTES.md)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.annotations import selectors, services
from annotator.annotations.commands import annotations_bulk
from annotator.annotations.serializers import MASK_FORMATS, annotation_json, change_json
from annotator.annotations.validation import completion_errors
from annotator.core.commands import command_json
from annotator.core.errors import BadRequest
from annotator.core.models import Command
from annotator.core.openapi import ANNOTATIONS_BODY, JSON_ARRAY
from annotator.core.params import query_flag
from annotator.datasets.api import dataset_query_handler
from annotator.datasets.services import dataset_require

MASK_FORMAT_PARAM = OpenApiParameter(
    "maskFormat", str, enum=list(MASK_FORMATS), description="png (default): masks as PNG data URLs; rle: COCO RLE"
)
SYSTEM_PARAM = OpenApiParameter("system", bool, description="Apply metadata.system changes besides attributes.")
OBJECT = OpenApiResponse(response=OpenApiTypes.OBJECT)


def _mask_format(request: Request) -> str:
    value = request.query_params.get("maskFormat", "png")
    if value not in MASK_FORMATS:
        raise BadRequest(f"maskFormat must be one of {', '.join(MASK_FORMATS)}.", details={"maskFormat": value})
    return value


def _dump(annotations, *, mask_format: str, rules) -> list[dict]:
    """Annotations (or with_authors rows) as JSON."""
    colors = rules.colors
    return [
        annotation_json(selectors.row(a) if isinstance(a, dict) else a, mask_format=mask_format, colors=colors)
        for a in annotations
    ]


def _int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= high:
        raise BadRequest(f"{name} must be an integer from 0 to {high}.", details={name: raw})
    return int(raw)


@dataset_query_handler("annotations")
def annotation_query(request: Request, dataset_id: str) -> Response:
    """POST /datasets/{id}/query with resource "annotations": a page, or a bulk update or delete."""
    dataset = dataset_require(user=request.user, dataset_id=dataset_id, operation="annotation.view")
    compiled = selectors.annotation_compile(request.data)
    if compiled.delete or compiled.update is not None:
        outcome = annotations_bulk(user=request.user, dataset=dataset, compiled=compiled, body=request.data)
        if isinstance(outcome, Command):
            return Response(command_json(outcome), status=status.HTTP_202_ACCEPTED)
        return Response(outcome)
    page = selectors.annotation_page(dataset=dataset, compiled=compiled)
    mask_format = _mask_format(request)
    colors = selectors.recipe_rules(dataset).colors
    return Response(page.to_json(lambda a: annotation_json(selectors.row(a), mask_format=mask_format, colors=colors)))


class ItemAnnotationsView(APIView):
    @extend_schema(
        tags=["annotations"],
        operation_id="item_annotations_list",
        parameters=[MASK_FORMAT_PARAM],
        responses={200: OpenApiResponse(response=JSON_ARRAY, description="The item's annotations")},
    )
    def get(self, request: Request, item_id: str) -> Response:
        mask_format = _mask_format(request)
        _item, rows, rules = selectors.item_annotations(user=request.user, item_id=item_id)
        return Response(_dump(rows, mask_format=mask_format, rules=rules))

    @extend_schema(
        tags=["annotations"],
        operation_id="item_annotations_create",
        parameters=[MASK_FORMAT_PARAM],
        request={"application/json": ANNOTATIONS_BODY},
        responses={201: OpenApiResponse(response=JSON_ARRAY, description="The created annotations")},
    )
    def post(self, request: Request, item_id: str) -> Response:
        mask_format = _mask_format(request)
        created, rules = services.annotations_create(user=request.user, item_id=item_id, annotations=request.data)
        return Response(_dump(created, mask_format=mask_format, rules=rules), status=status.HTTP_201_CREATED)


class ItemAnnotationsBatchView(APIView):
    # annotations_batch locks the item through the caller's membership before anything else.
    entities_checked_by_service = ("item_id",)

    @extend_schema(
        tags=["annotations"],
        operation_id="item_annotations_batch",
        parameters=[MASK_FORMAT_PARAM],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="{created, updated, deleted}")},
    )
    def post(self, request: Request, item_id: str) -> Response:
        mask_format = _mask_format(request)
        ctx = services.annotations_batch(user=request.user, item_id=item_id, body=request.data)
        return Response(
            {
                "created": ctx.written_json(ctx.created, mask_format=mask_format),
                "updated": ctx.written_json(ctx.updated, mask_format=mask_format),
                "deleted": ctx.deleted,
                "annotationsCount": ctx.item.annotations_count,
            }
        )


class ItemAnnotationsHistoryView(APIView):
    @extend_schema(
        tags=["annotations"],
        operation_id="item_annotations_history",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("pageSize", int)],
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="A page of changes, newest first")},
    )
    def get(self, request: Request, item_id: str) -> Response:
        page = _int(request, "page", 0, 1_000_000)
        page_size = max(1, _int(request, "pageSize", 100, selectors.HISTORY_PAGE_MAX))
        changes, total = selectors.item_history(user=request.user, item_id=item_id, page=page, page_size=page_size)
        return Response(
            {
                "items": [change_json(c) for c in changes],
                "totalItemsCount": total,
                "totalPagesCount": -(-total // page_size),
                "hasNextPage": (page + 1) * page_size < total,
            }
        )


class ItemCompletionView(APIView):
    @extend_schema(
        tags=["annotations"],
        operation_id="item_annotations_completion",
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="{complete, problems}")},
    )
    def get(self, request: Request, item_id: str) -> Response:
        """Whether the item may be marked complete: every mandatory attribute has a value."""
        _item, rows, rules = selectors.item_annotations(user=request.user, item_id=item_id)
        problems = completion_errors(rules=rules, annotations=map(selectors.row, rows))
        return Response({"complete": not problems, "problems": problems})


class AnnotationDetailView(APIView):
    @extend_schema(tags=["annotations"], parameters=[MASK_FORMAT_PARAM], responses={200: OBJECT})
    def get(self, request: Request, annotation_id: str) -> Response:
        annotation, rules = selectors.annotation_get(user=request.user, annotation_id=annotation_id)
        return Response(annotation_json(annotation, mask_format=_mask_format(request), colors=rules.colors))

    @extend_schema(
        tags=["annotations"],
        parameters=[SYSTEM_PARAM, MASK_FORMAT_PARAM],
        request=OpenApiTypes.OBJECT,
        responses={200: OBJECT},
    )
    def put(self, request: Request, annotation_id: str) -> Response:
        mask_format = _mask_format(request)
        system = query_flag(request, "system")
        annotation, rules = services.annotation_update(
            user=request.user, annotation_id=annotation_id, diff=request.data, system=system
        )
        return Response(annotation_json(annotation, mask_format=mask_format, colors=rules.colors))

    patch = put

    @extend_schema(tags=["annotations"], request=OpenApiTypes.OBJECT, responses={200: OBJECT})
    def delete(self, request: Request, annotation_id: str) -> Response:
        # dtlpy sends {"username": ...}; a client may send {"version": n} to delete only that version.
        version = request.data.get("version") if isinstance(request.data, dict) else None
        services.annotation_delete(user=request.user, annotation_id=annotation_id, version=version)
        return Response({"id": annotation_id, "deleted": True})


class AnnotationHistoryView(APIView):
    @extend_schema(
        tags=["annotations"],
        operation_id="annotation_history",
        responses={200: OpenApiResponse(response=JSON_ARRAY, description="The changes, oldest first")},
    )
    def get(self, request: Request, annotation_id: str) -> Response:
        return Response(
            [change_json(c) for c in selectors.annotation_history(user=request.user, annotation_id=annotation_id)]
        )


class AnnotationRestoreView(APIView):
    @extend_schema(tags=["annotations"], parameters=[MASK_FORMAT_PARAM], request=None, responses={201: OBJECT})
    def post(self, request: Request, annotation_id: str) -> Response:
        mask_format = _mask_format(request)
        annotation, rules = services.annotation_restore(user=request.user, annotation_id=annotation_id)
        return Response(
            annotation_json(annotation, mask_format=mask_format, colors=rules.colors), status=status.HTTP_201_CREATED
        )


class AnnotationStatusView(APIView):
    @extend_schema(
        tags=["annotations"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="{annotation, note}")},
    )
    def post(self, request: Request, annotation_id: str) -> Response:
        """Set the review status (issue, review, approved, or null to clear), with an optional message."""
        body = request.data if isinstance(request.data, dict) else None
        if body is None or "status" not in body:
            raise BadRequest("Give {status, message?, version?}.", details={"status": "required"})
        annotation, note, rules = services.annotation_status_set(
            user=request.user,
            annotation_id=annotation_id,
            status=body["status"],
            message=body.get("message"),
            version=body.get("version"),
        )
        colors = rules.colors
        return Response(
            {
                "annotation": annotation_json(annotation, colors=colors),
                "note": annotation_json(note, colors=colors) if note is not None else None,
            }
        )


class NoteMessagesView(APIView):
    @extend_schema(
        tags=["annotations"],
        operation_id="note_messages_add",
        request=OpenApiTypes.OBJECT,
        responses={201: OpenApiResponse(response=OpenApiTypes.OBJECT, description="The note with the reply appended")},
    )
    def post(self, request: Request, annotation_id: str) -> Response:
        """Reply to a note: append `{body}` to its thread as `{id, creator, time, body}`."""
        body = request.data.get("body") if isinstance(request.data, dict) else None
        note, rules = services.note_message_add(user=request.user, note_id=annotation_id, body=body)
        return Response(annotation_json(note, colors=rules.colors), status=status.HTTP_201_CREATED)
