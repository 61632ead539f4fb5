"""Task and assignment JSON, Dataloop-shaped (dtlpy's Task.from_json and Assignment.from_json)."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from annotator.core.json import iso
from annotator.tasks.models import Assignment, Task

API = settings.API_BASE_PATH


def _email(user) -> str | None:
    return user.email.lower() if user is not None else None


def task_json(task: Task, *, counts: dict[str, int] | None = None, assignment_ids: list[str] | None = None) -> dict:
    """`counts`: {status or "open": n} over the task's items (selectors.task_counts)."""
    counts = counts or {}
    total = sum(counts.values())
    done = total - counts.get("open", 0) - counts.get("issue", 0)
    system: dict[str, Any] = {}
    if task.allocation == Task.Allocation.PULLING:
        system = {
            "batchSize": task.batch_size,
            "maxBatchWorkload": task.max_batch_workload,
            "allowedAssignees": list((task.metadata or {}).get("allowedAssignees") or []),
        }
    spec: dict[str, Any] = {"type": task.type}
    if task.parent_id:
        spec["parentTaskId"] = task.parent_id
    return {
        "id": task.id,
        "name": task.name,
        "status": task.status,
        "projectId": task.project_id,
        "datasetId": task.dataset_id,
        "recipeId": task.recipe_id,
        "dueDate": task.due_date,
        "taskOwner": _email(task.creator),
        "creator": _email(task.creator),
        "query": json.dumps(task.query) if task.query is not None else None,
        "spec": spec,
        "priority": task.priority,
        "allocation": task.allocation,
        "assignmentIds": assignment_ids if assignment_ids is not None else [a.id for a in task.assignments.all()],
        "availableActions": list(task.available_actions or []),
        "qaStatuses": list(task.qa_statuses or []),
        "metadata": {"system": system, "user": dict((task.metadata or {}).get("user") or {})},
        "annotationStatus": [],
        "itemStatus": {key: value for key, value in counts.items() if key != "open"},
        "openItems": counts.get("open", 0),
        "progress": round(100 * done / total) if total else 0,
        "forReview": 0,
        "issues": counts.get("issue", 0),
        "totalItems": total,
        "description": {"content": task.description} if task.description else None,
        "url": f"{API}/annotationtasks/{task.id}",
        "createdAt": iso(task.created_at),
        "updatedAt": iso(task.updated_at),
    }


def assignment_json(assignment: Assignment, *, counts: dict[str, int] | None = None) -> dict:
    counts = counts or {}
    task = assignment.task
    return {
        "id": assignment.id,
        "name": f"{task.name}-{_email(assignment.annotator)}",
        "annotator": _email(assignment.annotator),
        "status": "active" if assignment.active else "removed",
        "projectId": task.project_id,
        "load": assignment.load,
        "metadata": {"system": {"taskId": task.id, "datasetId": task.dataset_id}},
        "url": f"{API}/assignments/{assignment.id}",
        "createdAt": iso(assignment.created_at),
        "updatedAt": iso(assignment.updated_at),
        "updatedBy": None,
        "totalItems": sum(counts.values()),
        "itemStatus": {key: value for key, value in counts.items() if key != "open"},
        "openItems": counts.get("open", 0),
        "annotationStatus": [],
        "forReview": 0,
        "issues": counts.get("issue", 0),
    }
