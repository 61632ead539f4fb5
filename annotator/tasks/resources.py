"""DQL for tasks (POST /annotationtasks/query), and the items fields dtlpy asks about task refs.

dtlpy reads and filters an item's task membership as `metadata.system.refs`: a list of
`{"type": "task"|"assignment", "id", "metadata": {"status"}}`. We keep that membership in
TaskItem rows and answer those filters from them:
- `{"metadata.system.refs.id": {"$in": [ids]}}` (also a plain id, `$eq`, `$ne`, `$nin`): items
  with a ref of that task or assignment id;
- `{"metadata.system.refs": {"$match": {"id", "type", "metadata": {"status": …}}}}`: items
  with a ref matching every given key; `status` takes a value, `{"$exists": bool}` or `$in`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from django.db.models import Q

from annotator.core.dql import ITEMS, ColumnSpec, FieldKind, ResourceSpec, virtual_field
from annotator.core.dql.errors import invalid
from annotator.tasks.models import TaskItem

S, N, D = FieldKind.STRING, FieldKind.NUMBER, FieldKind.DATETIME

TASKS = ResourceSpec(
    name="tasks",
    model_label="tasks.Task",
    columns=MappingProxyType(
        {
            name: ColumnSpec(column, kind)
            for name, (column, kind) in {
                "id": ("id", S),
                "name": ("name", S),
                "status": ("status", S),
                "projectId": ("project_id", S),
                "datasetId": ("dataset_id", S),
                "recipeId": ("recipe_id", S),
                "creator": ("creator__email", S),
                "dueDate": ("due_date", N),
                "priority": ("priority", N),
                "createdAt": ("created_at", D),
                "updatedAt": ("updated_at", D),
            }.items()
        }
    ),
    json_columns=MappingProxyType({"metadata": "metadata"}),
)


def _ids(value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value) and len(value) <= 10_000:
        return value
    raise invalid(f"{field} compares with an id or a list of ids.", field=field)


def _holding(ids: list[str]) -> Q:
    refs = TaskItem.objects.filter(Q(task_id__in=ids) | Q(assignment_id__in=ids)).values("item_id")
    return Q(id__in=refs)


@virtual_field(ITEMS, "metadata.system.refs.id")
def refs_id(value: Any) -> Q:
    field = "metadata.system.refs.id"
    if not isinstance(value, dict):
        return _holding(_ids(value, field))
    condition = Q()
    for operator, argument in value.items():
        if operator in ("$eq", "$in"):
            condition &= _holding(_ids(argument, field))
        elif operator in ("$ne", "$nin"):
            condition &= ~_holding(_ids(argument, field))
        else:
            raise invalid(f"{field} supports $eq, $in, $ne and $nin, not {operator}.", field=field, operator=operator)
    return condition


@virtual_field(ITEMS, "metadata.system.refs")
def refs_match(value: Any) -> Q:
    field = "metadata.system.refs"
    if not isinstance(value, dict) or set(value) != {"$match"} or not isinstance(value["$match"], dict):
        raise invalid(f"{field} supports only {{'$match': {{id, type, metadata: {{status}}}}}}.", field=field)
    match = value["$match"]
    unknown = set(match) - {"id", "type", "metadata"}
    if unknown:
        raise invalid(f"{field} $match knows id, type and metadata, not {sorted(unknown)}.", field=field)
    kind = match.get("type", "task")
    if kind not in ("task", "assignment"):
        raise invalid(f"{field} $match type is task or assignment.", field=field)
    rows = TaskItem.objects.all()
    if "id" in match:
        ids = _ids(match["id"], field)
        rows = rows.filter(**{f"{kind}_id__in": ids})
    elif kind == "assignment":
        rows = rows.exclude(assignment=None)
    metadata = match.get("metadata") or {}
    if not isinstance(metadata, dict) or set(metadata) - {"status"}:
        raise invalid(f"{field} $match metadata knows only status.", field=field)
    if "status" in metadata:
        status = metadata["status"]
        if isinstance(status, dict):
            for operator, argument in status.items():
                if operator == "$exists" and isinstance(argument, bool):
                    rows = rows.filter(status__isnull=not argument)
                elif operator == "$in" and isinstance(argument, list):
                    rows = rows.filter(status__in=[a for a in argument if isinstance(a, str)])
                elif operator == "$eq" and isinstance(argument, str | None):
                    rows = rows.filter(status=argument) if argument else rows.filter(status__isnull=True)
                else:
                    raise invalid(f"{field} status supports $exists, $eq and $in.", field=field)
        elif isinstance(status, str):
            rows = rows.filter(status=status)
        else:
            raise invalid(f"{field} status compares with text or an operator.", field=field)
    return Q(id__in=rows.values("item_id"))


@virtual_field(TASKS, "assignmentIds")
def task_assignment_ids(value: Any) -> Q:
    from annotator.tasks.models import Assignment

    ids = _ids(value.get("$in") if isinstance(value, dict) else value, "assignmentIds")
    return Q(id__in=Assignment.objects.filter(id__in=ids).values("task_id"))
