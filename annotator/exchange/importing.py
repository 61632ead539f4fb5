"""Imports: a format's reader streams items and annotations out of an uploaded file; each is
matched to an item of the dataset (or creates one from an image in the zip), checked against
the recipe and the image, and inserted in bulk with its history.

All or nothing: the whole import runs in one transaction. Every entry is checked even after
a first rejection, so the report names every bad entry; if there is any, the transaction is
rolled back and the dataset is as it was (blobs stored on the way are released again).
Labels missing from the ontology are added (`missing_labels="add"`) or rejected ("refuse").
"""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from annotator.accounts.models import User
from annotator.annotations.bulk import NewAnnotation
from annotator.annotations.geometry import NOTE
from annotator.annotations.services import WriteContext, annotation_build, annotations_insert, item_dimensions
from annotator.annotations.validation import dataset_recipe, recipe_rules
from annotator.core.commands import CommandFailed, Progress, SilentProgress, command_handler
from annotator.core.errors import ApiError, BadRequest
from annotator.core.models import Command
from annotator.datasets import storage
from annotator.datasets.archives import archive_entries
from annotator.datasets.commands import _start_with_upload
from annotator.datasets.models import Blob, Dataset, Item
from annotator.datasets.paths import normalize_path
from annotator.datasets.services import blobs_release, dataset_require, item_upload
from annotator.exchange.exporting import clean_format
from annotator.exchange.formats import get_format
from annotator.exchange.formats.base import (
    FormatError,
    ImportContext,
    ImportItem,
    ImportSource,
    Label,
    Rejection,
    collector_paused,
)

BATCH = 200
MISSING_LABEL_MODES = ("add", "refuse")
MAX_REPORTED = 1000
FALLBACK_COLORS = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6")


class ImportRejected(Exception):
    """The file had bad entries; nothing was imported. `report` names each one."""

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__(f"{report['rejectedCount']} entries rejected; nothing was imported.")
        self.report = report


class _RollBack(Exception):
    pass


@dataclass
class _Run:
    user: User
    dataset: Dataset
    source: ImportSource
    context: ImportContext
    missing_labels: str
    rules: Any
    role: str
    index: ItemIndex
    rejected: list[dict[str, str]] = field(default_factory=list)
    rejected_count: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    labels_added: dict[str, str] = field(default_factory=dict)  # tag -> colour
    items_created: int = 0
    items_matched: int = 0
    annotations: int = 0
    blobs: set[str] = field(default_factory=set)

    def reject(self, entry: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REPORTED:
            self.rejected.append({"entry": entry, "reason": reason})

    def report(self) -> dict[str, Any]:
        """What the import did; when it was rejected (`imported` false), what it had checked."""
        return {
            "imported": not self.rejected_count,
            "itemsCreated": self.items_created,
            "itemsMatched": self.items_matched,
            "annotationsImported": self.annotations,
            "labelsAdded": sorted(self.labels_added),
            "skipped": self.skipped[:MAX_REPORTED],
            "skippedCount": len(self.skipped),
            "rejected": self.rejected,
            "rejectedCount": self.rejected_count,
        }


def clean_missing_labels(value: Any) -> str:
    if value not in MISSING_LABEL_MODES:
        raise BadRequest(
            f"missingLabels must be one of {', '.join(MISSING_LABEL_MODES)}.", details={"field": "missingLabels"}
        )
    return value


def _open_source(path: Path, filename: str) -> ImportSource:
    if zipfile.is_zipfile(path):
        archive_entries(path, target_dir="/")  # zip slip, links, bombs: a 400 naming the entries
        return ImportSource(path)
    return ImportSource(path, single_name=posixpath.basename(filename) or "upload")


def import_from_path(
    *,
    user: User,
    dataset_id: str,
    format_name: str,
    path: Path,
    filename: str,
    missing_labels: str = "add",
    options: dict[str, Any] | None = None,
    progress=None,
) -> dict[str, Any]:
    """Import the file at `path` (a zip, or a single file named `filename`) into the dataset:
    the report on success, ImportRejected (nothing imported) if any entry is bad."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="import.create")
    reader = get_format(clean_format(format_name))
    if not reader.supports_import:
        raise BadRequest(f"The {format_name} format cannot be imported.", details={"field": "format"})
    progress = progress or SilentProgress()
    source = _open_source(path, filename)
    rules = recipe_rules(dataset)
    labels = [Label(tag=tag, color=value.get("color") or "") for tag, value in rules.labels.items()]
    index = ItemIndex(dataset)
    context = ImportContext(labels=labels, options={**(options or {}), "size_of": index.size_of})
    run = _Run(
        user=user,
        dataset=dataset,
        source=source,
        context=context,
        missing_labels=clean_missing_labels(missing_labels),
        rules=rules,
        role=dataset.project.viewer_role,
        index=index,
    )
    expected = max(1, len(source.names))
    try:
        with collector_paused(), transaction.atomic():
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()  # one import at a time per dataset
            batch: list[ImportItem] = []
            seen = 0
            try:
                for entry in reader.read(source, context):
                    if isinstance(entry, Rejection):
                        run.reject(entry.entry, entry.reason)
                        continue
                    batch.append(entry)
                    if len(batch) >= BATCH:
                        seen += len(batch)
                        _write_batch(run, batch)
                        batch = []
                        progress.update(min(95, 100 * seen / max(expected, context.expected_items or 0, seen)))
            except FormatError as exc:
                run.reject(exc.entry, exc.reason)
            if batch:
                _write_batch(run, batch)
            if run.rejected_count:
                raise _RollBack()
            _add_labels(run)
    except _RollBack:
        _release(run)
        raise ImportRejected(run.report()) from None
    except BaseException:
        _release(run)
        raise
    finally:
        source.close()
    return run.report()


def _release(run: _Run) -> None:
    """Remove the bytes stored for images before the rollback: a blob whose row was rolled
    back is unknown to the database, one that existed before is released if now unused."""
    for sha256 in sorted(run.blobs):
        blob = Blob(sha256=sha256)
        if Blob.objects.filter(pk=sha256).exists():
            blobs_release(sha256s=[sha256])
        else:
            storage.remove(blob.relative_path)
            storage.remove(blob.thumbnail_relative_path)


class ItemIndex:
    """The dataset's files by path, name and stem, read once per import (one streamed query), so
    that matching an entry costs no query: a file names its items by full path, by a unique
    name, or (YOLO, masks) by a path without extension. Memory: about 200 bytes per item."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.by_path: dict[str, tuple[str, int | None, int | None]] = {}
        self.by_name: dict[str, list[str]] = {}
        self.by_stem: dict[str, list[str]] = {}
        rows = (
            Item.objects.filter(dataset=dataset, type=Item.Type.FILE)
            .values_list("id", "filename", "metadata__system__width", "metadata__system__height")
            .order_by()
        )
        for item_id, filename, width, height in rows.iterator(chunk_size=5000):
            self.add(item_id, filename, width, height)

    def add(self, item_id: str, filename: str, width: Any, height: Any) -> None:
        self.by_path[filename] = (
            item_id,
            width if isinstance(width, int) else None,
            height if isinstance(height, int) else None,
        )
        self.by_name.setdefault(posixpath.basename(filename), []).append(filename)
        stem, extension = posixpath.splitext(filename)
        if extension:
            self.by_stem.setdefault(stem, []).append(filename)

    def match(self, filename: str) -> str | None:
        """The path of the dataset's item for a path a file names: the same full path; else the
        only item with that name; else, for a name without extension, the only item whose path
        is that stem plus an extension."""
        path = _safe_path(filename)
        if path is None:
            return None
        if path in self.by_path:
            return path
        named = self.by_name.get(posixpath.basename(path), [])
        if len(named) == 1:
            return named[0]
        if "." not in posixpath.basename(path):
            stems = self.by_stem.get(path, [])
            if len(stems) == 1:
                return stems[0]
        return None

    def size_of(self, filename: str) -> tuple[int, int] | None:
        path = self.match(filename)
        if path is None:
            return None
        _item_id, width, height = self.by_path[path]
        return (width, height) if width and height else None


def _path(filename: str) -> str:
    return normalize_path("/" + filename.lstrip("/"))


def _safe_path(filename: str) -> str | None:
    try:
        return _path(filename)
    except BadRequest:
        return None


def _write_batch(run: _Run, batch: list[ImportItem]) -> None:
    paths = [run.index.match(entry.filename) for entry in batch]
    ids = [run.index.by_path[path][0] for path in paths if path]
    rows = {item.filename: item for item in Item.objects.filter(pk__in=ids)}  # one query for the batch
    targets: list[tuple[ImportItem, Item]] = []
    for entry, path in zip(batch, paths, strict=True):
        item = _target(run, entry, rows.get(path) if path else None)
        if item is not None:
            targets.append((entry, item))
    built: list[NewAnnotation] = []
    items: list[Item] = []
    for entry, item in targets:
        annotations = _build(run, entry, item)
        if annotations:
            built += annotations
            items.append(item)
    if run.rejected_count:
        return  # the import will be rolled back; keep checking, stop writing
    annotations_insert(user=run.user, annotations=built, items=items)
    run.annotations += len(built)


def _target(run: _Run, entry: ImportItem, item: Item | None) -> Item | None:
    """The item the entry's annotations go on: `item` (matched by full path), or one matched
    otherwise, or one created from the entry's image; None (skipped or rejected) if none."""
    where = entry.entry or entry.filename
    if item is None and entry.image_entry:
        try:
            path = _path(entry.filename)
            with run.source.open(entry.image_entry) as stream:
                item, op = item_upload(
                    user=run.user,
                    dataset_id=run.dataset.id,
                    path=path,
                    fileobj=stream,
                    original_name=posixpath.basename(path),
                    metadata=entry.item_metadata if isinstance(entry.item_metadata, dict) else None,
                    mode="skip",
                )
        except ApiError as exc:
            run.reject(entry.image_entry, str(exc.detail))
            return None
        if op == "created":
            run.blobs.add(item.blob_id)
            run.items_created += 1
            width, height = item_dimensions(item)
            run.index.add(item.id, item.filename, width, height)
        else:
            run.items_matched += 1
    elif item is not None:
        run.items_matched += 1
    if item is None:
        if entry.annotations:
            run.skipped.append({"entry": where, "reason": f"no item {entry.filename!r} in the dataset"})
        return None
    width, height = item_dimensions(item)
    if entry.width and entry.height and width and height and (entry.width, entry.height) != (width, height):
        run.reject(where, f"the file says {entry.width}x{entry.height}; the image is {width}x{height}")
        return None
    return item


def _build(run: _Run, entry: ImportItem, item: Item) -> list[NewAnnotation]:
    ctx = WriteContext(user=run.user, item=item, rules=run.rules, role=run.role, strict_bounds=True)
    built: list[NewAnnotation] = []
    new_ids: dict[Any, str] = {}
    parents: list[tuple[NewAnnotation, Any, str]] = []
    for index, raw in enumerate(entry.annotations):
        where = entry.origins[index] if index < len(entry.origins) else f"{entry.entry}: annotations[{index}]"
        if not isinstance(raw, dict):
            run.reject(where, "an annotation is an object")
            continue
        if not _label_known(run, raw):
            run.reject(where, f"label {raw.get('label')!r} is not in the ontology")
            continue
        system = ((raw.get("metadata") or {}).get("system") or {}) if isinstance(raw.get("metadata"), dict) else {}
        parent = system.get("parentId") if isinstance(system, dict) else None
        if parent is not None:
            unlinked = {k: v for k, v in system.items() if k != "parentId"}
            raw = {**raw, "metadata": {**raw["metadata"], "system": unlinked}}
        try:
            annotation = annotation_build(ctx, raw, where)
        except ApiError as exc:
            run.reject(where, str(exc.detail).removeprefix(f"{where}: "))
            continue
        if raw.get("id") is not None:
            new_ids[raw["id"]] = annotation.id
        if parent is not None:
            parents.append((annotation, parent, where))
        built.append(annotation)
    for annotation, parent, where in parents:
        if parent not in new_ids:
            run.reject(where, f"parentId {parent!r} is not an annotation of this item in the file")
            continue
        annotation.metadata["system"]["parentId"] = new_ids[parent]
    return built


def _label_known(run: _Run, raw: dict[str, Any]) -> bool:
    """True if the recipe has the label, or it may be (and now is) added."""
    label = raw.get("label")
    if not run.rules.has_recipe or raw.get("type") == NOTE or not isinstance(label, str) or not label.strip():
        return True  # no recipe to check against, or annotation_build names the problem
    label = label.strip()
    if label in run.rules.labels:
        return True
    if run.missing_labels == "refuse":
        return False
    declared = run.context.declared.get(label)
    color = (declared.color if declared else "") or FALLBACK_COLORS[len(run.labels_added) % len(FALLBACK_COLORS)]
    run.labels_added[label] = color
    run.rules.labels[label] = {"tag": label, "color": color}
    return True


def _add_labels(run: _Run) -> None:
    if not run.labels_added:
        return
    from annotator.ontologies.services import ontology_labels_upsert

    recipe = dataset_recipe(run.dataset)
    ontology = recipe.ontologies.order_by("id").first() if recipe is not None else None
    if ontology is None:
        return
    ontology_labels_upsert(
        user=run.user,
        ontology_id=ontology.id,
        labels=[{"tag": tag, "color": color} for tag, color in sorted(run.labels_added.items())],
        upsert=True,
    )


# --- the command ----------------------------------------------------------------------------------
def dataset_import_start(
    *, user: User, dataset_id: str, format_name: str, fileobj, filename: str, missing_labels: str = "add"
) -> Command:
    """Spool the upload, check it now (format, options, unsafe zips: 4xx), import as a Command."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="import.create")
    name = clean_format(format_name)
    if not get_format(name).supports_import:
        raise BadRequest(f"The {name} format cannot be imported.", details={"field": "format"})
    mode = clean_missing_labels(missing_labels)

    def check(path: Path, size: int) -> dict[str, Any]:
        if size == 0:
            raise BadRequest("The file is empty.", code="invalid_import")
        if zipfile.is_zipfile(path):
            archive_entries(path, target_dir="/")
        return {"bytes": size}

    return _start_with_upload(
        user=user,
        dataset=dataset,
        fileobj=fileobj,
        max_bytes=settings.ARCHIVE_MAX_BYTES,
        command_type="dataset.import",
        check=check,
        spec={"format": name, "missingLabels": mode, "fileName": posixpath.basename(filename or "upload")[:255]},
    )


@command_handler("dataset.import")
def run_import(command: Command, progress: Progress) -> dict[str, Any]:
    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    upload = storage.media_path(spec["file"])
    if user is None or not Dataset.objects.filter(pk=spec["datasetId"]).exists() or not upload.exists():
        raise CommandFailed("The dataset, the upload or its uploader is gone.")
    try:
        report = import_from_path(
            user=user,
            dataset_id=spec["datasetId"],
            format_name=spec["format"],
            path=upload,
            filename=spec["fileName"],
            missing_labels=spec["missingLabels"],
            progress=progress,
        )
    except ImportRejected as exc:
        first = exc.report["rejected"][0]
        raise CommandFailed(
            f"{exc} First: {first['entry']}: {first['reason']}", result={"report": exc.report}
        ) from None
    except ApiError as exc:
        raise CommandFailed(str(exc.detail)) from None
    finally:
        upload.unlink(missing_ok=True)
    return {"report": report}
