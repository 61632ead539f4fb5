"""Every write to datasets, items and blobs."""

import functools
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from rest_framework.exceptions import ParseError

from annotator.accounts.access import project_require, role_require
from annotator.accounts.models import User
from annotator.core.compiled import CompiledInsert, CompiledLookup
from annotator.core.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from annotator.core.events import broadcast, project_group
from annotator.core.ids import is_valid_id
from annotator.core.jsonmerge import deep_merge
from annotator.core.parsers import json_loads_bounded
from annotator.core.permissions import role_allows
from annotator.datasets import storage
from annotator.datasets.images import inspect_image
from annotator.datasets.models import Blob, Dataset, Item
from annotator.datasets.paths import ancestors, join_path, normalize_path, split_path
from annotator.datasets.serializers import dataset_json, item_json, item_without_task_items

DATASET_NAME_MAX = 200
UPLOAD_MODES = ("skip", "overwrite")


# --- datasets -----------------------------------------------------------------------------------
def _clean_dataset_name(name: str) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > DATASET_NAME_MAX or any(ord(ch) < 32 for ch in name):
        raise BadRequest(
            f"A dataset name has 1 to {DATASET_NAME_MAX} printable characters.", details={"name": "invalid"}
        )
    return name


# Nearly every dataset route reads the dataset this way: compiled once (core/compiled.py).
_DATASET = CompiledLookup(
    lambda dataset_id: Dataset.objects.select_related("creator", "project__creator").filter(pk=dataset_id)[:1]
)


def dataset_require(*, user: User, dataset_id: str, operation: str, for_update: bool = False) -> Dataset:
    """The dataset if `user` may perform `operation` on it; 404 for non-members and unknown ids."""
    if not for_update:  # two queries: the dataset with its project, and the role
        dataset = _DATASET.first(dataset_id) if is_valid_id(dataset_id) else None
        if dataset is None:
            raise NotFound("Dataset not found.")
        dataset.project.viewer_role = role_require(user=user, project_id=dataset.project_id, operation=operation)
        return dataset
    # Locking: check access before taking the lock.
    dataset = (
        Dataset.objects.filter(pk=dataset_id).only("id", "project_id").first() if is_valid_id(dataset_id) else None
    )
    if dataset is None:
        raise NotFound("Dataset not found.")
    project = project_require(user=user, project_id=dataset.project_id, operation=operation)
    queryset = Dataset.objects.select_related("creator")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))  # PostgreSQL cannot lock an outer join
    dataset = queryset.get(pk=dataset_id)
    dataset.project = project
    return dataset


@transaction.atomic
def dataset_create(
    *, user: User, project_id: str, name: str, labels: list[dict] | None = None, create_default_recipe: bool = True
) -> Dataset:
    from annotator.ontologies.services import recipe_create_default

    project = project_require(user=user, project_id=project_id, operation="dataset.create")
    name = _clean_dataset_name(name)
    if Dataset.objects.filter(project=project, name__iexact=name).exists():
        raise Conflict(f"The project already has a dataset named {name!r}.")
    dataset = Dataset.objects.create(project=project, name=name, creator=user, metadata={"system": {}, "user": {}})
    if create_default_recipe or labels:
        recipe = recipe_create_default(user=user, project=project, title=f"{name} Default Recipe", labels=labels)
        dataset.metadata["system"]["recipes"] = [recipe.id]
        dataset.save(update_fields=["metadata"])
    broadcast(project_group(project.id), "dataset.created", dataset_json(dataset))
    return dataset


@transaction.atomic
def dataset_update(*, user: User, dataset_id: str, changes: dict[str, Any], system: bool = False) -> Dataset:
    """Apply `name` and a metadata diff; `metadata.system` only with `system` and the right role.

    dtlpy sends the whole dataset JSON back, so read-only keys are ignored.
    """
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="dataset.update", for_update=True)
    if "name" in changes and changes["name"] != dataset.name:
        name = _clean_dataset_name(changes["name"])
        if Dataset.objects.filter(project_id=dataset.project_id, name__iexact=name).exclude(pk=dataset.pk).exists():
            raise Conflict(f"The project already has a dataset named {name!r}.")
        dataset.name = name
    metadata_diff = changes.get("metadata")
    if metadata_diff is not None:
        if not isinstance(metadata_diff, dict):
            raise BadRequest("metadata must be an object.", details={"metadata": "invalid"})
        if not system:
            metadata_diff = {k: v for k, v in metadata_diff.items() if k != "system"}
        elif not role_allows(dataset.project.viewer_role, "dataset.update"):
            raise Forbidden("Your role may not change system metadata.")
        if "system" in metadata_diff:
            _check_recipes(user, dataset, metadata_diff["system"])
        dataset.metadata = deep_merge(dataset.metadata or {}, metadata_diff)
    dataset.save(update_fields=["name", "metadata", "updated_at"])
    broadcast(project_group(dataset.project_id), "dataset.updated", dataset_json(dataset))
    return dataset


def _check_recipes(user: User, dataset: Dataset, system_diff: Any) -> None:
    """Recipes named in metadata.system.recipes must be recipes of the dataset's project."""
    from annotator.ontologies.selectors import recipe_get

    if not isinstance(system_diff, dict) or "recipes" not in system_diff:
        return
    recipes = system_diff["recipes"]
    if not isinstance(recipes, list) or not all(isinstance(r, str) for r in recipes):
        raise BadRequest("metadata.system.recipes must be a list of recipe ids.")
    for recipe_id in recipes:
        if recipe_get(user=user, recipe_id=recipe_id).project_id != dataset.project_id:
            raise BadRequest(f"Recipe {recipe_id} belongs to another project.")


@transaction.atomic
def dataset_delete(*, user: User, dataset_id: str) -> None:
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="dataset.delete", for_update=True)
    blob_ids = list(dataset.items.exclude(blob=None).values_list("blob_id", flat=True).distinct())
    data = dataset_json(dataset)
    dataset.delete()
    _release_blobs_after_commit(blob_ids)
    broadcast(project_group(data["projects"][0]), "dataset.deleted", data)


def dataset_items_changed(*, dataset_id: str, files: int = 0) -> None:
    """Record a write to the dataset's items, inside the writing transaction.

    Every service that creates, changes or deletes items calls this: it bumps
    `items_version` (which keys the remembered item counts of DQL pages, see
    selectors.item_page) and adds `files` to `items_count`, in one UPDATE. Its SQL is
    kept: every upload runs it, and the ORM compiled it each time (a tenth of an upload).
    """
    connection = connections[router.db_for_write(Dataset)]
    with connection.cursor() as cursor:
        cursor.execute(_items_changed_sql(connection.vendor), [files, dataset_id])


@functools.cache
def _items_changed_sql(vendor: str) -> str:
    """Built once per backend (the vendor is the cache's key: quoting is the backend's)."""
    quote = connections[router.db_for_write(Dataset)].ops.quote_name
    fields = {name: quote(Dataset._meta.get_field(name).column) for name in ("id", "items_version", "items_count")}
    return (
        f"UPDATE {quote(Dataset._meta.db_table)} SET {fields['items_version']} = {fields['items_version']} + 1, "
        f"{fields['items_count']} = {fields['items_count']} + %s WHERE {fields['id']} = %s"
    )


# --- folders ---------------------------------------------------------------------------------------
def folders_ensure(*, dataset: Dataset, directory: str, user: User, found: dict[str, Item] | None = None) -> None:
    """Create the `dir` items for `directory` and its parents (the SDK never does).

    `found`: what a read just before found at these paths (see _items_at), when the caller
    has read them with its own path; else they are read here, all in one query."""
    folders = ancestors(directory)
    if found is None:
        found = _items_at(dataset, folders)
    for folder in folders:
        existing = found.get(folder)
        if existing is None:
            made = _new_item(dataset, Item.Type.DIR, folder, user, metadata={"system": {}, "user": {}})
            if _ITEM_INSERT.insert(made):
                dataset_items_changed(dataset_id=dataset.pk)
                continue
            existing = _item_at(dataset, folder)  # made by a concurrent upload
        if existing is None or existing.type != Item.Type.DIR:
            raise Conflict(f"{folder} exists and is not a folder.")


# --- items ---------------------------------------------------------------------------------------------
def _parse_user_metadata(raw: str | dict | None) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json_loads_bounded(raw, where="metadata")
        except ParseError as exc:
            raise BadRequest(
                f"metadata must be a JSON object: {exc.detail}", details={"metadata": "invalid JSON"}
            ) from exc
    if not isinstance(raw, dict):
        raise BadRequest("metadata must be a JSON object.", details={"metadata": "not an object"})
    user_part = raw.get("user", {})
    if not isinstance(user_part, dict):
        raise BadRequest("metadata.user must be an object.", details={"metadata.user": "not an object"})
    return user_part


def item_upload(
    *,
    user: User,
    dataset_id: str,
    path: str,
    fileobj: BinaryIO,
    original_name: str | None = None,
    metadata: str | dict | None = None,
    description: str | None = None,
    mode: str = "skip",
) -> tuple[Item, str]:
    """Store an uploaded image as an item at `path`: (item, 'created' | 'overwrite' | 'skip').

    The bytes are hashed and checked before anything is written to the database, and a
    failure leaves neither a row nor a blob behind.
    """
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="item.create")
    if mode not in UPLOAD_MODES:
        raise BadRequest(f"mode must be one of {', '.join(UPLOAD_MODES)}.", details={"mode": mode})
    filename = normalize_path(path)
    directory, name = split_path(filename)
    user_metadata = _parse_user_metadata(metadata)
    temp_path, sha256, size = storage.spool(fileobj, max_bytes=settings.ITEM_MAX_UPLOAD_BYTES)
    placed = False
    try:
        # The path and its folders in one read: most uploads go into folders that exist.
        found = _items_at(dataset, [filename, *ancestors(directory)])
        existing = found.get(filename)
        if existing is not None and existing.type == Item.Type.DIR:
            raise Conflict(f"{filename} is a folder.")
        if existing is not None and mode == "skip":
            temp_path.unlink(missing_ok=True)
            return existing, "skip"
        info = inspect_image(temp_path)
        with transaction.atomic():
            # Locked (read FOR UPDATE, or created here) against a concurrent release.
            blob, blob_created = _blob_locked_or_created(sha256, size, info)
            folders_ensure(dataset=dataset, directory=directory, user=user, found=found)
            system = {
                "size": size,
                "mimetype": info.mimetype,
                "width": info.width,
                "height": info.height,
                "originalname": original_name or name,
                "encoding": "7bit",
                "isBinary": True,
                "refs": [],
            }
            item, op = _item_write(
                dataset, filename, blob, system, user_metadata, description, user, mode, seen=existing is not None
            )
            if op == "skip":  # lost a race for the path: these bytes are not kept
                temp_path.unlink(missing_ok=True)
                if blob_created:
                    _release_blobs_after_commit([sha256])
            else:
                # Last, once nothing but the commit can fail: a refused upload leaves no file.
                placed = storage.place(temp_path, blob.relative_path)
                if blob_created or not blob.has_thumbnail:
                    from annotator.core.job_queue import job_collect
                    from annotator.datasets.jobs import thumbnails_make

                    transaction.on_commit(lambda: job_collect(thumbnails_make, blob.sha256))
            broadcast(
                project_group(dataset.project_id),
                f"item.{'created' if op == 'created' else 'updated'}",
                item_json(item),
            )
        return item, op
    except BaseException:
        temp_path.unlink(missing_ok=True)
        if placed:
            _release_blobs_after_commit([sha256])
        raise


def items_upload_many(
    *, user: User, dataset_id: str, folder: str, files: list[tuple[str, BinaryIO]], mode: str = "skip"
) -> tuple[list[tuple[Item, str]], list[dict[str, Any]]]:
    """Upload several files into `folder`, each on its own: ([(item, op)], [errors]).

    A bad file is reported and the others go on; a caller who may not upload here at all
    gets the 403/404 at once.
    """
    dataset_require(user=user, dataset_id=dataset_id, operation="item.create")
    stored, errors = [], []
    for name, fileobj in files:
        try:
            stored.append(
                item_upload(
                    user=user,
                    dataset_id=dataset_id,
                    path=join_path(folder, name),
                    fileobj=fileobj,
                    original_name=name,
                    mode=mode,
                )
            )
        except (NotFound, Forbidden):
            raise
        except ApiError as exc:
            errors.append({"name": name, "status": exc.status_code, "message": str(exc.detail)})
    return stored, errors


def _blob_locked_or_created(sha256: str, size: int, info) -> tuple[Blob, bool]:
    """The blob of these bytes, made here or locked (FOR UPDATE) against a concurrent
    release: (blob, created). As get_or_create, in one round trip for new bytes."""
    for _attempt in range(3):
        blob = Blob(sha256=sha256, size=size, mimetype=info.mimetype, width=info.width, height=info.height)
        if _BLOB_INSERT.insert(blob):
            return blob, True
        blob = _BLOB_LOCKED.first(sha256)
        if blob is not None:
            return blob, False
        # released between the two statements: make it again
    raise Conflict("The stored image was being removed during the upload; try again.")


def _item_write(dataset, filename, blob, system, user_metadata, description, user, mode, *, seen):
    """Create the item, or replace an existing one's bytes and metadata (mode=overwrite).

    `seen`: the read before the transaction found an item at the path. If it did not, the
    insert goes first (one round trip); if another upload made the path since, this one
    behaves as if it came second, as it does when the item was seen."""
    insert_first = not seen
    for _attempt in range(3):
        if insert_first:
            item = _new_item(
                dataset,
                Item.Type.FILE,
                filename,
                user,
                blob=blob,
                metadata={"system": system, "user": user_metadata},
                description=description or "",
            )
            if _ITEM_INSERT.insert(item):
                # No task holds an item that is not committed yet: its JSON needs no query for task refs.
                item_without_task_items(item)
                dataset_items_changed(dataset_id=dataset.pk, files=1)
                return item, "created"
        existing = _item_at(dataset, filename, for_update=True)
        if existing is not None:
            return _item_overwrite(existing, dataset, blob, system, user_metadata, description, user, mode)
        insert_first = True  # deleted since it was seen
    raise Conflict(f"{filename} changed too often during the upload; try again.")


def _new_item(dataset: Dataset, item_type: str, filename: str, user: User, **fields: Any) -> Item:
    directory, name = split_path(filename)
    return Item(
        dataset=dataset,
        type=item_type,
        filename=filename,
        name=name,
        dir=directory,
        creator=user,
        updated_by=user,
        **fields,
    )


def _item_overwrite(existing, dataset, blob, system, user_metadata, description, user, mode):
    if existing.type == Item.Type.DIR:
        raise Conflict(f"{existing.filename} is a folder.")
    if mode == "skip":
        return existing, "skip"
    old_blob = existing.blob_id
    existing.blob = blob
    existing.metadata = {"system": {**(existing.metadata or {}).get("system", {}), **system}, "user": user_metadata}
    existing.description = description or ""
    existing.updated_by = user
    existing.save(update_fields=["blob", "metadata", "description", "updated_by", "updated_at"])
    if existing.annotations_count and old_blob != blob.sha256:
        _clear_annotations(existing, user)
    if old_blob and old_blob != blob.sha256:
        _release_blobs_after_commit([old_blob])
    dataset_items_changed(dataset_id=dataset.pk)
    return existing, "overwrite"


def _clear_annotations(item: Item, user: User) -> None:
    """New bytes make the old annotations meaningless (as on Dataloop); they stay restorable."""
    from annotator.annotations.services import annotations_clear  # annotations build on datasets

    annotations_clear(user=user, item=item)


def _item_with_context(*, for_update: bool):
    related = ("creator", "updated_by", "blob", "dataset__creator", "dataset__project__creator")
    queryset = Item.objects.select_related(*related)
    if for_update:
        queryset = queryset.select_for_update(of=("self",))  # the joined rows stay unlocked
    return CompiledLookup(lambda item_id: queryset.filter(pk=item_id)[:1])


# Every upload reads its path and its blob: compiled once (core/compiled.py).
_BLOB_LOCKED = CompiledLookup(lambda sha256: Blob.objects.select_for_update().filter(pk=sha256)[:1])
_BLOB_INSERT = CompiledInsert(Blob)
_ITEM_INSERT = CompiledInsert(Item)


def _item_at(dataset: Dataset, filename: str, *, for_update: bool = False) -> Item | None:
    """The item at `filename` in `dataset` (with its creator and updater), or None."""
    return _items_at_paths(1, for_update=for_update).first(dataset.pk, filename)


def _items_at(dataset: Dataset, filenames: list[str]) -> dict[str, Item]:
    """The items at these paths in `dataset` (with their creators and updaters), by path."""
    if not filenames:
        return {}
    return {item.filename: item for item in _items_at_paths(len(filenames)).rows(dataset.pk, *filenames)}


@functools.lru_cache(maxsize=32)
def _items_at_paths(count: int, *, for_update: bool = False) -> CompiledLookup:
    """Compiled once per number of paths (a path and its folders: a few) and locking."""
    queryset = Item.objects.select_related("creator", "updated_by")
    if for_update:
        queryset = queryset.select_for_update(of=("self",))
    return CompiledLookup(lambda dataset_id, *filenames: queryset.filter(dataset_id=dataset_id, filename__in=filenames))


# Nearly every item route reads the item this way: compiled once (core/compiled.py).
_ITEM = _item_with_context(for_update=False)
_ITEM_LOCKED = _item_with_context(for_update=True)


# Annotation writes, which never answer with the item's JSON: the item locked with its
# dataset and project (not their people or blob), only if the caller is a member, and the
# caller's role, in one query.
def item_locked_for_member_query(item_id: str, user_id: str) -> QuerySet:
    """The query `item_lock_for_member` runs, for its caller to compile (with what more it reads
    along: annotation writes add their recipe's stamp)."""
    return (
        Item.objects.select_related("dataset__project")
        .select_for_update(of=("self",))  # the item's row only: a non-member's id matches no row, locks nothing
        .filter(pk=item_id, dataset__project__memberships__user_id=user_id)
        .annotate(viewer_role=F("dataset__project__memberships__role"))[:1]
    )


def item_require(*, user: User, item_id: str, operation: str, for_update: bool = False) -> Item:
    """The item (with its dataset and project) if `user` may perform `operation` on it; 404 for
    non-members and unknown ids. Two queries (item with dataset and project, then the role, which
    the API's access gate has usually read already). `for_update` locks the item's row in the
    same query on PostgreSQL (the lock is released at once when the check fails: the 404 or 403
    rolls the transaction back). SQLite has no row locks: its writers are serialised by the
    write transaction itself."""
    lookup = _ITEM_LOCKED if for_update else _ITEM
    item = lookup.first(item_id) if is_valid_id(item_id) else None
    if item is None:
        raise NotFound("Item not found.")
    dataset = item.dataset
    dataset.project.viewer_role = role_require(user=user, project_id=dataset.project_id, operation=operation)
    return item


def item_lock_for_member(*, user: User, item_id: str, operation: str, lookup: CompiledLookup) -> Item:
    """The item, locked, with its dataset and project (reaching their people or the blob is a
    query each), if `user` may perform `operation` on it, in one query: the item is found only
    through the caller's membership, which brings the role along. 404 for non-members and
    unknown ids, as the API's access gate answers, so a route whose item this reads may leave
    the gate's own read of it out (`entities_checked_by_service`). `lookup`: the caller's
    compiled `item_locked_for_member_query`."""
    item = lookup.first(item_id, user.id) if is_valid_id(item_id) else None
    if item is None:
        raise NotFound("Item not found.")
    role = item.viewer_role
    if not role_allows(role, operation):
        raise Forbidden(f"Your role ({role}) does not allow {operation}.")
    item.dataset.project.viewer_role = role
    return item


ITEM_WRITABLE = {"metadata", "description", "hidden", "filename", "name", "dir"}


@transaction.atomic
def item_update(*, user: User, item_id: str, diff: dict[str, Any], system: bool = False) -> Item:
    """Apply a sparse diff as dtlpy sends it: deep-merged, `null` deletes a key.

    Read-only keys the SDK echoes back (urls, counts, timestamps) are ignored.
    `metadata.system` and moves (`filename`) need `?system=true` and item.update_system.
    """
    if not isinstance(diff, dict):
        raise BadRequest("The body must be a JSON object.")
    item = item_require(user=user, item_id=item_id, operation="item.update", for_update=True)
    project_role = item.dataset.project.viewer_role
    metadata_diff = diff.get("metadata")
    if metadata_diff is not None:
        if not isinstance(metadata_diff, dict):
            raise BadRequest("metadata must be an object.", details={"metadata": "invalid"})
        if "system" in metadata_diff and metadata_diff["system"] is not None:
            if not system:
                metadata_diff = {k: v for k, v in metadata_diff.items() if k != "system"}
            elif not role_allows(project_role, "item.update_system"):
                raise Forbidden("Your role may not change system metadata.")
        elif "system" in metadata_diff:
            metadata_diff = {k: v for k, v in metadata_diff.items() if k != "system"}  # never delete system wholesale
        if (
            "user" in metadata_diff
            and metadata_diff["user"] is not None
            and not isinstance(metadata_diff["user"], dict)
        ):
            raise BadRequest("metadata.user must be an object.", details={"metadata.user": "invalid"})
        merged = deep_merge(item.metadata or {}, metadata_diff)
        merged.setdefault("user", {})
        merged.setdefault("system", {})
        item.metadata = merged
    if diff.get("description") is not None:
        if not isinstance(diff["description"], str):
            raise BadRequest("description must be a string.")
        item.description = diff["description"]
    if isinstance(diff.get("hidden"), bool):
        item.hidden = diff["hidden"]
    new_filename = diff.get("filename")
    if new_filename is not None and system and normalize_path(new_filename) != item.filename:
        if not role_allows(project_role, "item.update_system"):
            raise Forbidden("Your role may not move items.")
        _move(item, normalize_path(new_filename), user)
    item.updated_by = user
    item.save()
    dataset_items_changed(dataset_id=item.dataset_id)
    broadcast(project_group(item.dataset.project_id), "item.updated", item_json(item))
    return item


def _move(item: Item, filename: str, user: User) -> None:
    if item.type == Item.Type.DIR:
        raise BadRequest("Folders cannot be moved yet.")
    if Item.objects.filter(dataset_id=item.dataset_id, filename=filename).exists():
        raise Conflict(f"{filename} already exists.")
    directory, name = split_path(filename)
    folders_ensure(dataset=item.dataset, directory=directory, user=user)
    item.filename, item.dir, item.name = filename, directory, name


@transaction.atomic
def item_delete(*, user: User, item_id: str) -> None:
    item = item_require(user=user, item_id=item_id, operation="item.delete", for_update=True)
    _delete_items(item.dataset, Item.objects.filter(pk=item.pk))
    broadcast(project_group(item.dataset.project_id), "item.deleted", {"id": item.id, "datasetId": item.dataset_id})


def _delete_items(dataset: Dataset, queryset) -> int:
    """Delete items (a folder takes its contents along), fix counts, release their blobs."""
    folders = list(queryset.filter(type=Item.Type.DIR).values_list("filename", flat=True))
    targets = Item.objects.filter(pk__in=queryset.values("pk"))
    for folder in folders:
        targets = targets | Item.objects.filter(dataset=dataset, filename__startswith=join_path(folder, ""))
    files = targets.filter(type=Item.Type.FILE)
    file_count = files.count()
    blob_ids = list(files.exclude(blob=None).values_list("blob_id", flat=True).distinct())
    deleted, _ = targets.delete()
    if deleted:
        dataset_items_changed(dataset_id=dataset.pk, files=-file_count)
    _release_blobs_after_commit(blob_ids)
    return deleted


# --- blobs ---------------------------------------------------------------------------------------------
def _release_blobs_after_commit(sha256s: list[str]) -> None:
    if sha256s:
        transaction.on_commit(lambda: blobs_release(sha256s=sha256s))


def blobs_release(*, sha256s: list[str]) -> None:
    """Delete blobs (rows and files) that no item references any more, and files whose row
    was rolled back (an upload that failed at its commit)."""
    for sha256 in sha256s:
        with transaction.atomic():
            blob = _BLOB_LOCKED.first(sha256)
            if blob is None:
                _file_without_row_remove(sha256)
                continue
            if Item.objects.filter(blob_id=sha256).exists() or _used_as_document(sha256):
                continue
            relative, thumbnail = blob.relative_path, blob.thumbnail_relative_path
            blob.delete()
            transaction.on_commit(lambda r=relative, t=thumbnail: (storage.remove(r), storage.remove(t)))


def _file_without_row_remove(sha256: str) -> None:
    """Remove the file of bytes that have no row, holding their key: a placeholder row, made
    and deleted in this transaction, makes a concurrent upload of the same bytes wait, so
    that it places its file after this removal, not before."""
    claim = Blob(sha256=sha256, size=0, mimetype="")
    if _BLOB_INSERT.insert(claim):  # else an upload has made the row since: the file is its
        storage.remove(claim.relative_path)
        storage.remove(claim.thumbnail_relative_path)
        claim.delete()


def _used_as_document(sha256: str) -> bool:
    from annotator.ontologies.models import Recipe

    return Recipe.objects.filter(instructions_blob_sha256=sha256).exists()


def blob_thumbnails_make(*, sha256s: list[str]) -> int:
    """Make these blobs' thumbnails (idempotent): how many of the blobs exist.

    A thumbnail that fails does not stop the others: the ones made are recorded, then the
    first error is raised (the job retries; the recorded ones are skipped then)."""
    from annotator.datasets.images import make_thumbnail

    blobs = list(Blob.objects.filter(pk__in=sha256s))
    made, failures = [], []
    for blob in blobs:
        if blob.has_thumbnail and storage.media_path(blob.thumbnail_relative_path).exists():
            continue
        try:
            make_thumbnail(
                storage.media_path(blob.relative_path),
                storage.media_path(blob.thumbnail_relative_path),
                size=settings.THUMBNAIL_SIZE,
            )
        except OSError as exc:
            failures.append(exc)
        else:
            made.append(blob.sha256)
    if made:
        Blob.objects.filter(pk__in=made).update(has_thumbnail=True)
    if failures:
        raise failures[0]
    return len(blobs)


# --- bulk operations by query ------------------------------------------------------------------------
BULK_BATCH = 500


def _bulk_targets(dataset: Dataset, compiled) -> Any:
    return compiled.apply(Item.objects.filter(dataset=dataset)).order_by("id")


def _check_bulk_update(user: User, dataset: Dataset, update: dict, system_space: bool) -> dict:
    if set(update) != {"metadata"} or not isinstance(update["metadata"], dict):
        raise BadRequest("A bulk update may only change metadata.", details={"update": "invalid"})
    metadata = update["metadata"]
    if "system" in metadata and not system_space:
        raise BadRequest("Changing metadata.system needs systemSpace: true.", details={"update": "metadata.system"})
    if set(metadata) - {"user", "system"}:
        raise BadRequest("metadata holds only user and system.", details={"update": sorted(metadata)})
    operation = "item.update_system" if "system" in metadata else "item.update"
    if not role_allows(dataset.project.viewer_role, operation):
        raise Forbidden(f"Your role ({dataset.project.viewer_role}) does not allow {operation}.")
    return metadata


def _apply_update(dataset: Dataset, ids: list[str], metadata_diff: dict, user: User) -> None:
    with transaction.atomic():
        items = list(Item.objects.select_for_update().filter(pk__in=ids))
        for item in items:
            merged = deep_merge(item.metadata or {}, metadata_diff)
            merged.setdefault("user", {})
            merged.setdefault("system", {})
            item.metadata = merged
            item.updated_by = user
        Item.objects.bulk_update(items, ["metadata", "updated_by"])
        dataset_items_changed(dataset_id=dataset.pk)


def _batches(queryset) -> Any:
    """Ids in id order, a batch at a time, by keyset (safe while rows change)."""
    last = ""
    while True:
        ids = list(queryset.filter(pk__gt=last).values_list("pk", flat=True)[:BULK_BATCH])
        if not ids:
            return
        yield ids
        last = ids[-1]


def items_bulk_update(*, user: User, dataset: Dataset, compiled) -> dict[str, Any]:
    """Deep-merge the query's `update` into every matching item's metadata, in batches."""
    metadata_diff = _check_bulk_update(user, dataset, compiled.update, compiled.system_space)
    updated = 0
    for ids in _batches(_bulk_targets(dataset, compiled)):
        _apply_update(dataset, ids, metadata_diff, user)
        updated += len(ids)
    broadcast(project_group(dataset.project_id), "items.bulk_updated", {"datasetId": dataset.id, "count": updated})
    return {"updated": updated}


def items_bulk_delete(*, user: User, dataset: Dataset, compiled) -> dict[str, Any]:
    if not role_allows(dataset.project.viewer_role, "item.delete"):
        raise Forbidden(f"Your role ({dataset.project.viewer_role}) does not allow item.delete.")
    deleted = 0
    for ids in _batches(_bulk_targets(dataset, compiled)):
        with transaction.atomic():
            deleted += _delete_items(dataset, Item.objects.filter(pk__in=ids))
    broadcast(project_group(dataset.project_id), "items.bulk_deleted", {"datasetId": dataset.id, "count": deleted})
    return {"deleted": deleted}
