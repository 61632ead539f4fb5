"""YOLO in Ultralytics' layout: detection boxes and segmentation polygons.

```
data.yaml                  path, train, val, nc, names {class id: label}
labels/<dir>/<name>.txt    one line per instance, mirroring the dataset's folders
images/<dir>/<name>.jpg    the images, when the export includes them
```

A label line is `class cx cy w h` for a box, or `class x1 y1 x2 y2 ...` for a polygon, every
coordinate divided by the image's width or height, so in [0, 1]. Class ids are the index of
the label in the export's label order (the ontology's, then any label used but missing
from it). docs/exchange/yolo.md lists what does not survive the trip.

Import reads `data.yaml` (its `names` as a list or a mapping) and every `.txt` under a
`labels` folder, pairs `labels/x/y.txt` with `images/x/y.<ext>` when the archive holds it,
and gives coordinates back in pixels. That needs each image's size: from the image in the
archive, else from `context.options["size_of"](filename)`, a callable the engine provides
that returns the matching dataset item's (width, height), or None.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import yaml
from PIL import Image, UnidentifiedImageError

from annotator.exchange.formats.base import (
    ExportArchive,
    ExportContext,
    ExportItem,
    FormatError,
    ImportContext,
    ImportItem,
    ImportSource,
    Label,
    Rejection,
)
from annotator.exchange.formats.yolo_voc_common import SkippedLog, box_extent, clamp, image_size, item_stem

DATA_YAML = "data.yaml"
IMAGES, LABELS = "images", "labels"
# A box's edges (centre -/+ half its size) may overhang the image by this much, normalised,
# from the rounding of the four numbers to the writer's decimals; they are clipped to it.
EDGE_TOLERANCE = 1e-4
# Pixel coordinates read back are rounded to the studio's precision (0.01 px), so that
# what the studio drew comes back exactly through the 6 decimals (images up to ~5000 px).
PIXEL_DECIMALS = 2

SizeOf = Callable[[str], "tuple[int, int] | None"]


class YoloFormat:
    name = "yolo"
    title = "YOLO (detection and segmentation)"
    supports_import = True
    full_annotation_json = False  # the files hold geometry, labels and attributes only

    # --- export ----------------------------------------------------------------------------------
    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None:
        class_ids = {label.tag: index for index, label in enumerate(context.labels)}
        archive.write_text(DATA_YAML, data_yaml(context.labels))
        skipped = SkippedLog(self.title)
        for item in items:
            self._write_item(item, archive, context, class_ids, skipped)
        skipped.close(archive)

    def _write_item(
        self,
        item: ExportItem,
        archive: ExportArchive,
        context: ExportContext,
        class_ids: dict[str, int],
        skipped: SkippedLog,
    ) -> None:
        placed = [a for a in item.annotations if a.get("type") in ("box", "segment")]
        size = image_size(item) if placed else None
        if placed and size is None:
            skipped.item(item, "no image size to normalise coordinates by: no label file, no image")
            return
        lines, left_out = label_lines(item.annotations, class_ids, size)
        name = posixpath.join(LABELS, item_stem(item) + ".txt")
        try:
            handle = archive.open(name)
        except ValueError:  # "/a.jpg" and "/a.png" both want labels/a.txt
            skipped.item(item, f"another item already wrote {name} (same path but for the extension)")
            return
        with handle:
            handle.write("".join(line + "\n" for line in lines).encode("utf-8"))
        skipped.annotations(item, left_out)
        if context.include_images:
            archive.add_image(item, IMAGES)

    # --- import ----------------------------------------------------------------------------------
    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]:
        yaml_entry = find_data_yaml(source)
        names = read_names(source, yaml_entry)
        for tag in names.values():
            context.declare(tag)
        root = posixpath.dirname(yaml_entry)
        prefix = root + "/" if root else ""
        images: dict[str, list[str]] = {}
        label_files: dict[str, str] = {}
        for entry in source.names:
            if not entry.startswith(prefix):
                continue
            relative = entry[len(prefix) :]
            if source.is_image(entry):
                stem = stem_under(relative, IMAGES)
                if stem is not None:
                    images.setdefault(stem, []).append(entry)
            elif entry.lower().endswith(".txt"):
                stem = stem_under(relative, LABELS)
                if stem is not None:
                    label_files[stem] = entry
        if not label_files and not images:
            raise FormatError(LABELS + "/", "no label files (labels/<name>.txt) and no images next to data.yaml")
        size_of: SizeOf | None = context.options.get("size_of")
        stems = sorted(set(label_files) | set(images))
        context.expected_items = len(stems)
        for stem in stems:
            yield from self._read_item(source, stem, label_files.get(stem), images.get(stem), names, size_of)

    def _read_item(
        self,
        source: ImportSource,
        stem: str,
        label_entry: str | None,
        image_entries: list[str] | None,
        names: dict[int, str],
        size_of: SizeOf | None,
    ) -> Iterator[ImportItem | Rejection]:
        lines: list[ParsedLine] = []
        if label_entry is not None:
            for parsed in parse_label_file(source.read_bytes(label_entry), label_entry, names):
                if isinstance(parsed, Rejection):
                    yield parsed
                else:
                    lines.append(parsed)
        if not image_entries:  # the image is not in the archive: the item must exist already
            size = size_of(stem) if (lines and size_of is not None) else None
            if lines and size is None:
                yield Rejection(
                    label_entry or stem,
                    f"no image for it in the archive (images/{stem}.*) and no item {stem}.* in the dataset "
                    "to take the image size from",
                )
                return
            yield build_item(stem, label_entry or stem, None, lines, size)
            return
        for image_entry in image_entries:  # several images with one stem share the label file
            size = read_image_size(source, image_entry) if lines else None
            if lines and size is None:
                yield Rejection(image_entry, "not a readable image: its size is needed to place the labels")
                continue
            extension = posixpath.splitext(image_entry)[1]
            yield build_item(stem + extension, label_entry or image_entry, image_entry, lines, size)


FORMAT = YoloFormat()


# --- writing -------------------------------------------------------------------------------------
def data_yaml(labels: list[Label]) -> str:
    """Ultralytics' dataset file; `path: .` is relative to where training runs, so set it to
    the unpacked folder's absolute path before training (see docs/exchange/yolo.md)."""
    document = {
        "path": ".",
        "train": IMAGES,
        "val": IMAGES,
        "nc": len(labels),
        "names": {index: label.tag for index, label in enumerate(labels)},
    }
    header = "# Exported by Annotator. Set `path` to this folder's absolute path before training.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


def label_lines(
    annotations: list[dict[str, Any]], class_ids: dict[str, int], size: tuple[int, int] | None
) -> tuple[list[str], Counter[str]]:
    """An item's label lines, and a count per annotation type that YOLO cannot hold."""
    lines: list[str] = []
    left_out: Counter[str] = Counter()
    for annotation in annotations:
        kind = annotation.get("type")
        class_id = class_ids.get(annotation.get("label") or "")
        if kind not in ("box", "segment") or size is None:
            left_out[str(kind)] += 1
            continue
        if class_id is None:
            left_out[f"{kind} with a label missing from the label list"] += 1
            continue
        width, height = size
        if kind == "box":
            line = box_line(class_id, annotation["coordinates"], width, height)
            if line is None:
                left_out["box with no area inside the image"] += 1
            else:
                lines.append(line)
        else:
            lines.extend(polygon_line(class_id, ring, width, height) for ring in annotation["coordinates"])
    return lines, left_out


def box_line(class_id: int, coordinates: list, width: int, height: int) -> str | None:
    left, top, right, bottom = box_extent(coordinates)
    left, right = clamp(left / width, 0.0, 1.0), clamp(right / width, 0.0, 1.0)
    top, bottom = clamp(top / height, 0.0, 1.0), clamp(bottom / height, 0.0, 1.0)
    if right <= left or bottom <= top:
        return None
    return f"{class_id} {(left + right) / 2:.6f} {(top + bottom) / 2:.6f} {right - left:.6f} {bottom - top:.6f}"


def polygon_line(class_id: int, ring: list[dict[str, float]], width: int, height: int) -> str:
    numbers = " ".join(
        f"{clamp(point['x'] / width, 0.0, 1.0):.6f} {clamp(point['y'] / height, 0.0, 1.0):.6f}" for point in ring
    )
    return f"{class_id} {numbers}"


# --- reading -------------------------------------------------------------------------------------
def find_data_yaml(source: ImportSource) -> str:
    """The shallowest `data.yaml` (an archive may wrap everything in one folder), else the
    only YAML file there is."""
    yamls = [name for name in source.names if name.lower().endswith((".yaml", ".yml"))]
    named = [name for name in yamls if posixpath.basename(name).lower() == DATA_YAML]
    candidates = named or (yamls if len(yamls) == 1 else [])
    if not candidates:
        found = f" (found {len(yamls)} YAML files and none is data.yaml)" if yamls else ""
        raise FormatError(DATA_YAML, f"missing: a YOLO archive needs data.yaml with the class names{found}")
    return min(candidates, key=lambda name: (name.count("/"), name))


def read_names(source: ImportSource, entry: str) -> dict[int, str]:
    """data.yaml's `names`: a list (ids by position) or a mapping {id: name}; `nc` must agree."""
    try:
        document = yaml.safe_load(source.read_bytes(entry))
    except yaml.YAMLError as exc:
        raise FormatError(entry, f"malformed YAML ({exc})") from exc
    if not isinstance(document, dict):
        raise FormatError(entry, "must be a mapping with `names`")
    raw = document.get("names")
    if isinstance(raw, list):
        pairs = list(enumerate(raw))
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise FormatError(entry, "`names` must be a list of class names or a mapping {class id: name}")
    names: dict[int, str] = {}
    for key, value in pairs:
        class_id = _class_key(key)
        if class_id is None:
            raise FormatError(entry, f"names: class id {key!r} is not a whole number >= 0")
        if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
            raise FormatError(entry, f"names[{class_id}]: {value!r} is not a name (quote names such as yes or no)")
        names[class_id] = str(value).strip()
    if len(set(names.values())) != len(names):
        raise FormatError(entry, "names: a class name is given twice")
    count = document.get("nc")
    if count is not None and count != len(names):
        raise FormatError(entry, f"nc is {count!r} but names has {len(names)} classes")
    return names


def _class_key(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key >= 0 else None
    if isinstance(key, str) and key.strip().isdigit():
        return int(key)
    return None


def stem_under(relative: str, folder: str) -> str | None:
    """The item path (no extension) of an entry below a `folder` segment, with that segment
    dropped: "labels/a/b.txt" and "train/labels/b.txt" give "a/b" and "train/b"."""
    parts = relative.split("/")
    if folder not in parts[:-1]:
        return None
    at = len(parts) - 2 - parts[-2::-1].index(folder)  # the last `folder` segment
    rest = parts[:at] + parts[at + 1 :]
    return posixpath.splitext("/".join(rest))[0]


class ParsedLine:
    """One valid label line: its number, the class's name, the coordinates still normalised."""

    __slots__ = ("label", "line", "values")

    def __init__(self, line: int, label: str, values: list[float]) -> None:
        self.line, self.label, self.values = line, label, values


def parse_label_file(data: bytes, entry: str, names: dict[int, str]) -> Iterator[ParsedLine | Rejection]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield Rejection(entry, "not UTF-8 text")
        return
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if fields:
            yield parse_line(fields, f"{entry}: line {number}", number, names)


def parse_line(fields: list[str], where: str, number: int, names: dict[int, str]) -> ParsedLine | Rejection:
    count = len(fields) - 1
    if count != 4 and (count < 6 or count % 2):
        return Rejection(
            where,
            f"{count} numbers after the class id: expected 4 (cx cy w h), or x y pairs of a polygon of 3+ points",
        )
    try:
        class_id = int(fields[0])
    except ValueError:
        return Rejection(where, f"class id {fields[0]!r} is not a whole number")
    if class_id not in names:
        return Rejection(where, f"class id {class_id} is not in data.yaml's names")
    try:
        values = [float(field) for field in fields[1:]]
    except ValueError:
        bad = next(field for field in fields[1:] if not _is_float(field))
        return Rejection(where, f"{bad!r} is not a number")
    for value in values:
        if not (0.0 <= value <= 1.0):  # also false for NaN
            return Rejection(where, f"{value!r} is outside [0, 1]: coordinates must be normalised")
    if count == 4:
        cx, cy, w, h = values
        if w <= 0 or h <= 0:
            return Rejection(where, "the box has no area (width or height 0)")
        for edge in (cx - w / 2, cy - h / 2):
            if edge < -EDGE_TOLERANCE:
                return Rejection(where, f"the box overhangs the image's left or top edge ({edge:.6f} < 0)")
        for edge in (cx + w / 2, cy + h / 2):
            if edge > 1 + EDGE_TOLERANCE:
                return Rejection(where, f"the box overhangs the image's right or bottom edge ({edge:.6f} > 1)")
    elif len(set(zip(values[0::2], values[1::2], strict=True))) < 3:
        return Rejection(where, "the polygon has fewer than 3 distinct points")
    return ParsedLine(number, names[class_id], values)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_image_size(source: ImportSource, entry: str) -> tuple[int, int] | None:
    """(width, height) from the image's header, without decoding its pixels."""
    try:
        with source.open(entry) as handle, Image.open(handle) as image:
            return image.size
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None


def build_item(
    filename: str, entry: str, image_entry: str | None, lines: list[ParsedLine], size: tuple[int, int] | None
) -> ImportItem:
    annotations, origins = [], []
    if lines and size is not None:
        width, height = size
        for parsed in lines:
            annotations.append(to_annotation(parsed, width, height))
            origins.append(f"{entry}: line {parsed.line}")
    return ImportItem(
        filename=filename,
        annotations=annotations,
        origins=origins,
        entry=entry,
        image_entry=image_entry,
        width=size[0] if size and image_entry else None,
        height=size[1] if size and image_entry else None,
    )


def to_annotation(parsed: ParsedLine, width: int, height: int) -> dict[str, Any]:
    """The line as an annotation in the API's input shape, in pixels."""
    label, values = parsed.label, parsed.values
    if len(values) == 4:
        cx, cy, w, h = values
        left = _pixel(clamp(cx - w / 2, 0.0, 1.0) * width)
        top = _pixel(clamp(cy - h / 2, 0.0, 1.0) * height)
        right = _pixel(clamp(cx + w / 2, 0.0, 1.0) * width)
        bottom = _pixel(clamp(cy + h / 2, 0.0, 1.0) * height)
        coordinates: Any = [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}]
        return {"type": "box", "label": label, "coordinates": coordinates}
    ring = [
        {"x": _pixel(x * width), "y": _pixel(y * height), "z": 0}
        for x, y in zip(values[0::2], values[1::2], strict=True)
    ]
    return {"type": "segment", "label": label, "coordinates": [ring]}


def _pixel(value: float) -> float:
    return round(value, PIXEL_DECIMALS)
