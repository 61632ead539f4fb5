"""COCO instances: one `annotations/instances.json` (and the images under `images/`).

What COCO can hold goes where COCO readers look for it: boxes, polygons and masks as instance
annotations (`bbox`, `segmentation`, `area`), points as one-keypoint annotations. What it
cannot hold is kept beside it in keys other readers ignore, so that our own import restores
the dataset exactly:

- every annotation carries `attributes` (its attribute values, as CVAT writes them) and a
  `dataloop` object: its `type`, and `coordinates` where the COCO form is lossy (a rotated box,
  an ellipse), plus the rest of `metadata.system` (status, objectId, parentId...),
  `description` and `metadata.user` when set, and `id` when another annotation is its child;
- classifications and polylines, which are not instances, go in a top-level
  `dataloop_annotations` list (same keys as an annotation, a polyline's lines in `polyline`);
- notes (a reviewer's pins) are not exported.

Masks are written exactly as stored (our RLE is COCO's compressed RLE), so pycocotools'
`annToMask` reproduces them pixel for pixel. See docs/exchange/coco.md for the whole mapping.

Export streams: the `images`, `annotations` and `dataloop_annotations` arrays are spooled to
temporary files as items arrive and copied into the zip entry at the end, so memory does not
grow with the dataset. Import reads each JSON whole (the format is one document).
"""

from __future__ import annotations

import math
import posixpath
import shutil
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from operator import itemgetter, mul
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import numpy as np
import orjson

from annotator.annotations.masks import counts_to_string
from annotator.exchange.formats.base import (
    ExportArchive,
    ExportContext,
    ExportItem,
    FormatError,
    ImportContext,
    ImportItem,
    ImportSource,
    Rejection,
    collector_paused,
)

INSTANCES_ENTRY = "annotations/instances.json"
IMAGES_FOLDER = "images"
EXTRA_KEY = "dataloop_annotations"  # annotations COCO has no instance form for
SPOOL_BYTES = 8 * 1024 * 1024  # arrays stay in memory up to this size, then go to disk
ELLIPSE_VERTICES = 32
KINDS = ("box", "segment", "polyline", "binary", "point", "ellipse", "class")

_xy = itemgetter("x", "y")


# --- RLE ------------------------------------------------------------------------------------------
def rle_runs(counts: str) -> np.ndarray:
    """The run lengths of a compressed COCO RLE string (ValueError if it is malformed).

    The same decoding as masks.counts_from_string, vectorised: exports compute every mask's
    area and imports check every mask, and a per-character Python loop would dominate both.
    """
    if not counts:
        return np.zeros(0, dtype=np.int64)
    chunks = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    if chunks.min() < 0 or chunks.max() > 63:
        raise ValueError("invalid RLE character")
    final = (chunks & 0x20) == 0  # the last 5-bit chunk of each value has no continuation bit
    if not final[-1]:
        raise ValueError("truncated RLE string")
    ends = np.flatnonzero(final)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 12:  # 60 bits: beyond that int64 would overflow (no real run is near)
        raise ValueError("RLE value too large")
    shifts = 5 * (np.arange(chunks.size) - np.repeat(starts, lengths))
    values = np.add.reduceat((chunks & 0x1F) << shifts, starts)
    negative = (chunks[ends] & 0x10) != 0
    values[negative] -= np.int64(1) << (5 * lengths[negative])
    # Each run after the third was stored as the difference to the run two before it.
    runs = values
    if runs.size > 3:
        runs[3::2] = runs[1] + np.cumsum(values[3::2])
    if runs.size > 4:
        runs[4::2] = runs[2] + np.cumsum(values[4::2])
    return runs


def rle_area(counts: str) -> int:
    """Pixels inside the mask: the runs of 1s are the odd ones."""
    return int(rle_runs(counts)[1::2].sum())


# --- export ---------------------------------------------------------------------------------------
def _ring_area(xs: list[float], ys: list[float]) -> float:
    """Shoelace area of one closed ring."""
    return abs(sum(map(mul, xs, ys[1:] + ys[:1])) - sum(map(mul, xs[1:] + xs[:1], ys))) / 2


def _enclosing_bbox(flat: list[float], width: int | None, height: int | None) -> list[float]:
    """[x, y, w, h] around a polygon that may reach past the image, clipped to the image."""
    xs, ys = flat[0::2], flat[1::2]
    left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
    if width and height:
        left, right = min(max(left, 0.0), width), min(max(right, 0.0), width)
        top, bottom = min(max(top, 0.0), height), min(max(bottom, 0.0), height)
    return [left, top, right - left, bottom - top]


def _rotated_box_polygon(coordinates: list) -> list[float]:
    """The corners of a box turned by its angle (degrees, as stored) about its centre."""
    (first, second, angle) = coordinates
    cx, cy = (first["x"] + second["x"]) / 2, (first["y"] + second["y"]) / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    flat: list[float] = []
    for x, y in (
        (first["x"], first["y"]),
        (second["x"], first["y"]),
        (second["x"], second["y"]),
        (first["x"], second["y"]),
    ):
        dx, dy = x - cx, y - cy
        flat += (cx + dx * cos - dy * sin, cy + dx * sin + dy * cos)
    return flat


_UNIT_CIRCLE = [
    (math.cos(2 * math.pi * i / ELLIPSE_VERTICES), math.sin(2 * math.pi * i / ELLIPSE_VERTICES))
    for i in range(ELLIPSE_VERTICES)
]


def _ellipse_polygon(coordinates: dict[str, Any]) -> list[float]:
    center, rx, ry = coordinates["center"], coordinates["rx"], coordinates["ry"]
    angle = math.radians(coordinates.get("angle") or 0)
    cos, sin = math.cos(angle), math.sin(angle)
    flat: list[float] = []
    for ux, uy in _UNIT_CIRCLE:
        x, y = rx * ux, ry * uy
        flat += (center["x"] + x * cos - y * sin, center["y"] + x * sin + y * cos)
    return flat


class _Array:
    """One JSON array's elements, spooled as they come (comma-joined, without the brackets)."""

    def __init__(self) -> None:
        self.file: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by close())
        self.empty = True

    def extend(self, elements: list[dict[str, Any]]) -> None:
        if not elements:
            return
        if not self.empty:
            self.file.write(b",")
        self.file.write(orjson.dumps(elements)[1:-1])
        self.empty = False

    def copy_to(self, out: IO[bytes]) -> None:
        out.write(b"[")
        self.file.seek(0)
        shutil.copyfileobj(self.file, out, 1024 * 1024)
        out.write(b"]")

    def close(self) -> None:
        self.file.close()


# The `dataloop` object of annotations with nothing but their type to keep, shared (orjson
# writes a shared dict like any other, and most annotations need no other key).
_PLAIN = {kind: {"type": kind} for kind in KINDS}


class _Writer:
    """Turns annotation entity JSON into COCO annotations, numbering them as it goes."""

    def __init__(self, labels: list[Any]) -> None:
        self.categories: list[dict[str, Any]] = []
        self.category_ids: dict[str, int] = {}
        for label in labels:
            self.category(label.tag, label.color)
        self.next_id = 1

    def category(self, tag: str, color: str = "") -> int:
        known = self.category_ids.get(tag)
        if known is not None:
            return known
        category_id = len(self.categories) + 1
        parent = tag.rpartition(".")[0]
        self.categories.append({"id": category_id, "name": tag, "supercategory": parent, "color": color})
        self.category_ids[tag] = category_id
        return category_id

    def annotations(
        self, annotations: list[dict[str, Any]], image_id: int, width: int | None, height: int | None
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The item's COCO instance annotations, and its entries for `dataloop_annotations`."""
        instances: list[dict[str, Any]] = []
        extras: list[dict[str, Any]] = []
        # Parents keep their id, so that an import can link their children to the new copies.
        parents = {
            parent
            for annotation in annotations
            if (parent := ((annotation.get("metadata") or {}).get("system") or {}).get("parentId")) is not None
        }
        for annotation in annotations:
            kind = annotation["type"]
            if kind not in _PLAIN:
                continue  # a note (a reviewer's pin, not a label) is not exported; see the module doc
            label = annotation["label"]
            category_id = self.category_ids.get(label) or self.category(label)
            metadata = annotation.get("metadata") or {}
            system = metadata.get("system") or {}
            out: dict[str, Any] = {"id": self.next_id, "image_id": image_id, "category_id": category_id}
            self.next_id += 1
            dataloop = _PLAIN[kind]
            coordinates = annotation["coordinates"]
            if kind == "box":
                first, second = coordinates[0], coordinates[1]
                if len(coordinates) == 3 and coordinates[2]:
                    flat = _rotated_box_polygon(coordinates)
                    out["segmentation"] = [flat]
                    out["bbox"] = _enclosing_bbox(flat, width, height)
                    dataloop = {"type": kind, "coordinates": coordinates}
                else:
                    left, top, right, bottom = first["x"], first["y"], second["x"], second["y"]
                    out["segmentation"] = [[left, top, right, top, right, bottom, left, bottom]]
                    out["bbox"] = [left, top, right - left, bottom - top]
                out["area"] = (second["x"] - first["x"]) * (second["y"] - first["y"])
                out["iscrowd"] = 0
            elif kind == "segment":
                polygons, area = [], 0.0
                left = top = math.inf
                right = bottom = -math.inf
                for ring in coordinates:
                    xs, ys = [p["x"] for p in ring], [p["y"] for p in ring]
                    flat = [0.0] * (2 * len(ring))
                    flat[0::2], flat[1::2] = xs, ys
                    polygons.append(flat)
                    area += _ring_area(xs, ys)
                    left, top, right, bottom = min(left, *xs), min(top, *ys), max(right, *xs), max(bottom, *ys)
                out["segmentation"] = polygons
                out["bbox"] = [left, top, right - left, bottom - top]
                out["area"] = area
                out["iscrowd"] = 0
            elif kind == "binary":
                counts = coordinates["counts"]
                out["segmentation"] = {"size": coordinates["size"], "counts": counts}
                bbox = coordinates.get("bbox")
                left, top, right, bottom = bbox if bbox else (0, 0, -1, -1)
                out["bbox"] = [left, top, right - left + 1, bottom - top + 1]
                out["area"] = rle_area(counts)
                out["iscrowd"] = 1  # COCO's convention for RLE segmentations (see docs/exchange/coco.md)
            elif kind == "point":
                point = coordinates[0] if isinstance(coordinates, list) else coordinates
                x, y = _xy(point)
                out["keypoints"] = [x, y, 2]
                out["num_keypoints"] = 1
                out["bbox"] = [x, y, 0, 0]
                out["area"] = 0
                out["iscrowd"] = 0
            elif kind == "ellipse":
                flat = _ellipse_polygon(coordinates)
                out["segmentation"] = [flat]
                out["bbox"] = _enclosing_bbox(flat, width, height)
                out["area"] = math.pi * coordinates["rx"] * coordinates["ry"]
                out["iscrowd"] = 0
                dataloop = {"type": kind, "coordinates": coordinates}
            elif kind == "polyline":
                out["polyline"] = [[v for p in line for v in _xy(p)] for line in coordinates]
            out["attributes"] = system.get("attributes") or {}
            # The rest of metadata.system (status, objectId, parentId, automated, ...), usually empty.
            kept = {key: value for key, value in system.items() if value is not None and key != "attributes"}
            description, user = annotation.get("description"), metadata.get("user")
            own_id = annotation.get("id")
            if kept or description or user or own_id in parents:
                dataloop = dict(dataloop)
                if own_id in parents:
                    dataloop["id"] = own_id
                if kept:
                    dataloop["system"] = kept
                if description:
                    dataloop["description"] = description
                if user:
                    dataloop["metadata"] = user
            out["dataloop"] = dataloop
            (extras if kind in ("class", "polyline") else instances).append(out)
        return instances, extras


class CocoFormat:
    name = "coco"
    title = "COCO (instances)"
    supports_import = True
    full_annotation_json = False  # the files hold geometry, labels and attributes only

    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None:
        writer = _Writer(context.labels)
        images, instances, extras = _Array(), _Array(), _Array()
        try:
            for image_id, item in enumerate(items, start=1):
                if context.include_images:
                    archive.add_image(item, IMAGES_FOLDER)
                width, height = item.width, item.height
                image: dict[str, Any] = {
                    "id": image_id,
                    "file_name": item.filename.lstrip("/"),
                    "width": width,
                    "height": height,
                    "dataloop_item_id": item.id,
                }
                user = (item.item.get("metadata") or {}).get("user")
                if user:
                    image["dataloop_metadata"] = user
                images.extend([image])
                item_instances, item_extras = writer.annotations(item.annotations, image_id, width, height)
                instances.extend(item_instances)
                extras.extend(item_extras)
            info = {
                "description": context.dataset.get("name", ""),
                "version": "1.0",
                "year": datetime.now(UTC).year,
                "date_created": datetime.now(UTC).isoformat(timespec="seconds"),
                "contributor": "Annotator",
                "url": "",
            }
            with archive.open(INSTANCES_ENTRY) as out:
                out.write(b'{"info":' + orjson.dumps(info) + b',"licenses":[],"categories":')
                out.write(orjson.dumps(writer.categories))
                out.write(b',"images":')
                images.copy_to(out)
                out.write(b',"annotations":')
                instances.copy_to(out)
                out.write(b',"' + EXTRA_KEY.encode() + b'":')
                extras.copy_to(out)
                out.write(b"}")
        finally:
            images.close()
            instances.close()
            extras.close()

    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]:
        finder = _ImageFinder(source.images())
        for name in annotation_files(source):
            yield from _read_file(source, name, finder, context)


FORMAT = CocoFormat()


# --- import ---------------------------------------------------------------------------------------
def annotation_files(source: ImportSource) -> list[str]:
    """The JSON files to read: those under an `annotations/` folder, else the top-level ones."""
    names = [
        name
        for name in source.names
        if name.lower().endswith(".json")
        and not name.startswith("__MACOSX/")
        and not posixpath.basename(name).startswith("._")
    ]
    chosen = [name for name in names if "annotations" in name.split("/")[:-1]]
    if not chosen:
        chosen = [name for name in names if "/" not in name]
    if not chosen:
        raise FormatError(
            source.single_name or "upload", "no COCO JSON found (expected annotations/*.json or a top-level .json)"
        )
    return sorted(chosen)


class _ImageFinder:
    """Finds the archive entry of an image named by a COCO `file_name`.

    Tried in order: `images/<file_name>` (our exports), the name itself, then the one entry
    whose path ends with it (COCO's `train2017/000000397133.jpg` for "000000397133.jpg").
    """

    def __init__(self, names: list[str]) -> None:
        self.names = set(names)
        self.by_suffix: dict[str, str | None] = {}  # None: more than one entry ends so
        for name in names:
            parts = name.split("/")
            for i in range(len(parts)):
                suffix = "/".join(parts[i:])
                self.by_suffix[suffix] = None if suffix in self.by_suffix else name

    def find(self, file_name: str) -> str | None:
        relative = file_name.lstrip("/")
        if relative.startswith("./"):
            relative = relative[2:]
        for candidate in (f"{IMAGES_FOLDER}/{relative}", relative):
            if candidate in self.names:
                return candidate
        return self.by_suffix.get(relative)


class _Bad(Exception):
    """One entry's problem, turned into a Rejection by the loop that met it."""


def _load(source: ImportSource, name: str) -> dict[str, Any]:
    try:
        data = orjson.loads(source.read_bytes(name))
    except orjson.JSONDecodeError as exc:
        raise FormatError(name, f"malformed JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FormatError(name, "a COCO file is a JSON object with images, annotations and categories")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise FormatError(name, f"missing the top-level list {key!r}")
    if not isinstance(data.get(EXTRA_KEY, []), list):
        raise FormatError(name, f"{EXTRA_KEY!r} must be a list")
    return data


def _categories(data: dict[str, Any], name: str, context: ImportContext) -> dict[Any, str]:
    """Category id -> label; every category is declared as a label of the file."""
    labels: dict[Any, str] = {}
    for index, category in enumerate(data["categories"]):
        where = f"{name}: categories[{index}]"
        if not isinstance(category, dict):
            raise FormatError(where, "a category is an object {id, name}")
        category_id, tag = category.get("id"), category.get("name")
        if not isinstance(category_id, int | str) or isinstance(category_id, bool):
            raise FormatError(where, f"category id must be a number, got {category_id!r}")
        if not isinstance(tag, str) or not tag.strip():
            raise FormatError(where, "category name must be non-empty text")
        if category_id in labels:
            raise FormatError(where, f"category id {category_id} appears twice")
        labels[category_id] = tag.strip()
        color = category.get("color")
        context.declare(tag.strip(), color if isinstance(color, str) else None)
    return labels


class _Image:
    __slots__ = ("annotations", "entry", "file_name", "height", "metadata", "origins", "width")

    def __init__(self, file_name: str, width: int | None, height: int | None, entry: str, metadata: Any) -> None:
        self.file_name, self.width, self.height, self.entry = file_name, width, height, entry
        self.metadata = metadata if isinstance(metadata, dict) else None
        self.annotations: list[dict[str, Any]] = []
        self.origins: list[str] = []


def _size(value: Any) -> int | None:
    """A declared width or height: a positive integer, or None when absent or unusable."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    return None


_NUMBER_TYPES = {int, float}


def _numbers(values: Any) -> bool:
    """A list of numbers (JSON as orjson parses it cannot hold NaN or infinity; bools are not numbers)."""
    return isinstance(values, list) and set(map(type, values)) <= _NUMBER_TYPES


def _bbox(value: Any) -> list[float]:
    if not (_numbers(value) and len(value) == 4):
        raise _Bad(f"bbox must be 4 numbers [x, y, width, height], got {value!r}")
    if value[2] < 0 or value[3] < 0:
        raise _Bad(f"bbox has a negative width or height: {value!r}")
    return value


def _rings(segmentation: list) -> list[list[dict[str, float]]]:
    rings = []
    for index, polygon in enumerate(segmentation):
        if not _numbers(polygon):
            raise _Bad(f"segmentation[{index}] must be a flat list of numbers [x1, y1, x2, y2, ...]")
        if len(polygon) % 2:
            raise _Bad(f"segmentation[{index}] has an odd number of coordinates ({len(polygon)})")
        if len(polygon) < 6:
            raise _Bad(f"segmentation[{index}] has fewer than 3 points")
        rings.append([{"x": x, "y": y} for x, y in zip(polygon[0::2], polygon[1::2], strict=True)])
    return rings


def _rle(segmentation: dict[str, Any], image: _Image) -> dict[str, Any]:
    """Our stored mask form {size, counts (compressed text)} from either COCO RLE form."""
    size, counts = segmentation.get("size"), segmentation.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and set(map(type, size)) == {int} and min(size) > 0):
        raise _Bad(f"RLE size must be [height, width], got {size!r}")
    height, width = size
    if image.width and image.height and (height, width) != (image.height, image.width):
        raise _Bad(f"RLE size {size} differs from the image's [{image.height}, {image.width}]")
    if isinstance(counts, str):
        try:
            runs = rle_runs(counts)
        except ValueError as exc:
            raise _Bad(f"bad RLE counts ({exc})") from exc
        total, negative = int(runs.sum()), bool(runs.size) and int(runs.min()) < 0
    elif isinstance(counts, list) and set(map(type, counts)) <= {int}:
        total, negative = sum(counts), any(n < 0 for n in counts)
        counts = counts_to_string(counts)
    else:
        raise _Bad("RLE counts must be a compressed string or a list of run lengths")
    if negative or total != height * width:
        raise _Bad(f"bad RLE: the runs cover {total} pixels, the mask has {height * width}")
    return {"size": [height, width], "counts": counts}


def _box_from_polygon(polygon: list) -> list[dict[str, float]] | None:
    """The box our export wrote as [l, t, r, t, r, b, l, b]; None if the polygon is not that."""
    if not (isinstance(polygon, list) and len(polygon) == 8 and _numbers(polygon)):
        return None
    left, top, right, top2, right2, bottom, left2, bottom2 = polygon
    if top != top2 or right != right2 or left != left2 or bottom != bottom2:
        return None
    return [{"x": left, "y": top}, {"x": right, "y": bottom}]


def _convert(raw: Any, image: _Image, label: str) -> dict[str, Any]:
    """One COCO (or `dataloop_annotations`) entry as an annotation in the API's input shape."""
    dataloop = raw.get("dataloop")
    if dataloop is None:
        dataloop = {}
    elif not isinstance(dataloop, dict):
        raise _Bad("dataloop must be an object")
    kind = dataloop.get("type")
    if kind is not None and kind not in KINDS:
        raise _Bad(f"dataloop.type {kind!r} is not one of {', '.join(KINDS)}")
    bbox = raw.get("bbox")
    if bbox is not None:
        bbox = _bbox(bbox)
    segmentation = raw.get("segmentation")
    original = dataloop.get("coordinates")
    if original is not None and kind is not None:
        coordinates = original  # the exact shape COCO could only approximate
    elif kind == "class":
        coordinates = []
    elif kind == "polyline":
        lines = raw.get("polyline")
        if not isinstance(lines, list) or not lines:
            raise _Bad("a polyline needs polyline: [[x1, y1, x2, y2, ...], ...]")
        coordinates = []
        for index, line in enumerate(lines):
            if not _numbers(line) or len(line) % 2 or len(line) < 4:
                raise _Bad(f"polyline[{index}] must be an even list of at least 2 points")
            coordinates.append([{"x": x, "y": y} for x, y in zip(line[0::2], line[1::2], strict=True)])
    elif isinstance(segmentation, dict):
        kind, coordinates = "binary", _rle(segmentation, image)
    elif isinstance(segmentation, list) and segmentation:
        box = _box_from_polygon(segmentation[0]) if kind == "box" and len(segmentation) == 1 else None
        kind, coordinates = ("box", box) if box else ("segment", _rings(segmentation))
    elif segmentation not in (None, []):
        raise _Bad("segmentation must be a list of polygons or an RLE object")
    elif kind == "point" or (kind is None and isinstance(raw.get("keypoints"), list) and len(raw["keypoints"]) == 3):
        keypoints = raw.get("keypoints")
        if not (_numbers(keypoints) and len(keypoints) >= 2):
            raise _Bad(f"a point needs keypoints [x, y, visibility], got {keypoints!r}")
        kind, coordinates = "point", {"x": keypoints[0], "y": keypoints[1]}
    elif bbox is not None:
        x, y, w, h = bbox
        kind, coordinates = "box", [{"x": x, "y": y}, {"x": x + w, "y": y + h}]
    else:
        raise _Bad("the annotation has no bbox, segmentation or keypoints")
    attributes = raw.get("attributes")
    if attributes is None:
        attributes = {}
    elif not isinstance(attributes, dict):
        raise _Bad("attributes must be an object {key: value}")
    system: dict[str, Any] = {"attributes": attributes}
    annotation: dict[str, Any] = {
        "type": kind,
        "label": label,
        "coordinates": coordinates,
        "metadata": {"system": system},
    }
    if dataloop:
        kept = dataloop.get("system")
        if isinstance(kept, dict):
            system.update((key, value) for key, value in kept.items() if key != "attributes")
        if dataloop.get("id") is not None:
            annotation["id"] = dataloop["id"]
        if isinstance(dataloop.get("description"), str):
            annotation["description"] = dataloop["description"]
        if isinstance(dataloop.get("metadata"), dict):
            annotation["metadata"]["user"] = dataloop["metadata"]
    return annotation


def _read_file(
    source: ImportSource, name: str, finder: _ImageFinder, context: ImportContext
) -> Iterator[ImportItem | Rejection]:
    with collector_paused():
        rejections, images = _parse(source, name, context)
    context.expected_items = (context.expected_items or 0) + len(images)
    yield from rejections
    for image in images:
        yield ImportItem(
            filename=image.file_name,
            annotations=image.annotations,
            origins=image.origins,
            entry=image.entry,
            image_entry=finder.find(image.file_name),
            width=image.width,
            height=image.height,
            item_metadata=image.metadata,
        )


def _parse(source: ImportSource, name: str, context: ImportContext) -> tuple[list[Rejection], list[_Image]]:
    """The file's images with their converted annotations, and the entries refused."""
    data = _load(source, name)
    labels = _categories(data, name, context)
    rejections: list[Rejection] = []
    images: dict[Any, _Image] = {}
    rejected_images: set[Any] = set()
    for index, raw in enumerate(data["images"]):
        where = f"{name}: images[{index}]"
        image_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(image_id, int | str) or isinstance(image_id, bool):
            rejections.append(Rejection(where, f"an image needs an id, got {image_id!r}"))
            continue
        where = f"{where} (id {image_id})"
        file_name = raw.get("file_name")
        if not isinstance(file_name, str) or not file_name.strip("/"):
            rejections.append(Rejection(where, "an image needs a file_name"))
            rejected_images.add(image_id)
        elif image_id in images or image_id in rejected_images:
            rejections.append(Rejection(where, f"image id {image_id} appears twice"))
            rejected_images.add(image_id)
            images.pop(image_id, None)
        else:
            width, height = _size(raw.get("width")), _size(raw.get("height"))
            images[image_id] = _Image(file_name, width, height, where, raw.get("dataloop_metadata"))
    for key in ("annotations", EXTRA_KEY):
        for index, raw in enumerate(data.get(key, ())):
            where = f"{name}: {key}[{index}]"
            if not isinstance(raw, dict):
                rejections.append(Rejection(where, "an annotation is an object"))
                continue
            where = f"{where} (id {raw.get('id')})"
            image_id, category_id = raw.get("image_id"), raw.get("category_id")
            hashable = isinstance(image_id, int | str)
            image = images.get(image_id) if hashable else None
            if image is None:
                reason = "was rejected" if hashable and image_id in rejected_images else "is not in images"
                rejections.append(Rejection(where, f"image_id {image_id!r} {reason}"))
                continue
            label = labels.get(category_id) if isinstance(category_id, int | str) else None
            if label is None:
                rejections.append(Rejection(where, f"category_id {category_id!r} is not in categories"))
                continue
            try:
                image.annotations.append(_convert(raw, image, label))
            except _Bad as exc:
                rejections.append(Rejection(where, str(exc)))
                continue
            image.origins.append(where)
    return rejections, list(images.values())
