"""Long dataset operations, run as Commands: clone, merge and zip upload.

Both are written to be safe to run twice (a retried attempt after a worker died): items
are matched by path in the target, so an item copied before the crash is not copied again.
Binaries are never copied: a clone's items point at the same blobs.
"""

from typing import Any

from django.conf import settings
from django.db import transaction

from annotator.accounts.access import project_require
from annotator.accounts.models import User
from annotator.core.commands import CommandFailed, Progress, command_handler, command_start
from annotator.core.dql import ITEMS, compile_query
from annotator.core.errors import ApiError, BadRequest
from annotator.core.jsonmerge import deep_merge
from annotator.core.models import Command
from annotator.datasets import storage
from annotator.datasets.archives import archive_entries, open_entry
from annotator.datasets.models import Dataset, Item
from annotator.datasets.paths import normalize_dir, split_path
from annotator.datasets.services import (
    UPLOAD_MODES,
    _clean_dataset_name,
    dataset_items_changed,
    dataset_require,
    folders_ensure,
)

BATCH = 500


def _origin(item: Item) -> str:
    """The id of the item this one was cloned from, through any number of clones."""
    return (item.metadata or {}).get("system", {}).get("clonedFrom") or item.id


def _copy_items(
    *,
    sources,
    target: Dataset,
    user: User,
    with_metadata: bool,
    with_annotations: bool,
    directory: str,
    progress: Progress,
    total: int,
    done: int,
) -> int:
    """Copy items (files) into `target` in batches; returns how many were processed."""
    last = ""
    while True:
        batch = list(sources.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return done
        last = batch[-1].pk
        with transaction.atomic():
            existing = set(
                Item.objects.filter(
                    dataset=target, filename__in=[_target_path(i, directory) for i in batch]
                ).values_list("filename", flat=True)
            )
            fresh, pairs = [], []
            for item in batch:
                filename = _target_path(item, directory)
                if filename in existing:
                    continue
                folder, name = split_path(filename)
                folders_ensure(dataset=target, directory=folder, user=user)
                system = {**(item.metadata or {}).get("system", {}), "clonedFrom": _origin(item)}
                user_metadata = (item.metadata or {}).get("user", {}) if with_metadata else {}
                fresh.append(
                    Item(
                        dataset=target,
                        type=Item.Type.FILE,
                        filename=filename,
                        name=name,
                        dir=folder,
                        blob_id=item.blob_id,
                        metadata={"system": system, "user": user_metadata},
                        description=item.description,
                        hidden=item.hidden,
                        creator=user,
                        updated_by=user,
                    )
                )
                pairs.append((item.id, fresh[-1]))
            Item.objects.bulk_create(fresh)
            dataset_items_changed(dataset_id=target.pk, files=len(fresh))
            if with_annotations:
                _copy_annotations(user, pairs)
        done += len(batch)
        progress.update(100 * done / max(total, 1))


def _copy_annotations(user: User, pairs: list[tuple[str, Item]]) -> None:
    from annotator.annotations.services import annotations_copy  # annotations build on datasets

    annotations_copy(user=user, pairs=pairs)


def _target_path(item: Item, directory: str) -> str:
    return item.filename if directory == "/" else f"{directory}{item.filename}"


# --- clone -----------------------------------------------------------------------------------------------
def dataset_clone_start(
    *,
    user: User,
    dataset_id: str,
    name: str | None,
    query: dict | None,
    with_metadata: bool,
    with_annotations: bool,
    target_dataset_id: str | None = None,
    target_directory: str | None = None,
) -> Command:
    """Start cloning items matching `query` into a new dataset (or an existing one)."""
    source = dataset_require(user=user, dataset_id=dataset_id, operation="dataset.view")
    compile_query(_items_query(query), resource=ITEMS)  # a bad query fails now, with a 400
    directory = normalize_dir(target_directory)
    with transaction.atomic():
        if target_dataset_id:
            target = dataset_require(user=user, dataset_id=target_dataset_id, operation="item.create")
        else:
            project_require(user=user, project_id=source.project_id, operation="dataset.create")
            clean_name = _clean_dataset_name(name or f"{source.name} clone")
            if Dataset.objects.filter(project_id=source.project_id, name__iexact=clean_name).exists():
                raise BadRequest(f"The project already has a dataset named {clean_name!r}.", code="conflict")
            system = {
                "recipes": list((source.metadata or {}).get("system", {}).get("recipes", [])),
                "clonedFrom": source.id,
            }
            target = Dataset.objects.create(
                project_id=source.project_id, name=clean_name, creator=user, metadata={"system": system, "user": {}}
            )
        return command_start(
            user=user,
            project=source.project,
            command_type="dataset.clone",
            spec={
                "sourceDatasetId": source.id,
                "targetDatasetId": target.id,
                "query": _items_query(query),
                "withMetadata": with_metadata,
                "withItemsAnnotations": with_annotations,
                "targetDirectory": directory,
                "userId": user.id,
            },
        )


def _items_query(query: dict | None) -> dict:
    if query is None:
        return {"resource": "items", "filter": {"$and": [{"type": "file"}]}}
    if not isinstance(query, dict):
        raise BadRequest("filter must be a DQL query object.")
    return {**query, "resource": "items"}


@command_handler("dataset.clone")
def run_clone(command: Command, progress: Progress) -> dict[str, Any]:
    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    source = Dataset.objects.filter(pk=spec["sourceDatasetId"]).first()
    target = Dataset.objects.filter(pk=spec["targetDatasetId"]).first()
    if user is None or source is None or target is None:
        raise CommandFailed("The source or target dataset no longer exists.")
    compiled = compile_query(
        {k: v for k, v in spec["query"].items() if k not in ("page", "pageSize", "sort")}, resource=ITEMS
    )
    sources = compiled.apply(Item.objects.filter(dataset=source, type=Item.Type.FILE)).order_by()
    total = sources.count()
    copied = _copy_items(
        sources=sources,
        target=target,
        user=user,
        with_metadata=spec["withMetadata"],
        with_annotations=spec.get("withItemsAnnotations", False),
        directory=spec["targetDirectory"],
        progress=progress,
        total=total,
        done=0,
    )
    return {"returnedModelId": target.id, "itemsCount": copied}


# --- merge -------------------------------------------------------------------------------------------------
def datasets_merge_start(
    *, user: User, name: str, dataset_ids: list[str], with_metadata: bool, with_annotations: bool
) -> Command:
    """Start merging datasets into a new one. They must share one recipe.

    Clones of one source merge item by item: items that descend from the same original
    become one item (user metadata deep-merged in the order given). Other items are all
    kept; a path taken by a different item gets a numbered suffix.
    """
    if not isinstance(dataset_ids, list) or len(dataset_ids) < 2 or not all(isinstance(i, str) for i in dataset_ids):
        raise BadRequest("Give at least two dataset ids to merge.", details={"datasetsIds": "invalid"})
    datasets = [dataset_require(user=user, dataset_id=i, operation="dataset.view") for i in dataset_ids]
    project = datasets[0].project
    if any(d.project_id != project.id for d in datasets):
        raise BadRequest("Datasets from different projects cannot be merged.")
    recipes = {tuple((d.metadata or {}).get("system", {}).get("recipes", [])) for d in datasets}
    if len(recipes) != 1:
        raise BadRequest("Datasets with different recipes cannot be merged.", code="recipe_mismatch")
    project_require(user=user, project_id=project.id, operation="dataset.create")
    clean_name = _clean_dataset_name(name)
    with transaction.atomic():
        if Dataset.objects.filter(project=project, name__iexact=clean_name).exists():
            raise BadRequest(f"The project already has a dataset named {clean_name!r}.", code="conflict")
        target = Dataset.objects.create(
            project=project,
            name=clean_name,
            creator=user,
            metadata={"system": {"recipes": list(recipes.pop()), "mergedFrom": dataset_ids}, "user": {}},
        )
        return command_start(
            user=user,
            project=project,
            command_type="datasets.merge",
            spec={
                "mergeDatasetsConfiguration": {
                    "datasetsIds": dataset_ids,
                    "withMetadata": with_metadata,
                    "withItemsAnnotations": with_annotations,
                },
                "targetDatasetId": target.id,
                "userId": user.id,
            },
        )


@command_handler("datasets.merge")
def run_merge(command: Command, progress: Progress) -> dict[str, Any]:
    config = command.spec["mergeDatasetsConfiguration"]
    user = User.objects.filter(pk=command.spec["userId"]).first()
    target = Dataset.objects.filter(pk=command.spec["targetDatasetId"]).first()
    if user is None or target is None:
        raise CommandFailed("The target dataset no longer exists.")
    sources = Item.objects.filter(dataset_id__in=config["datasetsIds"], type=Item.Type.FILE)
    order = {dataset_id: n for n, dataset_id in enumerate(config["datasetsIds"])}
    merged: dict[str, dict[str, Any]] = {}
    for item in sorted(sources.select_related(None).iterator(), key=lambda i: (order[i.dataset_id], i.pk)):
        origin = _origin(item)
        entry = merged.setdefault(origin, {"item": item, "user": {}, "sources": []})
        entry["sources"].append(item.id)
        if config["withMetadata"]:
            entry["user"] = deep_merge(entry["user"], (item.metadata or {}).get("user", {}))
    progress.update(20, force=True)
    taken = set(Item.objects.filter(dataset=target).values_list("filename", flat=True))
    entries = list(merged.items())
    for start in range(0, len(entries), BATCH):
        with transaction.atomic():
            fresh, pairs = [], []
            for origin, entry in entries[start : start + BATCH]:
                item = entry["item"]
                if Item.objects.filter(dataset=target, metadata__system__clonedFrom=origin).exists():
                    continue  # copied by an earlier attempt
                filename = _free_path(item.filename, taken)
                taken.add(filename)
                folder, name = split_path(filename)
                folders_ensure(dataset=target, directory=folder, user=user)
                fresh.append(
                    Item(
                        dataset=target,
                        type=Item.Type.FILE,
                        filename=filename,
                        name=name,
                        dir=folder,
                        blob_id=item.blob_id,
                        metadata={
                            "system": {**(item.metadata or {}).get("system", {}), "clonedFrom": origin},
                            "user": entry["user"],
                        },
                        description=item.description,
                        creator=user,
                        updated_by=user,
                    )
                )
                pairs += [(source_id, fresh[-1]) for source_id in entry["sources"]]
            Item.objects.bulk_create(fresh)
            dataset_items_changed(dataset_id=target.pk, files=len(fresh))
            if config.get("withItemsAnnotations"):
                _copy_annotations(user, pairs)
        progress.update(20 + 80 * (start + BATCH) / max(len(entries), 1))
    return {"returnedModelId": target.id, "itemsCount": len(entries)}


def _free_path(filename: str, taken: set[str]) -> str:
    if filename not in taken:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if not dot or "/" in extension:
        stem, dot, extension = filename, "", ""
    n = 1
    while f"{stem}_{n}{dot}{extension}" in taken:
        n += 1
    return f"{stem}_{n}{dot}{extension}"


# --- zip archives -----------------------------------------------------------------------------------------
def _start_with_upload(
    *, user: User, dataset: Dataset, fileobj, max_bytes: int, command_type: str, check, spec: dict[str, Any]
) -> Command:
    """Spool an uploaded file, let `check(path, size)` refuse it (4xx) or add to the spec, keep
    it where the job's worker finds it (`spec["file"]`), and start the command."""
    temp_path, _sha256, size = storage.spool(fileobj, max_bytes=max_bytes)
    try:
        spec = {**spec, **check(temp_path, size)}
        spec["file"] = storage.keep_for_job(temp_path)
        with transaction.atomic():
            return command_start(
                user=user,
                project=dataset.project,
                command_type=command_type,
                spec={**spec, "datasetId": dataset.id, "userId": user.id},
            )
    finally:
        temp_path.unlink(missing_ok=True)


def items_archive_upload_start(
    *, user: User, dataset_id: str, fileobj, target_dir: str | None, mode: str = "skip"
) -> Command:
    """Check a zip of images now (400 for unsafe ones) and import it as a Command."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="item.create")
    if mode not in UPLOAD_MODES:
        raise BadRequest(f"mode must be one of {', '.join(UPLOAD_MODES)}.", details={"mode": mode})
    directory = normalize_dir(target_dir)

    def check(path, _size: int) -> dict[str, Any]:
        entries = archive_entries(path, target_dir=directory)
        if not entries:
            raise BadRequest("The archive holds no files.", code="invalid_archive")
        return {"files": len(entries)}

    return _start_with_upload(
        user=user,
        dataset=dataset,
        fileobj=fileobj,
        max_bytes=settings.ARCHIVE_MAX_BYTES,
        command_type="items.archive_upload",
        check=check,
        spec={"targetDirectory": directory, "mode": mode},
    )


@command_handler("items.archive_upload")
def run_archive_upload(command: Command, progress: Progress) -> dict[str, Any]:
    from annotator.datasets.services import item_upload

    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    archive = storage.media_path(spec["file"])
    if user is None or not archive.exists():
        raise CommandFailed("The archive or its uploader is gone.")
    counts = {"created": 0, "overwrite": 0, "skip": 0}
    rejected: list[dict[str, str]] = []
    try:
        entries = archive_entries(archive, target_dir=spec["targetDirectory"])
        for n, (entry, path) in enumerate(entries, start=1):
            stream = open_entry(archive, entry)
            try:
                _item, op = item_upload(
                    user=user,
                    dataset_id=spec["datasetId"],
                    path=path,
                    fileobj=stream,
                    original_name=entry.rsplit("/", 1)[-1],
                    mode=spec["mode"],
                )
                counts[op] += 1
            except ApiError as exc:
                rejected.append({"entry": entry, "reason": str(exc.detail)})
            finally:
                stream.close()
            progress.update(100 * n / len(entries))
    finally:
        archive.unlink(missing_ok=True)
    return {
        "imported": counts["created"] + counts["overwrite"],
        "skipped": counts["skip"],
        "rejected": rejected[:1000],
        "rejectedCount": len(rejected),
    }


# --- manifests --------------------------------------------------------------------------------------------
def items_manifest_start(*, user: User, dataset_id: str, fileobj) -> Command:
    """Register the items of an NDJSON manifest (links to URLs) as a Command."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="item.create")

    def check(_path, size: int) -> dict[str, Any]:
        if size == 0:
            raise BadRequest("The manifest is empty.", code="invalid_manifest")
        return {"bytes": size}

    return _start_with_upload(
        user=user,
        dataset=dataset,
        fileobj=fileobj,
        max_bytes=settings.MANIFEST_MAX_BYTES,
        command_type="items.manifest",
        check=check,
        spec={},
    )


@command_handler("items.manifest")
def run_manifest(command: Command, progress: Progress) -> dict[str, Any]:
    from annotator.datasets.manifests import read_lines, register

    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    dataset = Dataset.objects.filter(pk=spec["datasetId"]).first()
    manifest = storage.media_path(spec["file"])
    if user is None or dataset is None or not manifest.exists():
        raise CommandFailed("The manifest, its dataset or its uploader is gone.")
    try:
        return register(
            dataset=dataset, user=user, lines=read_lines(manifest), progress=progress, total_bytes=spec["bytes"]
        )
    finally:
        manifest.unlink(missing_ok=True)
