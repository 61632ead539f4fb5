"""Reads of tasks and assignments, limited to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from statistics import median
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from annotator.accounts.models import Membership, User
from annotator.core.dql import CompiledQuery, Page, compile_query, paginate
from annotator.core.errors import BadRequest
from annotator.tasks.models import Assignment, Task, TaskItem, TaskItemStatusChange
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


# A gap longer than this between two status changes by one person is a break, not work on an item.
WORK_GAP_MAX_SECONDS = 30 * 60


def task_stats(*, user: User, task_id: str) -> dict[str, Any]:
    """Throughput and time per item for a task's dashboard, per person who set statuses.

    Time per item is the median gap between one person's consecutive status changes in the
    task (gaps over WORK_GAP_MAX_SECONDS are breaks and left out).
    """
    task = task_get(user=user, task_id=task_id)
    hour_ago = timezone.now() - timedelta(hours=1)
    changes = (
        TaskItemStatusChange.objects.filter(task_item__task=task, status__isnull=False, actor__isnull=False)
        .order_by("actor_id", "at")
        .values_list("actor__email", "at")
    )
    people: dict[str, dict[str, Any]] = {}
    last: dict[str, Any] = {}
    gaps: dict[str, list[float]] = defaultdict(list)
    for email, at in changes:
        entry = people.setdefault(email.lower(), {"statuses": 0, "lastHour": 0})
        entry["statuses"] += 1
        if at >= hour_ago:
            entry["lastHour"] += 1
        previous = last.get(email)
        if previous is not None and (gap := (at - previous).total_seconds()) <= WORK_GAP_MAX_SECONDS:
            gaps[email.lower()].append(gap)
        last[email] = at
    for email, entry in people.items():
        entry["secondsPerItem"] = round(median(gaps[email]), 1) if gaps[email] else None
    return {"taskId": task.id, "people": people}


def project_tasks(*, user: User, project_id: str) -> list[Task]:
    """The project's tasks, newest first, each with `counts` ({status or "open": n}) and `progress`."""
    tasks = list(
        Task.objects.filter(project_id=project_id, project_id__in=_visible_projects(user))
        .select_related("dataset")
        .order_by("-id")
    )
    counts = task_counts([t.id for t in tasks])
    for task in tasks:
        task.counts = counts.get(task.id, {})
        total = sum(task.counts.values())
        done = total - task.counts.get(OPEN, 0) - task.counts.get("issue", 0)
        task.total_items, task.done_items = total, done
        task.progress = round(100 * done / total) if total else 0
    return tasks
