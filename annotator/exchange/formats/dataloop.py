"""Dataloop JSON: one JSON per item mirroring the folder tree, as dtlpy's `dataset.export` and
`download_annotations` lay it out.

    json/<item path without its extension>.json   the item's entity JSON plus "annotations"
    items/<item path>                             the image, when images are included

Annotations are their API JSON, masks as PNG data URLs in the label's colour (what dtlpy's
`Annotation.from_json` reads). Import also takes one JSON array of such items (dtlpy's
`exportType: json`, or `dataset.export()`'s result.json).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from annotator.annotations.geometry import BINARY
from annotator.annotations.masks import Mask, hex_to_rgb, mask_decode, mask_to_data_url
from annotator.exchange.formats.base import (
    ExportArchive,
    ExportContext,
    ExportItem,
    FormatError,
    ImportContext,
    ImportItem,
    ImportSource,
    Rejection,
)

JSON_DIR = "json"
ITEMS_DIR = "items"
# What an annotation keeps on import: the rest (ids, authors, dates) belongs to the server.
IMPORTED_KEYS = ("id", "type", "label", "coordinates", "metadata", "description")


def json_entry_name(filename: str) -> str:
    return posixpath.join(JSON_DIR, posixpath.splitext(filename.lstrip("/"))[0] + ".json")


class DataloopFormat:
    name = "dataloop"
    title = "Dataloop JSON"
    supports_import = True

    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None:
        colors = {label.tag: hex_to_rgb(label.color or None) for label in context.labels}
        taken: set[str] = set()
        for export_item in items:
            document = dict(export_item.item)
            document["annotations"] = [_wire(a, colors) for a in export_item.annotations]
            document["annotationsCount"] = len(document["annotations"])
            name = json_entry_name(export_item.filename)
            if name in taken:  # a.jpg and a.png in one folder: keep both, as the full name
                name = posixpath.join(JSON_DIR, export_item.filename.lstrip("/") + ".json")
            taken.add(name)
            archive.write_bytes(name, orjson.dumps(document))
            if context.include_images:
                archive.add_image(export_item, folder=ITEMS_DIR)

    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]:
        documents = [n for n in source.names if n.lower().endswith(".json")]
        if not documents:
            raise FormatError(source.single_name or "archive", "no Dataloop JSON files (json/**.json) found")
        images = {name: name for name in source.images()}
        for name in sorted(documents):
            parsed = source.read_json(name)
            if isinstance(parsed, list):
                for index, document in enumerate(parsed):
                    yield from _read_document(document, f"{name}[{index}]", images)
            else:
                yield from _read_document(parsed, name, images)


def _wire(annotation: dict[str, Any], colors: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    if annotation["type"] != BINARY:
        return annotation
    mask = mask_decode(Mask.from_json(annotation["coordinates"]))
    color = colors.get(annotation["label"]) or hex_to_rgb(None)
    return {**annotation, "coordinates": mask_to_data_url(mask, color=color)}


def _read_document(document: Any, entry: str, images: dict[str, str]) -> Iterator[ImportItem | Rejection]:
    if not isinstance(document, dict) or not isinstance(document.get("filename"), str):
        yield Rejection(entry, "an item document needs a filename")
        return
    raw = document.get("annotations") or []
    if not isinstance(raw, list):
        yield Rejection(entry, "annotations must be a list")
        return
    annotations, origins = [], []
    for index, annotation in enumerate(raw):
        where = f"{entry}: annotations[{index}]"
        if not isinstance(annotation, dict):
            yield Rejection(where, "an annotation is an object")
            continue
        annotations.append({key: annotation[key] for key in IMPORTED_KEYS if key in annotation})
        origins.append(where)
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    system = metadata.get("system") or {}
    filename = document["filename"]
    yield ImportItem(
        filename=filename,
        annotations=annotations,
        origins=origins,
        entry=entry,
        image_entry=images.get(posixpath.join(ITEMS_DIR, filename.lstrip("/"))),
        width=system.get("width") if isinstance(system.get("width"), int) else None,
        height=system.get("height") if isinstance(system.get("height"), int) else None,
        item_metadata=metadata.get("user"),
    )


FORMAT = DataloopFormat()
