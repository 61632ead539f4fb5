"""Entity JSON for datasets and items (Dataloop's shapes; dtlpy diffs against every key)."""

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from annotator.core.json import iso
from annotator.datasets.models import Dataset, Item

API = settings.API_BASE_PATH


def dataset_json(dataset: Dataset, *, directory_tree: dict | None = None) -> dict[str, Any]:
    metadata = dataset.metadata or {}
    data = {
        "id": dataset.id,
        "name": dataset.name,
        "projects": [dataset.project_id],
        "creator": dataset.creator.email if dataset.creator_id and dataset.creator else None,
        "metadata": {"system": dict(metadata.get("system") or {}), "user": dict(metadata.get("user") or {})},
        "itemsCount": dataset.items_count,
        "annotated": dataset.annotated_count,
        "annotationsCount": 0,
        "url": f"{API}/datasets/{dataset.id}",
        "items": f"{API}/datasets/{dataset.id}/items",
        "createdAt": iso(dataset.created_at),
        "updatedAt": iso(dataset.updated_at),
        "updatedBy": None,
        "readableType": "dataset",
        "accessLevel": "write",
        "readonly": False,
        "driver": None,
        "indexDriver": None,
        "isSyncing": False,
        "directoryTree": directory_tree,
    }
    return data


def item_refs(item: Item) -> list[dict[str, Any]]:
    """The item's task membership as dtlpy reads it: a `task` ref per task and an `assignment`
    ref per holder, each with `metadata.status` once the item has one. Computed from the task
    rows (the tasks app's `task_items`), so it is never out of step; list selectors prefetch it."""
    refs: list[dict[str, Any]] = []
    for task_item in item.task_items.all():
        meta = {"status": task_item.status} if task_item.status else {}
        refs.append({"type": "task", "id": task_item.task_id, "metadata": dict(meta)})
        if task_item.assignment_id:
            refs.append({"type": "assignment", "id": task_item.assignment_id, "metadata": dict(meta)})
    return refs


def item_without_task_items(item: Item) -> None:
    """Record that the item is in no task (a new item: none can hold it before it commits),
    as prefetch_related records task rows, so that item_refs asks no query. Prefetching keeps
    the rows in a queryset's result cache; a `.none()` queryset would be compiled on every read."""
    known = QuerySet(model=Item._meta.get_field("task_items").related_model)
    known._result_cache = []
    known._prefetch_done = True
    item._prefetched_objects_cache = {"task_items": known}


def item_json(item: Item) -> dict[str, Any]:
    metadata = item.metadata or {}
    system = dict(metadata.get("system") or {})
    system["refs"] = item_refs(item)
    item_url = f"{API}/items/{item.id}"
    return {
        "id": item.id,
        "datasetId": item.dataset_id,
        "filename": item.filename,
        "name": item.name,
        "dir": item.dir,
        "type": item.type,
        "hidden": item.hidden,
        "description": item.description or None,
        "metadata": {"system": system, "user": dict(metadata.get("user") or {})},
        "url": item_url,
        "stream": f"{item_url}/stream",
        "thumbnail": f"{item_url}/thumbnail",
        "dataset": f"{API}/datasets/{item.dataset_id}",
        "annotations": f"{item_url}/annotations",
        "annotationsCount": item.annotations_count,
        "annotated": item.annotated,
        "creator": item.creator.email if item.creator_id and item.creator else None,
        "updatedBy": item.updated_by.email if item.updated_by_id and item.updated_by else None,
        "createdAt": iso(item.created_at),
        "updatedAt": iso(item.updated_at),
    }
