"""Annotation JSON, Dataloop-shaped (dtlpy's Annotation.from_json reads every key below)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from annotator.annotations.geometry import BINARY
from annotator.annotations.masks import Mask, hex_to_rgb, mask_decode, mask_to_data_url
from annotator.annotations.models import Annotation, AnnotationChange
from annotator.core.json import iso

API = settings.API_BASE_PATH
MASK_FORMATS = ("png", "rle")


def _email(user) -> str | None:
    return user.email if user is not None else None


def _author(annotation: Annotation, relation: str) -> str | None:
    """The creator's or last editor's email: annotated onto listed rows by selectors.with_authors
    (a User instance per row costs more than the rest of the row), else read from the relation."""
    annotated = getattr(annotation, f"{relation}_email", _MISSING)
    return _email(getattr(annotation, relation)) if annotated is _MISSING else annotated


_MISSING = object()


def wire_coordinates(annotation: Annotation, *, mask_format: str = "png", colors: dict[str, str] | None = None) -> Any:
    """Coordinates as the API sends them: a binary mask becomes a PNG data URL in the label
    colour, or stays COCO RLE (`{"size", "counts", "bbox"}`) when the caller asked for that."""
    if annotation.type != BINARY:
        return annotation.coordinates
    if mask_format == "rle":
        return annotation.coordinates
    color = hex_to_rgb((colors or {}).get(annotation.label))
    return mask_to_data_url(mask_decode(Mask.from_json(annotation.coordinates)), color=color)


def annotation_json(
    annotation: Annotation, *, mask_format: str = "png", colors: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata = annotation.metadata or {}
    system = dict(metadata.get("system") or {})
    system.setdefault("status", None)
    system.setdefault("attributes", {})
    url = f"{API}/annotations/{annotation.id}"
    return {
        "id": annotation.id,
        "type": annotation.type,
        "label": annotation.label,
        "coordinates": wire_coordinates(annotation, mask_format=mask_format, colors=colors),
        "attributes": None,  # recipe v1's list; v2 values are in metadata.system.attributes
        "metadata": {"system": system, "user": dict(metadata.get("user") or {})},
        "description": annotation.description,
        "version": annotation.version,
        "itemId": annotation.item_id,
        "datasetId": annotation.dataset_id,
        "creator": _author(annotation, "creator"),
        "updatedBy": _author(annotation, "updated_by"),
        "createdAt": iso(annotation.created_at),
        "updatedAt": iso(annotation.updated_at),
        "url": url,
        "item": f"{API}/items/{annotation.item_id}",
        "dataset": f"{API}/datasets/{annotation.dataset_id}",
        "hash": None,
        "source": "ui",
        "status": system.get("status"),
    }


def stored_json(annotation: Annotation) -> dict[str, Any]:
    """What history keeps: the row's own fields (masks stay RLE), enough to restore it."""
    return {
        "id": annotation.id,
        "type": annotation.type,
        "label": annotation.label,
        "coordinates": annotation.coordinates,
        "metadata": annotation.metadata,
        "description": annotation.description,
        "version": annotation.version,
        "itemId": annotation.item_id,
        "datasetId": annotation.dataset_id,
        "creator": _email(annotation.creator),
        "createdAt": iso(annotation.created_at),
    }


def change_json(change: AnnotationChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "annotationId": change.annotation_id,
        "itemId": change.item_id,
        "action": change.action,
        "version": change.version,
        "before": change.before,
        "after": change.after,
        "actor": _email(change.actor),
        "at": iso(change.at),
    }
