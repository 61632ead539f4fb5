"""REST views for tasks and assignments, shaped as dtlpy calls them (see docs/NOTES.md, Tasks)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.core.commands import command_json
from annotator.core.errors import BadRequest
from annotator.core.openapi import JSON_ARRAY
from annotator.datasets.serializers import item_json
from annotator.tasks import queue, selectors, services
from annotator.tasks.models import Assignment, Task, TaskItem
from annotator.tasks.serializers import assignment_json, task_json

OBJECT = OpenApiResponse(response=OpenApiTypes.OBJECT)
PAGE_SIZE_MAX = 1000
QUEUE_PAGE_SIZE = 100


def _body(request: Request) -> dict:
    if not isinstance(request.data, dict):
        raise BadRequest("The body is a JSON object.")
    return request.data


def _tasks_json(tasks: list[Task]) -> list[dict]:
    ids = [t.id for t in tasks]
    counts, assignment_ids = selectors.task_counts(ids), selectors.assignment_ids_by_task(ids)
    return [task_json(t, counts=counts.get(t.id), assignment_ids=assignment_ids.get(t.id, [])) for t in tasks]


def _task_response(task: Task) -> Response:
    return Response(_tasks_json([task])[0])


def _assignments_json(assignments: list[Assignment]) -> list[dict]:
    counts = selectors.assignment_counts([a.id for a in assignments])
    return [assignment_json(a, counts=counts.get(a.id)) for a in assignments]


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > high:
        raise BadRequest(f"{name} must be an integer from 0 to {high}.", details={name: raw})
    return int(raw)


def _task_item_json(task_item: TaskItem) -> dict:
    return {
        "taskId": task_item.task_id,
        "assignmentId": task_item.assignment_id,
        "status": task_item.status,
        "reopened": task_item.reopened_at is not None,
        "item": item_json(task_item.item),
    }


class TaskListView(APIView):
    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, responses={200: OBJECT})
    def post(self, request: Request) -> Response:
        """Create a task: the reply is a Command whose spec.createdTaskId names it."""
        return Response(command_json(services.task_create_start(user=request.user, body=request.data)))


class TaskQueryView(APIView):
    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="tasks_query", responses={200: OBJECT})
    def post(self, request: Request) -> Response:
        page, _compiled = selectors.task_query(user=request.user, body=request.data)
        data = page.to_json(lambda task: task)
        data["items"] = _tasks_json(data["items"])
        return Response(data)


class TaskDetailView(APIView):
    @extend_schema(tags=["tasks"], responses={200: OBJECT})
    def get(self, request: Request, task_id: str) -> Response:
        return _task_response(selectors.task_get(user=request.user, task_id=task_id))

    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, responses={200: OBJECT})
    def patch(self, request: Request, task_id: str) -> Response:
        return _task_response(services.task_update(user=request.user, task_id=task_id, body=request.data))

    put = patch

    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, responses={200: OBJECT})
    def delete(self, request: Request, task_id: str) -> Response:
        return Response(command_json(services.task_delete(user=request.user, task_id=task_id)))


class TaskStatsView(APIView):
    @extend_schema(tags=["tasks"], operation_id="tasks_stats", responses={200: OBJECT})
    def get(self, request: Request, task_id: str) -> Response:
        """Throughput (statuses set in the last hour) and median time per item, per person."""
        return Response(selectors.task_stats(user=request.user, task_id=task_id))


class TaskAddItemsView(APIView):
    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="tasks_add_items", responses={200: OBJECT})
    def post(self, request: Request, task_id: str) -> Response:
        return Response(command_json(services.task_items_add(user=request.user, task_id=task_id, body=request.data)))


class TaskRemoveItemsView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="tasks_remove_items", responses={200: OBJECT}
    )
    def post(self, request: Request, task_id: str) -> Response:
        command = services.task_items_remove(user=request.user, task_id=task_id, body=request.data)
        return Response(command_json(command))


class TaskAnnotatorsView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="tasks_annotators_add", responses={201: OBJECT}
    )
    def post(self, request: Request, task_id: str) -> Response:
        """Add an annotator ({annotator: email, load?}); on a pulling task they may pull at once."""
        body = _body(request)
        assignment = services.task_annotator_add(
            user=request.user, task_id=task_id, annotator=body.get("annotator"), load=body.get("load")
        )
        return Response(_assignments_json([assignment])[0], status=201)


class TaskAnnotatorRemoveView(APIView):
    @extend_schema(tags=["tasks"], request=None, operation_id="tasks_annotators_remove", responses={200: OBJECT})
    def delete(self, request: Request, task_id: str, assignment_id: str) -> Response:
        """Take an annotator off the task; their unfinished items return to the queue or the others."""
        moved = services.task_annotator_remove(user=request.user, task_id=task_id, assignment_id=assignment_id)
        return Response({"assignmentId": assignment_id, "itemsMoved": moved})


class TaskPullView(APIView):
    @extend_schema(tags=["tasks"], request=None, operation_id="tasks_pull", responses={200: OBJECT})
    def post(self, request: Request, task_id: str) -> Response:
        """Pull the next batch from a pulling task's queue."""
        pulled = queue.assignment_pull(user=request.user, task_id=task_id)
        return Response({"items": [_task_item_json(t) for t in pulled]})


class TaskNextView(APIView):
    @extend_schema(tags=["tasks"], operation_id="tasks_next", responses={200: OBJECT})
    def get(self, request: Request, task_id: str) -> Response:
        """The caller's next item in the task (pulling more when their hands are empty), or null."""
        task_item = queue.assignment_next(user=request.user, task_id=task_id)
        return Response({"next": _task_item_json(task_item) if task_item is not None else None})


class TaskItemStatusView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="tasks_items_status", responses={200: OBJECT}
    )
    def post(self, request: Request, task_id: str) -> Response:
        """dtlpy: {"itemIds": [...], "statusPayload": {"operation": "create"|"delete", "status"}};
        the reply maps each item id to its new and last status."""
        body = _body(request)
        payload = body.get("statusPayload") if isinstance(body.get("statusPayload"), dict) else body
        result = queue.item_statuses_set(
            user=request.user,
            task_id=task_id,
            item_ids=body.get("itemIds"),
            status=payload.get("status"),
            operation=payload.get("operation", "create"),
        )
        return Response(result)


class AssignmentItemStatusView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="assignments_item_status", responses={200: OBJECT}
    )
    def post(self, request: Request, assignment_id: str, item_id: str) -> Response:
        body = _body(request)
        assignment = selectors.assignment_get(user=request.user, assignment_id=assignment_id)
        result = queue.item_statuses_set(
            user=request.user,
            task_id=assignment.task_id,
            item_ids=[item_id],
            status=body.get("status"),
            operation=body.get("operation", "create"),
            assignment_id=assignment.id,
        )
        return Response(result)


class AssignmentListView(APIView):
    @extend_schema(tags=["tasks"], operation_id="assignments_list", responses={200: OBJECT})
    def get(self, request: Request) -> Response:
        projects = [p for value in request.query_params.getlist("projects") for p in value.split(",") if p]
        page = _int_param(request, "pageOffset", 0, 1_000_000)
        size = max(1, _int_param(request, "pageSize", 500, PAGE_SIZE_MAX))
        queryset = selectors.assignment_list(
            user=request.user,
            project_ids=projects or None,
            task_id=request.query_params.get("taskId"),
            annotator=request.query_params.get("annotator"),
        )
        total = queryset.count()
        rows = list(queryset[page * size : (page + 1) * size])
        return Response(
            {
                "items": _assignments_json(rows),
                "totalItemsCount": total,
                "totalPagesCount": -(-total // size),
                "hasNextPage": (page + 1) * size < total,
            }
        )


class MyAssignmentsView(APIView):
    @extend_schema(tags=["tasks"], operation_id="my_assignments", responses={200: JSON_ARRAY})
    def get(self, request: Request) -> Response:
        """The caller's active assignments with their tasks, soonest due first ("My work")."""
        assignments = list(selectors.my_assignments(user=request.user))
        tasks = _tasks_json([a.task for a in assignments])
        return Response([{**a, "task": t} for a, t in zip(_assignments_json(assignments), tasks, strict=True)])


class AssignmentDetailView(APIView):
    @extend_schema(tags=["tasks"], responses={200: OBJECT})
    def get(self, request: Request, assignment_id: str) -> Response:
        return Response(
            _assignments_json([selectors.assignment_get(user=request.user, assignment_id=assignment_id)])[0]
        )

    @extend_schema(tags=["tasks"], request=OpenApiTypes.OBJECT, responses={200: OBJECT})
    def patch(self, request: Request, assignment_id: str) -> Response:
        """dtlpy PATCHes the whole assignment back; nothing in it is editable, so it is read back.

        The body is still read, so that one that is not a JSON object is a 400, not ignored."""
        _body(request)
        return self.get(request, assignment_id)


class AssignmentQueueView(APIView):
    @extend_schema(
        tags=["tasks"],
        operation_id="assignments_queue",
        parameters=[
            OpenApiParameter("pageOffset", OpenApiTypes.INT, description="The page, from 0."),
            OpenApiParameter(
                "pageSize", OpenApiTypes.INT, description=f"At most {PAGE_SIZE_MAX}; {QUEUE_PAGE_SIZE} by default."
            ),
        ],
        responses={200: OBJECT},
    )
    def get(self, request: Request, assignment_id: str) -> Response:
        """A page of the assignment's open items in working order (reopened first), with
        `totalItemsCount` and `reopenedCount` over all of them."""
        page, reopened = queue.assignment_queue(
            user=request.user,
            assignment_id=assignment_id,
            page=_int_param(request, "pageOffset", 0, 1_000_000),
            page_size=max(1, _int_param(request, "pageSize", QUEUE_PAGE_SIZE, PAGE_SIZE_MAX)),
        )
        return Response(page.to_json(_task_item_json) | {"reopenedCount": reopened})


class AssignmentReassignView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="assignments_reassign", responses={200: OBJECT}
    )
    def post(self, request: Request, assignment_id: str) -> Response:
        command = services.assignment_reassign(
            user=request.user, assignment_id=assignment_id, annotator=_body(request).get("annotator")
        )
        return Response(command_json(command))


class AssignmentRedistributeView(APIView):
    @extend_schema(
        tags=["tasks"], request=OpenApiTypes.OBJECT, operation_id="assignments_redistribute", responses={200: OBJECT}
    )
    def post(self, request: Request, assignment_id: str) -> Response:
        command = services.assignment_redistribute(
            user=request.user, assignment_id=assignment_id, workload=_body(request).get("workload")
        )
        return Response(command_json(command))
