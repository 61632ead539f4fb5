"""Every write to annotations: create, update, delete, batch, restore, review status.

Concurrency: every write locks the item's row first (`item_lock_for_member`), so
the writes to one item's annotations are serialised, on SQLite and PostgreSQL alike. That
keeps `annotationsCount` and `annotated` exact and makes the version check race-free: of two
clients updating the same version, one wins and the other gets 409 with the current state.
Every change writes an AnnotationChange row (who, when, before, after) in the same
transaction; an event goes to the item's group after commit.
"""

from __future__ import annotations

import copy as copy_module
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotator.accounts.models import User
from annotator.annotations.bulk import (
    ChangeRow,
    NewAnnotation,
    insert_annotation_rows,
    insert_annotations,
    write_item_annotations,
)
from annotator.annotations.geometry import BINARY, NOTE, TYPES, bounds, clean_coordinates
from annotator.annotations.masks import Mask, mask_decode, mask_encode, mask_from_data_url
from annotator.annotations.models import Annotation, AnnotationChange
from annotator.annotations.serializers import annotation_json, stored_json
from annotator.annotations.validation import RECIPE_STAMP_UNREAD, RecipeRules, recipe_rules, with_recipe_stamp
from annotator.core.compiled import CompiledLookup
from annotator.core.errors import BadRequest, Conflict, Forbidden, NotFound
from annotator.core.events import broadcast, item_group
from annotator.core.ids import is_valid_id, new_id
from annotator.core.jsonmerge import deep_merge
from annotator.core.permissions import role_allows
from annotator.datasets.models import Dataset, Item
from annotator.datasets.services import dataset_items_changed, item_lock_for_member, item_locked_for_member_query

STATUSES = ("issue", "review", "approved")
# Who may set each review status (None clears it); see core/permissions.py.
STATUS_OPERATIONS = {
    "issue": "item.review",
    "approved": "item.review",
    None: "item.review",
    "review": "annotation.update",
}
# Keys the server owns in metadata.system; a client's values for them are ignored.
SERVER_SYSTEM_KEYS = ("statusHistory",)


@dataclass
class WriteContext:
    """One request's view of an item: the locked row, the recipe's rules, the caller's role."""

    user: User
    item: Item
    rules: RecipeRules
    role: str
    system: bool = True  # may the request change metadata.system (PUT needs ?system=true)
    strict_bounds: bool = False  # refuse points outside the image instead of clamping (imports)
    changes: list[ChangeRow] = field(default_factory=list)
    created: list[Annotation] = field(default_factory=list)
    updated: list[Annotation] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pending: list[Annotation] = field(default_factory=list)  # created, inserted together by _flush
    issue_raised: bool = False  # a status became "issue": the item reopens in its tasks
    event_json: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, as announced (masks in RLE)
    # When the request's annotations are created: one time for all of them, as for one
    # transaction (and formatted once: core.json.iso keeps its answers by instant).
    now: datetime = field(default_factory=timezone.now)

    def require(self, operation: str) -> None:
        if not role_allows(self.role, operation):
            raise Forbidden(f"Your role ({self.role}) does not allow {operation}.")

    def written_json(self, annotations: Sequence[Annotation], *, mask_format: str) -> list[dict[str, Any]]:
        """Written annotations as the answer gives them: the JSON their event carried, but
        for masks asked for as PNG (the event's are RLE)."""
        return [
            self.event_json[a.id]
            if a.type != BINARY or mask_format == "rle"
            else annotation_json(a, mask_format=mask_format, colors=self.rules.colors)
            for a in annotations
        ]


# The item locked for a member, with its dataset's recipe stamp (PostgreSQL) in the same query.
_ITEM_LOCKED_WITH_RECIPE_STAMP = CompiledLookup(
    lambda item_id, user_id: with_recipe_stamp(item_locked_for_member_query(item_id, user_id))
)


def _context(*, user: User, item_id: str, operation: str, system: bool = True) -> WriteContext:
    item = item_lock_for_member(user=user, item_id=item_id, operation=operation, lookup=_ITEM_LOCKED_WITH_RECIPE_STAMP)
    if item.type != Item.Type.FILE:
        raise BadRequest("Folders cannot be annotated.")
    rules = recipe_rules(item.dataset, stamp=getattr(item, "recipe_stamp", RECIPE_STAMP_UNREAD))
    return WriteContext(user=user, item=item, rules=rules, role=item.dataset.project.viewer_role, system=system)


def item_dimensions(item: Item) -> tuple[int | None, int | None]:
    system = (item.metadata or {}).get("system") or {}
    width, height = system.get("width"), system.get("height")
    return (width if isinstance(width, int) else None), (height if isinstance(height, int) else None)


# --- cleaning input --------------------------------------------------------------------------------
def _clean_mask(raw: Any, item: Item, where: str) -> dict[str, Any]:
    width, height = item_dimensions(item)
    if isinstance(raw, dict) and isinstance(raw.get("counts"), str):  # COCO RLE, as the studio sends it
        size = raw.get("size")
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(n, int) and n > 0 for n in size)):
            raise BadRequest(f"{where}: an RLE mask needs size [height, width].", details={"field": where})
        if width and height and size != [height, width]:
            raise BadRequest(
                f"{where}: the mask is {size[1]}x{size[0]}; the item is {width}x{height}.", details={"field": where}
            )
        if size[0] * size[1] > settings.IMAGE_MAX_PIXELS:
            raise BadRequest(f"{where}: the mask has too many pixels.", details={"field": where})
        try:
            mask = mask_decode(Mask(height=size[0], width=size[1], counts=raw["counts"], bbox=None))
        except ValueError as exc:
            raise BadRequest(f"{where}: invalid RLE ({exc}).", details={"field": where}) from exc
    else:
        try:
            mask = mask_from_data_url(raw, width=width, height=height)
        except BadRequest as exc:
            raise BadRequest(f"{where}: {exc.detail}", code="invalid_mask", details={"field": where}) from exc
    if not mask.any():
        raise BadRequest(f"{where}: the mask is empty.", code="invalid_mask", details={"field": where})
    return mask_encode(mask).to_json()


def _clean_metadata(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: metadata must be an object.", details={"field": f"{where}.metadata"})
    system, user = raw.get("system") or {}, raw.get("user") or {}
    if not isinstance(system, dict) or not isinstance(user, dict):
        raise BadRequest(
            f"{where}: metadata.system and metadata.user must be objects.", details={"field": f"{where}.metadata"}
        )
    system = {k: v for k, v in system.items() if k not in SERVER_SYSTEM_KEYS and v is not None}
    return {"system": system, "user": user}


def _check_status_change(ctx: WriteContext, before: Any, after: Any, where: str) -> None:
    if before == after:
        return
    if after is not None and after not in STATUSES:
        raise BadRequest(
            f"{where}: metadata.system.status must be one of {', '.join(STATUSES)} or null.",
            details={"field": f"{where}.metadata.system.status"},
        )
    ctx.require(STATUS_OPERATIONS[after])
    if after == "issue":
        ctx.issue_raised = True


def _check_links(ctx: WriteContext, system: dict[str, Any], where: str, own_id: str | None = None) -> None:
    parent = system.get("parentId")
    if parent is None:
        return
    if not isinstance(parent, str) or parent == own_id:
        raise BadRequest(f"{where}: parentId must name another annotation.", details={"field": f"{where}.parentId"})
    if (
        parent not in {a.id for a in ctx.pending}
        and not Annotation.objects.filter(pk=parent, item_id=ctx.item.id).exists()
    ):
        raise BadRequest(
            f"{where}: parentId {parent!r} is not an annotation of this item.", details={"field": f"{where}.parentId"}
        )
    object_id = system.get("objectId")
    if object_id is not None and not isinstance(object_id, str | int):
        raise BadRequest(f"{where}: objectId must be text or a number.", details={"field": f"{where}.objectId"})


def _clean(ctx: WriteContext, raw: dict[str, Any], where: str, own_id: str | None = None) -> dict[str, Any]:
    """The stored fields of an annotation given whole (a creation, or an update merged in)."""
    kind = raw.get("type")
    if kind not in TYPES:
        raise BadRequest(f"{where}: type must be one of {', '.join(TYPES)}.", details={"field": f"{where}.type"})
    metadata = _clean_metadata(raw.get("metadata"), where)
    system = metadata["system"]
    attributes = system.setdefault("attributes", {})
    ctx.rules.check(kind=kind, label=raw.get("label"), attributes=attributes, where=where)
    _check_links(ctx, system, where, own_id)
    width, height = item_dimensions(ctx.item)
    if kind == BINARY:
        coordinates = _clean_mask(raw.get("coordinates"), ctx.item, f"{where}.coordinates")
    else:
        coordinates = clean_coordinates(
            kind,
            raw.get("coordinates"),
            width=width,
            height=height,
            where=f"{where}.coordinates",
            strict=ctx.strict_bounds,
        )
    description = raw.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 10_000):
        raise BadRequest(f"{where}: description must be text.", details={"field": f"{where}.description"})
    return {
        "type": kind,
        "label": raw["label"].strip(),
        "coordinates": coordinates,
        "metadata": metadata,
        "description": description,
    }


# --- the writes, inside a locked item ------------------------------------------------------------
def _record(ctx: WriteContext, action: str, annotation_id: str, version: int, before, after) -> None:
    ctx.changes.append(ChangeRow(annotation_id, ctx.item.id, action, version, before, after, ctx.user.id))


def _create(ctx: WriteContext, raw: Any, where: str, *, action: str = AnnotationChange.Action.CREATED) -> Annotation:
    ctx.require("annotation.create")
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: an annotation is an object.", details={"field": where})
    fields = _clean(ctx, raw, where)
    _check_status_change(ctx, None, fields["metadata"]["system"].get("status"), where)
    annotation = _new_annotation(
        item=ctx.item,
        user=ctx.user,
        values={"id": new_id(), "version": 1, "created_at": ctx.now, "updated_at": ctx.now, **fields},
    )
    ctx.pending.append(annotation)
    _record(ctx, action, annotation.id, annotation.version, None, stored_json(annotation))
    ctx.created.append(annotation)
    return annotation


_ANNOTATION_FIELDS = tuple(field.attname for field in Annotation._meta.concrete_fields)


def _new_annotation(*, item: Item, user: User, values: dict[str, Any]) -> Annotation:
    """An unsaved annotation of `item` by `user`, built from its fields' values in their
    declared order: Django's keyword path (relations set through their descriptors) cost
    ~10 µs an annotation, this ~4. The item and the author are cached as if fetched."""
    people = {"creator_id": user.id, "updated_by_id": user.id}
    values = {**values, "item_id": item.id, "dataset_id": item.dataset_id, **people}
    annotation = Annotation(*(values[name] for name in _ANNOTATION_FIELDS))
    annotation._state.fields_cache.update(item=item, creator=user, updated_by=user)
    return annotation


def annotation_build(ctx: WriteContext, raw: Any, where: str) -> NewAnnotation:
    """An unsaved, checked annotation for `ctx.item` (imports insert these in bulk through
    `annotations_insert`); BadRequest naming `where` and the field if it is invalid."""
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: an annotation is an object.", details={"field": where})
    fields = _clean(ctx, raw, where)
    _check_status_change(ctx, None, fields["metadata"]["system"].get("status"), where)
    return NewAnnotation(
        id=new_id(),
        item_id=ctx.item.id,
        dataset_id=ctx.item.dataset_id,
        creator_id=ctx.user.id,
        updated_by_id=ctx.user.id,
        **fields,
    )


def _flush(ctx: WriteContext) -> None:
    """Insert the annotations created so far, in one statement."""
    if ctx.pending:
        insert_annotation_rows(ctx.pending)
        _saved(ctx)


def _saved(ctx: WriteContext) -> None:
    for annotation in ctx.pending:  # saved now: a later save() of one must UPDATE it
        annotation._state.adding, annotation._state.db = False, "default"
    ctx.pending = []


def _locked_annotation(ctx: WriteContext, annotation_id: Any, where: str) -> Annotation:
    annotation = (
        Annotation.objects.select_related("creator", "updated_by").filter(pk=annotation_id, item_id=ctx.item.id).first()
        if isinstance(annotation_id, str) and is_valid_id(annotation_id)
        else None
    )
    if annotation is None:
        raise NotFound(f"{where}: annotation {annotation_id!r} not found on this item.", details={"field": where})
    return annotation


def _check_version(annotation: Annotation, version: Any, where: str) -> None:
    if version is None:
        return
    if isinstance(version, bool) or not isinstance(version, int):
        raise BadRequest(f"{where}: version must be an integer.", details={"field": f"{where}.version"})
    if version != annotation.version:
        raise Conflict(
            f"{where}: annotation {annotation.id} is at version {annotation.version}, not {version}; "
            "reload it and apply your change again.",
            code="version_conflict",
            details={"field": f"{where}.version", "current": annotation_json(annotation)},
        )


def annotation_write_update(ctx: WriteContext, annotation: Annotation, diff: Any, where: str) -> Annotation:
    ctx.require("annotation.update")
    if not isinstance(diff, dict):
        raise BadRequest(f"{where}: the update is an object.", details={"field": where})
    _check_version(annotation, diff.get("version"), where)
    before = stored_json(annotation)
    if diff.get("type") is not None and diff["type"] != annotation.type:
        raise BadRequest(f"{where}: an annotation's type cannot change.", details={"field": f"{where}.type"})
    merged: dict[str, Any] = {"type": annotation.type, "label": annotation.label, "description": annotation.description}
    merged["metadata"] = deep_merge(annotation.metadata or {}, _metadata_diff(ctx, diff.get("metadata"), where))
    for key in ("label", "description"):
        if diff.get(key) is not None:
            merged[key] = diff[key]
    coordinates_changed = diff.get("coordinates") is not None
    if coordinates_changed:
        merged["coordinates"] = diff["coordinates"]
    elif annotation.type == BINARY:
        merged["coordinates"] = {"counts": annotation.coordinates["counts"], "size": annotation.coordinates["size"]}
    else:
        merged["coordinates"] = annotation.coordinates
    fields = _clean(ctx, merged, where, own_id=annotation.id)
    old_status = ((annotation.metadata or {}).get("system") or {}).get("status")
    _check_status_change(ctx, old_status, fields["metadata"]["system"].get("status"), where)
    if not coordinates_changed and annotation.type == BINARY:
        fields["coordinates"] = annotation.coordinates  # unchanged mask: keep the stored form as it is
    changed = [name for name, value in fields.items() if getattr(annotation, name) != value]
    if not changed:
        return annotation
    for name in changed:
        setattr(annotation, name, fields[name])
    annotation.version += 1
    annotation.updated_by = ctx.user
    annotation.save(update_fields=[*changed, "version", "updated_by", "updated_at"])
    _record(ctx, AnnotationChange.Action.UPDATED, annotation.id, annotation.version, before, stored_json(annotation))
    ctx.updated.append(annotation)
    return annotation


def _metadata_diff(ctx: WriteContext, diff: Any, where: str) -> dict[str, Any]:
    if diff is None:
        return {}
    if not isinstance(diff, dict):
        raise BadRequest(f"{where}: metadata must be an object.", details={"field": f"{where}.metadata"})
    system = diff.get("system")
    if "system" in diff and not isinstance(system, dict):
        diff = {k: v for k, v in diff.items() if k != "system"}  # never wiped whole
    elif system is not None and not ctx.system:
        # Without ?system=true only the attribute values apply: dtlpy's plain update() sends them
        # there, and they are the annotator's work; status, links and the rest need the flag.
        kept = {k: v for k, v in system.items() if k == "attributes"}
        diff = {**{k: v for k, v in diff.items() if k != "system"}, **({"system": kept} if kept else {})}
    return diff


def annotation_write_delete(ctx: WriteContext, annotation: Annotation, version: Any, where: str) -> None:
    ctx.require("annotation.delete")
    _check_version(annotation, version, where)
    before = stored_json(annotation)
    children = list(Annotation.objects.filter(item_id=ctx.item.id, metadata__system__parentId=annotation.id))
    annotation.delete()
    _record(ctx, AnnotationChange.Action.DELETED, before["id"], before["version"], before, None)
    ctx.deleted.append(before["id"])
    for child in children:  # a child without its parent means nothing (e.g. a note on it)
        if child.id not in ctx.deleted:
            annotation_write_delete(ctx, child, None, f"{where} (child {child.id})")


def annotations_write_finish(ctx: WriteContext) -> None:
    """Write history, fix the item's counts, reopen the item on an issue, announce after commit."""
    item = ctx.item
    count = item.annotations_count + len(ctx.created) - len(ctx.deleted)
    was_annotated, annotated = item.annotated, count > 0
    changed = count != item.annotations_count
    write_item_annotations(
        annotations=ctx.pending, changes=ctx.changes, item_counts=(item.id, count, annotated) if changed else None
    )
    _saved(ctx)
    item.annotations_count, item.annotated = count, annotated
    # No items_version bump: it took a lock on the dataset's row until commit, which queued
    # every save in the dataset behind one another. Item queries that filter on what this
    # changes (annotated, annotationsCount, updatedAt) are counted afresh instead (volatile
    # fields, core/dql/resources.py).
    if annotated != was_annotated:
        step = 1 if annotated else -1
        Dataset.objects.filter(pk=item.dataset_id).update(annotated_count=F("annotated_count") + step)
    if ctx.issue_raised:
        from annotator.tasks.queue import item_reopen_for_issue  # tasks build on annotations

        item_reopen_for_issue(user=ctx.user, item_id=ctx.item.id)
    if ctx.created or ctx.updated or ctx.deleted:
        colors = ctx.rules.colors
        for annotation in (*ctx.created, *ctx.updated):
            ctx.event_json[annotation.id] = annotation_json(annotation, mask_format="rle", colors=colors)
        broadcast(
            item_group(ctx.item.id),
            "annotations.changed",
            {
                "itemId": ctx.item.id,
                "created": [ctx.event_json[a.id] for a in ctx.created],
                "updated": [ctx.event_json[a.id] for a in ctx.updated],
                "deleted": list(ctx.deleted),
                "annotationsCount": ctx.item.annotations_count,
            },
        )


def _limit(count: int) -> None:
    if count > settings.ANNOTATIONS_PER_REQUEST:
        raise BadRequest(f"At most {settings.ANNOTATIONS_PER_REQUEST} annotations per request.")


# --- public services -----------------------------------------------------------------------------
@transaction.atomic
def annotations_create(*, user: User, item_id: str, annotations: Any) -> tuple[list[Annotation], RecipeRules]:
    """Create every annotation of the list, or none (the first invalid one is a 400 naming it)."""
    if isinstance(annotations, dict):
        annotations = [annotations]
    if not isinstance(annotations, list):
        raise BadRequest("The body is a JSON array of annotations.")
    _limit(len(annotations))
    ctx = _context(user=user, item_id=item_id, operation="annotation.create")
    for i, raw in enumerate(annotations):
        _create(ctx, raw, f"annotations[{i}]")
    annotations_write_finish(ctx)
    return ctx.created, ctx.rules


@transaction.atomic
def annotation_update(
    *, user: User, annotation_id: str, diff: Any, system: bool = False
) -> tuple[Annotation, RecipeRules]:
    """Apply a sparse diff (dtlpy's PUT). `version` in the diff, when given, must be current."""
    item_id = annotation_item_id(user, annotation_id)
    ctx = _context(user=user, item_id=item_id, operation="annotation.update", system=system)
    annotation = annotation_write_update(
        ctx, _locked_annotation(ctx, annotation_id, "annotation"), diff, f"annotation {annotation_id}"
    )
    annotations_write_finish(ctx)
    return annotation, ctx.rules


@transaction.atomic
def annotation_delete(*, user: User, annotation_id: str, version: Any = None) -> None:
    item_id = annotation_item_id(user, annotation_id)
    ctx = _context(user=user, item_id=item_id, operation="annotation.delete")
    annotation_write_delete(
        ctx, _locked_annotation(ctx, annotation_id, "annotation"), version, f"annotation {annotation_id}"
    )
    annotations_write_finish(ctx)


@transaction.atomic
def annotations_batch(*, user: User, item_id: str, body: Any) -> WriteContext:
    """The studio's save: `{"create": [...], "update": [{id, version, ...diff}], "delete": [{id, version}]}`
    in one transaction. Any error (400, 404 or a 409 on a stale version) applies nothing."""
    # The item first: its view leaves the access gate's check of it to this (a stranger gets 404
    # whatever the body).
    ctx = _context(user=user, item_id=item_id, operation="annotation.view")
    if not isinstance(body, dict) or set(body) - {"create", "update", "delete"}:
        raise BadRequest("The body is {create: [...], update: [...], delete: [...]}.")
    parts = {key: body.get(key) or [] for key in ("create", "update", "delete")}
    if not all(isinstance(value, list) for value in parts.values()):
        raise BadRequest("create, update and delete are lists.")
    _limit(sum(len(value) for value in parts.values()))
    for i, entry in enumerate(parts["delete"]):
        entry = {"id": entry} if isinstance(entry, str) else entry
        where = f"delete[{i}]"
        if not isinstance(entry, dict):
            raise BadRequest(f"{where}: give {{id, version}}.", details={"field": where})
        annotation_write_delete(ctx, _locked_annotation(ctx, entry.get("id"), where), entry.get("version"), where)
    for i, entry in enumerate(parts["update"]):
        where = f"update[{i}]"
        if not isinstance(entry, dict):
            raise BadRequest(f"{where}: give {{id, version, ...changes}}.", details={"field": where})
        annotation_write_update(ctx, _locked_annotation(ctx, entry.get("id"), where), entry, where)
    for i, raw in enumerate(parts["create"]):
        _create(ctx, raw, f"create[{i}]")
    annotations_write_finish(ctx)
    return ctx


@transaction.atomic
def annotation_restore(*, user: User, annotation_id: str) -> tuple[Annotation, RecipeRules]:
    """Bring a deleted annotation back as it was, with the same id and the next version."""
    if not is_valid_id(annotation_id):
        raise NotFound("Annotation not found.")
    deletion = (
        AnnotationChange.objects.filter(annotation_id=annotation_id, action=AnnotationChange.Action.DELETED)
        .order_by("-id")
        .first()
    )
    if deletion is None:
        raise NotFound("No deleted annotation with this id.")
    ctx = _context(user=user, item_id=deletion.item_id, operation="annotation.create")
    ctx.require("annotation.create")
    if Annotation.objects.filter(pk=annotation_id).exists():
        raise Conflict("The annotation exists; only a deleted annotation can be restored.")
    stored = deletion.before
    annotation = Annotation(
        id=annotation_id,
        item=ctx.item,
        dataset_id=ctx.item.dataset_id,
        type=stored["type"],
        label=stored["label"],
        coordinates=stored["coordinates"],
        metadata=stored["metadata"],
        description=stored.get("description"),
        version=stored["version"] + 1,
        creator=User.objects.filter(email=stored.get("creator")).first() if stored.get("creator") else None,
        updated_by=user,
    )
    parent = (annotation.metadata.get("system") or {}).get("parentId")
    if parent and not Annotation.objects.filter(pk=parent, item_id=ctx.item.id).exists():
        raise Conflict(f"Restore its parent annotation {parent} first.")
    annotation.save(force_insert=True)
    _record(ctx, AnnotationChange.Action.RESTORED, annotation.id, annotation.version, None, stored_json(annotation))
    ctx.created.append(annotation)
    annotations_write_finish(ctx)
    return annotation, ctx.rules


@transaction.atomic
def annotation_status_set(
    *, user: User, annotation_id: str, status: Any, message: Any = None, version: Any = None
) -> tuple[Annotation, Annotation | None, RecipeRules]:
    """Set the review status; a message opens or continues the note thread pinned to it.

    Reviewers set `issue`, `approved` or clear it; annotators set `review` after fixing.
    The thread is a `note` annotation whose parentId is the annotation: `issue` opens it,
    `approved` closes it.
    """
    item_id = annotation_item_id(user, annotation_id)
    ctx = _context(user=user, item_id=item_id, operation="annotation.view")
    annotation = _locked_annotation(ctx, annotation_id, "annotation")
    if message is not None and (not isinstance(message, str) or not message.strip()):
        raise BadRequest("message must be non-empty text.", details={"field": "message"})
    if isinstance(message, str) and len(message) > settings.NOTE_MESSAGE_MAX:
        raise BadRequest(
            f"message is longer than {settings.NOTE_MESSAGE_MAX} characters.", details={"field": "message"}
        )
    if annotation.type == NOTE:
        raise BadRequest("A note has no review status; set it on the annotation it is pinned to.")
    _check_version(annotation, version, "annotation")
    old = ((annotation.metadata or {}).get("system") or {}).get("status")
    _check_status_change(ctx, old, status, "annotation")
    if status != old:
        before = stored_json(annotation)
        system = dict(annotation.metadata.get("system") or {})
        history = list(system.get("statusHistory") or [])[-49:]
        history.append({"status": status, "by": user.email, "at": timezone.now().isoformat()})
        system["status"], system["statusHistory"] = status, history
        annotation.metadata = {**annotation.metadata, "system": system}
        annotation.version += 1
        annotation.updated_by = user
        annotation.save(update_fields=["metadata", "version", "updated_by", "updated_at"])
        _record(
            ctx, AnnotationChange.Action.UPDATED, annotation.id, annotation.version, before, stored_json(annotation)
        )
        ctx.updated.append(annotation)
    note = _note_thread(ctx, annotation, status, message)
    annotations_write_finish(ctx)
    return annotation, note, ctx.rules


def _note_thread(ctx: WriteContext, annotation: Annotation, status: Any, message: str | None) -> Annotation | None:
    note = (
        Annotation.objects.select_related("creator", "updated_by")
        .filter(item_id=ctx.item.id, type=NOTE, metadata__system__parentId=annotation.id)
        .order_by("id")
        .first()
    )
    note_status = "closed" if status == "approved" else "issue" if status == "issue" else None
    if note is None:
        if message is None:
            return None
        left, top, right, bottom = _pin_box(ctx.item, annotation)
        raw = {
            "type": NOTE,
            "label": annotation.label,
            "coordinates": {"box": [{"x": left, "y": top}, {"x": right, "y": bottom}], "note": {"status": "issue"}},
            "metadata": {"system": {"parentId": annotation.id}},
        }
        note = _create(ctx, raw, "note")
        _flush(ctx)
    before = stored_json(note)
    thread = dict(note.coordinates["note"])
    messages = list(thread.get("messages") or [])
    if message is not None:
        now = timezone.now()
        messages.append(
            {"id": new_id(), "creator": ctx.user.email, "time": int(now.timestamp() * 1000), "body": message.strip()}
        )
    thread["messages"] = messages
    if note_status:
        thread["status"] = note_status
    coordinates = {**note.coordinates, "note": thread}
    if coordinates == note.coordinates:
        return note
    note.coordinates = coordinates
    if note not in ctx.created:
        note.version += 1
        note.updated_by = ctx.user
        ctx.updated.append(note)
        _record(ctx, AnnotationChange.Action.UPDATED, note.id, note.version, before, None)
    note.save()
    ctx.changes[-1].after = stored_json(note)
    return note


@transaction.atomic
def note_message_add(*, user: User, note_id: str, body: Any) -> tuple[Annotation, RecipeRules]:
    """Append a reply to a note's thread: `{id, creator, time, body}`, a new version and a history row.

    Anyone who may fix or review the item may reply (`annotation.update` or `item.review`);
    the thread's status is left as it is: replying neither raises nor closes an issue.
    """
    item_id = annotation_item_id(user, note_id)
    ctx = _context(user=user, item_id=item_id, operation="annotation.view")
    if not (role_allows(ctx.role, "annotation.update") or role_allows(ctx.role, "item.review")):
        raise Forbidden(f"Your role ({ctx.role}) does not allow replying to notes.")
    if not isinstance(body, str) or not body.strip():
        raise BadRequest("body must be non-empty text.", details={"field": "body"})
    if len(body) > settings.NOTE_MESSAGE_MAX:
        raise BadRequest(f"body is longer than {settings.NOTE_MESSAGE_MAX} characters.", details={"field": "body"})
    note = _locked_annotation(ctx, note_id, "note")
    if note.type != NOTE:
        raise BadRequest("Only a note has messages.", details={"field": "type"})
    before = stored_json(note)
    thread = dict(note.coordinates.get("note") or {})
    message = {
        "id": new_id(),
        "creator": user.email,
        "time": int(timezone.now().timestamp() * 1000),
        "body": body.strip(),
    }
    thread["messages"] = [*(thread.get("messages") or []), message]
    note.coordinates = {**note.coordinates, "note": thread}
    note.version += 1
    note.updated_by = user
    note.save(update_fields=["coordinates", "version", "updated_by", "updated_at"])
    _record(ctx, AnnotationChange.Action.UPDATED, note.id, note.version, before, stored_json(note))
    ctx.updated.append(note)
    annotations_write_finish(ctx)
    return note, ctx.rules


def _pin_box(item: Item, annotation: Annotation) -> tuple[float, float, float, float]:
    box = bounds(annotation.type, annotation.coordinates)
    if box is None:  # a classification: pin the note to the top-left corner
        return 0.0, 0.0, 1.0, 1.0
    left, top, right, bottom = box
    return left, top, max(right, left + 1), max(bottom, top + 1)


def annotation_item_id(user: User, annotation_id: str) -> str:
    """The item an annotation belongs to; 404 for an unknown id (the item check follows)."""
    item_id = (
        Annotation.objects.filter(pk=annotation_id).values_list("item_id", flat=True).first()
        if isinstance(annotation_id, str) and is_valid_id(annotation_id)
        else None
    )
    if item_id is None:
        raise NotFound("Annotation not found.")
    return item_id


def annotations_copy(*, user: User, pairs: list[tuple[str, Item]]) -> int:
    """Copy the annotations of each source item onto its new item (clone and merge; the caller
    holds the transaction and created the target items). Ids are new, links between the copies
    (parentId) follow them, and an annotation equal to one already copied onto the same target
    (a clone merged with its source) is copied once. Returns how many were copied."""
    targets: dict[str, list[Item]] = {}
    for source_id, target in pairs:
        targets.setdefault(source_id, []).append(target)
    seen: dict[str, set[str]] = {}
    copies: list[NewAnnotation] = []
    id_map: dict[tuple[str, str], str] = {}
    sources = Annotation.objects.filter(item_id__in=list(targets)).order_by("item_id", "id")
    for annotation in sources.iterator(chunk_size=2000):
        for target in targets[annotation.item_id]:
            # Equal content, whatever the parent's id is called in each copy.
            system = {k: v for k, v in (annotation.metadata.get("system") or {}).items() if k != "parentId"}
            content = [
                annotation.type,
                annotation.label,
                annotation.coordinates,
                system,
                annotation.metadata.get("user"),
            ]
            key = json.dumps(content, sort_keys=True)
            if key in seen.setdefault(target.id, set()):
                continue
            seen[target.id].add(key)
            copy = NewAnnotation(
                id=new_id(),
                item_id=target.id,
                dataset_id=target.dataset_id,
                type=annotation.type,
                label=annotation.label,
                coordinates=annotation.coordinates,
                metadata=copy_module.deepcopy(annotation.metadata),
                description=annotation.description,
                creator_id=annotation.creator_id,
                updated_by_id=user.id,
            )
            id_map[(target.id, annotation.id)] = copy.id
            copies.append(copy)
    for copy in copies:
        system = copy.metadata.get("system") or {}
        if system.get("parentId"):
            system["parentId"] = id_map.get((copy.item_id, system["parentId"]), system["parentId"])
    annotations_insert(user=user, annotations=copies, items=[target for _source, target in pairs])
    return len(copies)


def annotations_insert(*, user: User, annotations: Sequence[NewAnnotation | Annotation], items: list[Item]) -> None:
    """Insert checked annotations onto `items` in bulk (copies, imports), with their history
    rows, the items' counts and `annotated` flags, and the datasets' annotated counts. The
    caller holds the transaction; `items` are the rows the annotations belong to."""
    insert_annotations(annotations, actor_id=user.id)
    per_item: dict[str, int] = {}
    for annotation in annotations:
        per_item[annotation.item_id] = per_item.get(annotation.item_id, 0) + 1
    by_count: dict[int, list[str]] = {}
    for item_id, count in per_item.items():
        by_count.setdefault(count, []).append(item_id)
    for count, item_ids in by_count.items():  # one UPDATE per distinct count, not per item
        for start in range(0, len(item_ids), 1000):
            Item.objects.filter(pk__in=item_ids[start : start + 1000]).update(
                annotations_count=F("annotations_count") + count, annotated=True
            )
    newly_annotated: dict[str, int] = {}
    for target in {item.id: item for item in items}.values():
        if target.id in per_item and not target.annotated:
            target.annotated = True
            newly_annotated[target.dataset_id] = newly_annotated.get(target.dataset_id, 0) + 1
    for dataset_id, count in newly_annotated.items():
        Dataset.objects.filter(pk=dataset_id).update(annotated_count=F("annotated_count") + count)
    for dataset_id in {item.dataset_id for item in items if item.id in per_item}:
        dataset_items_changed(dataset_id=dataset_id)


def annotations_clear(*, user: User, item: Item) -> None:
    """Delete every annotation of an item whose row the caller has locked (an overwrite)."""
    item.dataset = Dataset.objects.select_related("project").get(pk=item.dataset_id)
    ctx = WriteContext(user=user, item=item, rules=RecipeRules(), role="owner")
    for annotation in Annotation.objects.filter(item_id=item.id).select_related("creator").order_by("-id"):
        if annotation.id not in ctx.deleted:
            annotation_write_delete(ctx, annotation, None, annotation.id)
    annotations_write_finish(ctx)
