"""Exports: a dataset (or a DQL selection of it, optionally only items with a given task
status) streamed through a format's writer into a zip, stored as an item of the project's
"Binaries" dataset so that dtlpy downloads it like any item (`command.spec.outputItemId`).

Items are read in keyset pages of `PAGE` with their annotations in one query per page, so
memory stays flat whatever the dataset's size; the zip is written to a temporary file and
its entries are streamed.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotator.accounts.models import User
from annotator.annotations.models import Annotation
from annotator.annotations.validation import recipe_rules
from annotator.core.commands import CommandFailed, Progress, SilentProgress, command_handler, command_start
from annotator.core.dql import ITEMS, compile_query
from annotator.core.errors import BadRequest
from annotator.core.json import iso
from annotator.core.models import Command
from annotator.datasets import storage
from annotator.datasets.models import Blob, Dataset, Item
from annotator.datasets.serializers import dataset_json, item_json
from annotator.datasets.services import dataset_items_changed, dataset_require
from annotator.exchange.formats import FORMAT_MODULES, get_format
from annotator.exchange.formats.base import ExportArchive, ExportContext, ExportItem, Label

PAGE = 500
API = settings.API_BASE_PATH
BINARIES_DATASET = "Binaries"
ANNOTATION_FIELDS = (
    "id",
    "item_id",
    "type",
    "label",
    "coordinates",
    "metadata",
    "description",
    "version",
    "creator__email",
    "updated_by__email",
    "created_at",
    "updated_at",
)


# --- what to export -------------------------------------------------------------------------------
def clean_format(name: Any) -> str:
    if name not in FORMAT_MODULES:
        raise BadRequest(
            f"format must be one of {', '.join(FORMAT_MODULES)}.", code="invalid_format", details={"field": "format"}
        )
    return name


def clean_items_query(query: Any) -> dict[str, Any] | None:
    """dtlpy's `itemsQuery` ({filter, join}, where join may be {}), checked now so that a bad
    query is a 400 rather than a failed command."""
    if query is None:
        return None
    if not isinstance(query, dict):
        raise BadRequest("itemsQuery must be a DQL query object.", details={"field": "itemsQuery"})
    body = {k: v for k, v in query.items() if k not in ("page", "pageSize", "sort", "resource")}
    if not body.get("join"):
        body.pop("join", None)
    compile_query(body, resource=ITEMS)
    return body


def clean_task_status(value: Any) -> dict[str, str] | None:
    """`{"taskId", "status"}`: only items with that status in that task (e.g. approved)."""
    if value is None:
        return None
    if not (
        isinstance(value, dict)
        and isinstance(value.get("taskId"), str)
        and isinstance(value.get("status"), str)
        and value["status"].strip()
    ):
        raise BadRequest("taskStatus must be {taskId, status}.", details={"field": "taskStatus"})
    return {"taskId": value["taskId"], "status": value["status"].strip()}


def selected_items(*, dataset: Dataset, query: dict | None, task_status: dict | None) -> QuerySet[Item]:
    items = Item.objects.filter(dataset=dataset, type=Item.Type.FILE)
    if query is not None:
        items = compile_query(query, resource=ITEMS).apply(items)
    if task_status is not None:
        from annotator.tasks.models import TaskItem  # tasks build on datasets

        items = items.filter(
            pk__in=TaskItem.objects.filter(
                task_id=task_status["taskId"], task__dataset=dataset, status=task_status["status"]
            ).values("item_id")
        )
    return items.order_by()


def export_labels(dataset: Dataset) -> tuple[list[Label], list[dict[str, Any]]]:
    """The ontology's labels, then labels in use but missing from it (sorted), and the
    attribute definitions."""
    rules = recipe_rules(dataset)
    labels = [
        Label(tag=tag, color=value.get("color") or "", display=value.get("displayLabel") or tag)
        for tag, value in rules.labels.items()
    ]
    known = set(rules.labels)
    used = Annotation.objects.filter(dataset=dataset).values_list("label", flat=True).distinct().order_by("label")
    labels += [Label(tag=tag, color="", display=tag) for tag in used if tag not in known]
    return labels, rules.attributes


def _annotation_dict(row: tuple) -> dict[str, Any]:
    (id_, item_id, kind, label, coordinates, metadata, description, version, creator, editor, created, updated) = row
    metadata = metadata or {}
    system = dict(metadata.get("system") or {})
    system.setdefault("status", None)
    system.setdefault("attributes", {})
    return {
        "id": id_,
        "type": kind,
        "label": label,
        "coordinates": coordinates,
        "attributes": None,
        "metadata": {"system": system, "user": dict(metadata.get("user") or {})},
        "description": description,
        "version": version,
        "itemId": item_id,
        "datasetId": None,  # filled by the caller, which knows it
        "creator": creator,
        "updatedBy": editor,
        "createdAt": iso(created),
        "updatedAt": iso(updated),
        "url": f"{API}/annotations/{id_}",
        "status": system.get("status"),
    }


def stream_items(items: QuerySet[Item], *, progress, total: int, with_annotations: bool = True) -> Iterator[ExportItem]:
    """ExportItems in id order, a page at a time with their annotations (masks as stored RLE)."""
    last, done = "", 0
    while True:
        page = list(
            items.filter(pk__gt=last)
            .select_related("blob", "creator", "updated_by")
            .prefetch_related("task_items")
            .order_by("pk")[:PAGE]
        )
        if not page:
            return
        last = page[-1].pk
        by_item: dict[str, list[dict[str, Any]]] = {item.pk: [] for item in page}
        rows = (
            Annotation.objects.filter(item_id__in=list(by_item) if with_annotations else [])
            .order_by("item_id", "id")
            .values_list(*ANNOTATION_FIELDS)
        )
        for row in rows.iterator(chunk_size=5000):
            annotation = _annotation_dict(row)
            by_item[annotation["itemId"]].append(annotation)
        for item in page:
            annotations = by_item[item.pk]
            for annotation in annotations:
                annotation["datasetId"] = item.dataset_id
            image = storage.media_path(item.blob.relative_path) if item.blob_id else None
            yield ExportItem(item=item_json(item), annotations=annotations, image_path=image)
            done += 1
        progress.update(100 * done / max(total, 1))


def export_to_path(
    *,
    user: User,
    dataset_id: str,
    format_name: str,
    path: Path,
    query: dict | None = None,
    task_status: dict | None = None,
    include_images: bool = False,
    include_annotations: bool = True,
    progress=None,
) -> dict[str, Any]:
    """Write the export zip to `path`; returns what it holds (items, annotations)."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="export.create")
    writer = get_format(clean_format(format_name))
    items = selected_items(dataset=dataset, query=query, task_status=task_status)
    total = items.count()
    labels, attributes = export_labels(dataset)
    context = ExportContext(
        dataset=dataset_json(dataset), labels=labels, attributes=attributes, include_images=include_images
    )
    counts = {"items": 0, "annotations": 0}

    def counted(stream: Iterator[ExportItem]) -> Iterator[ExportItem]:
        for export_item in stream:
            counts["items"] += 1
            counts["annotations"] += len(export_item.annotations)
            yield export_item

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        writer.write(
            counted(
                stream_items(
                    items, progress=progress or SilentProgress(), total=total, with_annotations=include_annotations
                )
            ),
            ExportArchive(archive),
            context,
        )
    return {"itemsCount": counts["items"], "annotationsCount": counts["annotations"]}


# --- the stored output ----------------------------------------------------------------------------
def binaries_dataset(project) -> Dataset:
    """The project's system dataset for export zips (created on first use)."""
    dataset = Dataset.objects.filter(project=project, system=True).first()
    if dataset is not None:
        return dataset
    name = BINARIES_DATASET
    if Dataset.objects.filter(project=project, name__iexact=name).exists():
        name = f"{BINARIES_DATASET} (system)"
    return Dataset.objects.create(project=project, name=name, system=True, metadata={"system": {}, "user": {}})


def export_output_store(
    *, user: User, dataset: Dataset, path: Path, name: str, mimetype: str, spec: dict[str, Any]
) -> Item:
    """Store the finished zip as an item of the Binaries dataset, content-addressed like images."""
    with path.open("rb") as handle:
        temp_path, sha256, size = storage.spool(handle, max_bytes=2**62)
    with transaction.atomic():
        binaries = Dataset.objects.select_for_update().get(pk=binaries_dataset(dataset.project).pk)
        blob, _created = Blob.objects.select_for_update().get_or_create(
            sha256=sha256, defaults={"size": size, "mimetype": mimetype}
        )
        storage.place(temp_path, blob.relative_path)
        folder = f"/exports/{dataset.id}"
        from annotator.datasets.services import folders_ensure

        folders_ensure(dataset=binaries, directory=folder, user=user)
        item = Item.objects.create(
            dataset=binaries,
            type=Item.Type.FILE,
            filename=f"{folder}/{name}",
            name=name,
            dir=folder,
            blob=blob,
            metadata={
                "system": {
                    "size": size,
                    "mimetype": mimetype,
                    "originalname": name,
                    "isBinary": True,
                    "refs": [],
                    "export": {**spec, "datasetId": dataset.id},
                },
                "user": {},
            },
            creator=user,
            updated_by=user,
        )
        dataset_items_changed(dataset_id=binaries.pk, files=1)
    return item


# --- the command ----------------------------------------------------------------------------------
def dataset_export_start(
    *,
    user: User,
    dataset_id: str,
    format_name: str = "dataloop",
    query: Any = None,
    task_status: Any = None,
    include_images: bool = False,
    include_annotations: bool = True,
    single_json: bool = False,
) -> Command:
    """Check the request now (4xx), export as a Command. `single_json` is dtlpy's
    `exportType: json`: one JSON array of items with their annotations instead of a zip."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="export.create")
    spec = {
        "datasetId": dataset.id,
        "userId": user.id,
        "format": clean_format(format_name),
        "itemsQuery": clean_items_query(query),
        "taskStatus": clean_task_status(task_status),
        "includeImages": bool(include_images),
        "includeAnnotations": bool(include_annotations),
        "exportType": "json" if single_json else "zip",
    }
    if single_json and spec["format"] != "dataloop":
        raise BadRequest("exportType json is only for the dataloop format.", details={"field": "exportType"})
    with transaction.atomic():
        return command_start(user=user, project=dataset.project, command_type="dataset.export", spec=spec)


@command_handler("dataset.export")
def run_export(command: Command, progress: Progress) -> dict[str, Any]:
    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    dataset = Dataset.objects.filter(pk=spec["datasetId"]).first()
    if user is None or dataset is None:
        raise CommandFailed("The dataset or the user who asked for the export is gone.")
    tmp_dir = storage.media_path("tmp")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as work:
        zip_path = Path(work) / "export.zip"
        counts = export_to_path(
            user=user,
            dataset_id=dataset.id,
            format_name=spec["format"],
            path=zip_path,
            query=spec.get("itemsQuery"),
            task_status=spec.get("taskStatus"),
            include_images=spec.get("includeImages", False),
            include_annotations=spec.get("includeAnnotations", True),
            progress=progress,
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        if spec.get("exportType") == "json":
            output, mimetype = _single_json(zip_path, Path(work)), "application/json"
            name = f"{dataset.name}_{stamp}_{command.id}.json"
        else:
            output, mimetype = zip_path, "application/zip"
            name = f"{dataset.name}_{spec['format']}_{stamp}_{command.id}.zip"
        item = export_output_store(
            user=user,
            dataset=dataset,
            path=output,
            name=name,
            mimetype=mimetype,
            spec={"format": spec["format"], "commandId": command.id},
        )
    return {
        "outputItemId": item.id,
        "downloadUrl": f"{API}/items/{item.id}/stream",
        "fileName": name,
        "size": item.metadata["system"]["size"],
        **counts,
    }


def _single_json(zip_path: Path, work: Path) -> Path:
    """dtlpy's json export: the per-item JSON files of a dataloop export as one array."""
    out = work / "export.json"
    with zipfile.ZipFile(zip_path) as archive, out.open("wb") as handle:
        handle.write(b"[")
        first = True
        for info in archive.infolist():
            if info.is_dir() or not info.filename.startswith("json/"):
                continue
            handle.write(b"" if first else b",")
            handle.write(archive.read(info))
            first = False
        handle.write(b"]")
    return out
