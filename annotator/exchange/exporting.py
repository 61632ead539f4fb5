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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
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
from annotator.datasets.services import dataset_items_changed, dataset_require, folders_ensure
from annotator.exchange.formats import FORMAT_MODULES, get_format
from annotator.exchange.formats.base import ExportArchive, ExportContext, ExportItem, Label, collector_paused

PAGE = 500
API = settings.API_BASE_PATH
BINARIES_DATASET = "Binaries"
# Read with a plain cursor: the ORM's per-value converters (JSON, datetimes) cost more than
# the whole COCO writer, and an export reads every annotation of the selection.
SHORT_COLUMNS = "id, item_id, type, label, coordinates, metadata, description"
FULL_COLUMNS = f"{SHORT_COLUMNS}, version, creator_id, updated_by_id, created_at, updated_at"


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


def _timestamp(value: datetime | None) -> str | None:
    """A stored timestamp as entity JSON writes it. Raw SQLite rows hold naive datetimes, which
    Django stores in UTC (iso() would take them for local time)."""
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return iso(value)


class _Emails:
    """User ids to emails, looked up once per user per export."""

    def __init__(self) -> None:
        self.known: dict[int | None, str | None] = {None: None}

    def __call__(self, user_id: int | None) -> str | None:
        if user_id not in self.known:
            self.known[user_id] = User.objects.filter(pk=user_id).values_list("email", flat=True).first()
        return self.known[user_id]


def _annotation_rows(item_ids: list[str], *, full: bool) -> Iterator[tuple]:
    """The annotations of a page of items, grouped by item, in id order within each."""
    columns = FULL_COLUMNS if full else SHORT_COLUMNS
    table = Annotation._meta.db_table
    if connection.vendor == "postgresql":
        # One index lookup per item, whatever the statistics say: right after a bulk import the
        # planner misjudged `item_id IN (500 ids)` and scanned the whole table for every page.
        sql = (
            f"SELECT {columns} FROM unnest(%s::text[]) AS page(item) "
            f"CROSS JOIN LATERAL (SELECT * FROM {table} WHERE item_id = page.item ORDER BY id) AS a"
        )
        params: list[Any] = [item_ids]
    else:
        marks = ", ".join("%s" for _ in item_ids)
        sql = f"SELECT {columns} FROM {table} WHERE item_id IN ({marks}) ORDER BY item_id, id"
        params = item_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            yield from rows


def _annotation_dict(row: tuple, dataset_id: str, emails: _Emails | None) -> dict[str, Any]:
    """Annotation entity JSON; without `emails`, only what a format's files hold (id, type,
    label, coordinates, metadata, description, itemId, datasetId), which is much cheaper."""
    id_, item_id, kind, label, coordinates, metadata, description = row[:7]
    metadata = orjson.loads(metadata) if isinstance(metadata, str | bytes) else (metadata or {})
    system = metadata.get("system") or {}
    system.setdefault("status", None)
    system.setdefault("attributes", {})
    annotation = {
        "id": id_,
        "type": kind,
        "label": label,
        "coordinates": orjson.loads(coordinates) if isinstance(coordinates, str | bytes) else coordinates,
        "metadata": {"system": system, "user": metadata.get("user") or {}},
        "description": description,
        "itemId": item_id,
        "datasetId": dataset_id,
    }
    if emails is None:
        return annotation
    version, creator, editor, created, updated = row[7:]
    return {
        **annotation,
        "attributes": None,
        "version": version,
        "creator": emails(creator),
        "updatedBy": emails(editor),
        "createdAt": _timestamp(created),
        "updatedAt": _timestamp(updated),
        "url": f"{API}/annotations/{id_}",
        "status": system["status"],
    }


def _short_item(row: tuple) -> tuple[dict[str, Any], Path | None]:
    """The item keys a format's files use (id, filename, name, dir, metadata), and its bytes."""
    item_id, dataset_id, filename, name, directory, metadata, sha256 = row
    metadata = orjson.loads(metadata) if isinstance(metadata, str | bytes) else (metadata or {})
    item = {
        "id": item_id,
        "datasetId": dataset_id,
        "type": Item.Type.FILE.value,
        "filename": filename,
        "name": name,
        "dir": directory,
        "metadata": {"system": metadata.get("system") or {}, "user": metadata.get("user") or {}},
    }
    return item, storage.media_path(Blob(sha256=sha256).relative_path) if sha256 else None


def _item_page(items: QuerySet[Item], after: str, *, full_json: bool) -> list[tuple[dict[str, Any], Path | None]]:
    page = items.filter(pk__gt=after).order_by("pk")
    if not full_json:
        rows = page.values_list("id", "dataset_id", "filename", "name", "dir", "metadata", "blob_id")[:PAGE]
        return [_short_item(row) for row in rows]
    full = page.select_related("blob", "creator", "updated_by").prefetch_related("task_items")[:PAGE]
    return [(item_json(item), storage.media_path(item.blob.relative_path) if item.blob_id else None) for item in full]


def stream_items(
    items: QuerySet[Item], *, progress, total: int, with_annotations: bool = True, full_json: bool = True
) -> Iterator[ExportItem]:
    """ExportItems in id order, a page at a time with their annotations (masks as stored RLE).
    `full_json=False` gives short item and annotation dicts (the keys formats' files use)."""
    last, done, emails = "", 0, _Emails() if full_json else None
    while True:
        page = _item_page(items, last, full_json=full_json)
        if not page:
            return
        last = page[-1][0]["id"]
        by_item: dict[str, list[dict[str, Any]]] = {item["id"]: [] for item, _image in page}
        if with_annotations:
            dataset_id = page[0][0]["datasetId"]
            for row in _annotation_rows(list(by_item), full=full_json):
                by_item[row[1]].append(_annotation_dict(row, dataset_id, emails))
        for item, image in page:
            yield ExportItem(item=item, annotations=by_item[item["id"]], image_path=image)
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

    with collector_paused(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        writer.write(
            counted(
                stream_items(
                    items,
                    progress=progress or SilentProgress(),
                    total=total,
                    with_annotations=include_annotations,
                    full_json=getattr(writer, "full_annotation_json", True),
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
