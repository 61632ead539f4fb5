"""Reads of tasks and assignments, limited to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from annotator.accounts.models import Membership, User
from annotator.core.dql import CompiledQuery, Page, compile_query, paginate
from annotator.core.errors import BadRequest
from annotator.tasks.models import Assignment, Task, TaskItem
from annotator.tasks.resources import TASKS
from annotator.tasks.services import assignment_require, task_require

OPEN = "open"


def _visible_projects(user: User):
    return Membership.objects.filter(user=user).values("project_id")


def task_get(*, user: User, task_id: str) -> Task:
    return task_require(user=user, task_id=task_id, operation="task.view")


def task_counts(task_ids: list[str]) -> dict[str, dict[str, int]]:
    """{task id: {status or "open": items}} in one query."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = TaskItem.objects.filter(task_id__in=task_ids).values("task_id", "status").annotate(n=Count("id"))
    for row in rows:
        counts[row["task_id"]][row["status"] or OPEN] = row["n"]
    return counts


def assignment_counts(assignment_ids: list[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        TaskItem.objects.filter(assignment_id__in=assignment_ids)
        .values("assignment_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["assignment_id"]][row["status"] or OPEN] = row["n"]
    return counts


def assignment_ids_by_task(task_ids: list[str]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = defaultdict(list)
    for task_id, assignment_id in (
        Assignment.objects.filter(task_id__in=task_ids).order_by("id").values_list("task_id", "id")
    ):
        ids[task_id].append(assignment_id)
    return ids


def task_query(*, user: User, body: Any) -> tuple[Page, CompiledQuery]:
    """POST /annotationtasks/query: DQL over the tasks of the user's projects (context.projectIds narrows)."""
    if not isinstance(body, dict):
        raise BadRequest("The query must be a JSON object.")
    body = {**body, "resource": "tasks"}
    compiled = compile_query(body, resource=TASKS)
    if compiled.update is not None or compiled.delete:
        raise BadRequest("Tasks cannot be updated or deleted by query.")
    queryset = Task.objects.filter(project_id__in=_visible_projects(user)).select_related("creator")
    projects = (compiled.context or {}).get("projectIds") or (compiled.context or {}).get("projects")
    if projects is not None:
        if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
            raise BadRequest("context.projectIds must be a list of project ids.")
        queryset = queryset.filter(project_id__in=projects)
    return paginate(compiled.apply(queryset), compiled), compiled


def assignment_list(
    *,
    user: User,
    project_ids: list[str] | None,
    task_id: str | None = None,
    annotator: str | None = None,
) -> QuerySet[Assignment]:
    queryset = Assignment.objects.filter(task__project_id__in=_visible_projects(user)).select_related(
        "annotator", "task"
    )
    if project_ids:
        queryset = queryset.filter(task__project_id__in=project_ids)
    if task_id:
        queryset = queryset.filter(task_id=task_id)
    if annotator:
        queryset = queryset.filter(Q(annotator__email__iexact=annotator) | Q(annotator_id=annotator))
    return queryset.order_by("id")


def assignment_get(*, user: User, assignment_id: str) -> Assignment:
    return assignment_require(user=user, assignment_id=assignment_id, operation="task.view")


def my_assignments(*, user: User) -> QuerySet[Assignment]:
    """The user's active assignments, soonest due first."""
    return (
        Assignment.objects.filter(annotator=user, active=True, task__project_id__in=_visible_projects(user))
        .select_related("task", "task__dataset", "annotator")
        .order_by("task__due_date", "id")
    )
