"""Pascal VOC XML: one annotation file per image, boxes in whole pixels.

```
Annotations/<dir>/<name>.xml   <annotation> with the image's size and an <object> per box
ImageSets/Main/default.txt     the exported items, one "<dir>/<name>" a line
JPEGImages/<dir>/<name>.jpg    the images, when the export includes them
labelmap.txt                   label:r,g,b:: a line, the labels' colours (CVAT's labelmap)
```

Coordinates follow the VOC devkit: `xmin ymin xmax ymax` are 1-based indices of the first
and last pixel the box covers, so our continuous box [x1, x2] is written as
`xmin = round(x1) + 1`, `xmax = round(x2)` and read back as `x1 = xmin - 1`, `x2 = xmax`
(as Detectron2 and py-faster-rcnn read VOC). Whole-pixel boxes survive exactly; others move
by at most half a pixel per edge. A polygon is written as its bounding box (for every VOC
reader) plus its exact points in `<polygon><pt><x/><y/></pt>...</polygon>` (LabelMe's shape),
and a rotated box as its enclosing box plus roLabelImg's `<robndbox>` (angle in radians);
our import prefers those over `<bndbox>`. Attributes go in CVAT's `<attributes>` list, values
as text, JSON for anything that is not plain text. docs/exchange/voc.md lists the limits.

Import parses XML with expat and refuses DOCTYPE and entity declarations (no entity
expansion, no external entities).
"""

from __future__ import annotations

import math
import posixpath
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any
from xml.parsers import expat

import orjson

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
from annotator.exchange.formats.yolo_voc_common import LineSpool, SkippedLog, box_extent, image_size, item_stem

ANNOTATIONS, IMAGES = "Annotations", "JPEGImages"
IMAGE_SET = "ImageSets/Main/default.txt"
LABELMAP = "labelmap.txt"
DATABASE = "Annotator"
DEFAULT_DEPTH = 3  # VOC readers want a depth; the item's channels are not recorded
ANGLE_DECIMALS = 9  # degrees -> radians -> degrees drifts in the last bits; 30.0 comes back as 30.0
# Characters XML 1.0 cannot carry at all (expat refuses them even as &#x1;): dropped on export.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_DECLARATION = b"<?xml version='1.0' encoding='utf-8'?>\n"


class VocFormat:
    name = "voc"
    title = "Pascal VOC XML"
    supports_import = True
    full_annotation_json = False  # the files hold geometry, labels and attributes only

    # --- export ----------------------------------------------------------------------------------
    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None:
        archive.write_text(LABELMAP, labelmap_text(context))
        image_set = LineSpool()
        skipped = SkippedLog(self.title)
        for item in items:
            stem = item_stem(item)
            name = f"{ANNOTATIONS}/{stem}.xml"
            document, left_out = annotation_document(item, image_size(item))
            try:
                handle = archive.open(name)
            except ValueError:  # "/a.jpg" and "/a.png" both want Annotations/a.xml
                skipped.item(item, f"another item already wrote {name} (same path but for the extension)")
                continue
            with handle:
                handle.write(document)
            image_set.add(stem)
            skipped.annotations(item, left_out)
            if context.include_images:
                archive.add_image(item, IMAGES)
        image_set.close(archive, IMAGE_SET)
        skipped.close(archive)

    # --- import ----------------------------------------------------------------------------------
    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]:
        xml_entries = [name for name in source.names if name.lower().endswith(".xml")]
        under_annotations = [name for name in xml_entries if ANNOTATIONS in name.split("/")[:-1]]
        entries = sorted(under_annotations or xml_entries)
        if not entries:
            raise FormatError(f"{ANNOTATIONS}/", "no VOC annotation files (Annotations/<name>.xml)")
        context.expected_items = len(entries)
        images = set(source.images())
        roots = sorted({split_entry(entry)[0] for entry in entries})
        for root in roots:
            labelmap = posixpath.join(root, LABELMAP)
            if labelmap in source.names:
                yield from read_labelmap(source.read_bytes(labelmap), labelmap, context)
        for entry in entries:
            yield from read_annotation(source, entry, images, context)


FORMAT = VocFormat()


# --- writing -------------------------------------------------------------------------------------
def labelmap_text(context: ExportContext) -> str:
    lines = ["# label:color_rgb:parts:actions"]
    for label in context.labels:
        color = label.color.lstrip("#")
        rgb = ",".join(str(int(color[i : i + 2], 16)) for i in (0, 2, 4)) if len(color) == 6 else ""
        lines.append(f"{label.tag}:{rgb}::")
    return "\n".join(lines) + "\n"


def _text(parent: ET.Element, tag: str, value: Any) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = NOT_XML.sub("", str(value))
    return element


def annotation_document(item: ExportItem, size: tuple[int, int] | None) -> tuple[bytes, Counter[str]]:
    """The item's <annotation> as UTF-8 XML, and a count per annotation type left out."""
    path = item.filename.lstrip("/")
    root = ET.Element("annotation")
    _text(root, "folder", posixpath.dirname(path))
    _text(root, "filename", posixpath.basename(path))
    _text(root, "path", item.filename)
    _text(ET.SubElement(root, "source"), "database", DATABASE)
    size_element = ET.SubElement(root, "size")
    width, height = size or (0, 0)  # 0: unknown, as several VOC writers put it
    _text(size_element, "width", width)
    _text(size_element, "height", height)
    _text(size_element, "depth", DEFAULT_DEPTH)
    _text(root, "segmented", 0)
    left_out: Counter[str] = Counter()
    for annotation in item.annotations:
        kind = annotation.get("type")
        if kind in ("box", "segment"):
            root.append(object_element(annotation, size))
        else:
            left_out[str(kind)] += 1
    ET.indent(root)
    # Serialised to str then encoded once: ET's own utf-8 path goes through a codec per write, 3x slower.
    text = ET.tostring(root, encoding="unicode")
    return XML_DECLARATION + text.encode("utf-8") + b"\n", left_out


def object_element(annotation: dict[str, Any], size: tuple[int, int] | None) -> ET.Element:
    coordinates = annotation["coordinates"]
    if annotation["type"] == "box":
        left, top, right, bottom = box_extent(coordinates)
    else:
        xs = [point["x"] for ring in coordinates for point in ring]
        ys = [point["y"] for ring in coordinates for point in ring]
        left, top, right, bottom = min(xs), min(ys), max(xs), max(ys)
    width, height = size or (None, None)
    xmin, xmax = pixel_span(left, right, width)
    ymin, ymax = pixel_span(top, bottom, height)
    attributes = ((annotation.get("metadata") or {}).get("system") or {}).get("attributes") or {}
    touches_edge = xmin == 1 or ymin == 1 or (xmax == width) or (ymax == height)

    element = ET.Element("object")
    _text(element, "name", annotation.get("label") or "")
    pose = attributes.get("pose")
    _text(element, "pose", pose if isinstance(pose, str) and pose else "Unspecified")
    _text(element, "truncated", _flag(attributes.get("truncated", touches_edge)))
    _text(element, "difficult", _flag(attributes.get("difficult", False)))
    _text(element, "occluded", _flag(attributes.get("occluded", False)))
    bndbox = ET.SubElement(element, "bndbox")
    for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        _text(bndbox, tag, value)
    if annotation["type"] == "box" and len(coordinates) > 2 and coordinates[2]:
        rotated = ET.SubElement(element, "robndbox")
        x1, y1, x2, y2 = coordinates[0]["x"], coordinates[0]["y"], coordinates[1]["x"], coordinates[1]["y"]
        _text(rotated, "cx", _number((x1 + x2) / 2))
        _text(rotated, "cy", _number((y1 + y2) / 2))
        _text(rotated, "w", _number(x2 - x1))
        _text(rotated, "h", _number(y2 - y1))
        _text(rotated, "angle", _number(math.radians(coordinates[2])))
    if annotation["type"] == "segment":
        for ring in coordinates:
            polygon = ET.SubElement(element, "polygon")
            for point in ring:
                pt = ET.SubElement(polygon, "pt")
                _text(pt, "x", _number(point["x"]))
                _text(pt, "y", _number(point["y"]))
    if attributes:
        listing = ET.SubElement(element, "attributes")
        for key, value in attributes.items():
            attribute = ET.SubElement(listing, "attribute")
            _text(attribute, "name", key)
            _text(attribute, "value", attribute_text(value))
    return element


def pixel_span(low: float, high: float, limit: int | None) -> tuple[int, int]:
    """The 1-based first and last pixel of the continuous span [low, high], at least one pixel
    wide and inside [1, limit] when the image size is known."""
    first, end = math.floor(low + 0.5), math.floor(high + 0.5)
    first = max(first, 0)
    if limit:
        first, end = min(first, limit), min(end, limit)
    if end <= first:
        end = first + 1
        if limit and end > limit:
            first, end = limit - 1, limit
    return first + 1, end


def _flag(value: Any) -> int:
    return 1 if value is True or value in (1, "1", "true", "yes") else 0


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def attribute_text(value: Any) -> str:
    """Plain text as is, unless it would read back as JSON ("true", "12"); everything else
    as JSON, so that import gives back the same value and type."""
    if isinstance(value, str):
        try:
            orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return orjson.dumps(value).decode()


def attribute_value(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


# --- reading -------------------------------------------------------------------------------------
def parse_xml(data: bytes, entry: str) -> ET.Element:
    """The document's root element, parsed with expat; a DOCTYPE or entity declaration is
    refused outright, so no entity is ever expanded or fetched."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise FormatError(entry, "DOCTYPE and entity declarations are not accepted")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise FormatError(entry, f"malformed XML ({exc})") from exc
    return builder.close()


def split_entry(entry: str) -> tuple[str, str]:
    """(root, folder inside Annotations) of an annotation file: "x/Annotations/a/b.xml" gives
    ("x", "a"); a file outside any Annotations folder is its own root."""
    parts = entry.split("/")
    if ANNOTATIONS not in parts[:-1]:
        return posixpath.dirname(entry), ""
    at = len(parts) - 2 - parts[-2::-1].index(ANNOTATIONS)
    return "/".join(parts[:at]), "/".join(parts[at + 1 : -1])


def read_labelmap(data: bytes, entry: str, context: ImportContext) -> Iterator[Rejection]:
    """Declare the labels of CVAT's `label:r,g,b:parts:actions` lines, with their colours."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield Rejection(entry, "not UTF-8 text")
        return
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.rsplit(":", 3)
        if len(fields) != 4 or not fields[0].strip():
            yield Rejection(f"{entry}: line {number}", "expected label:r,g,b:parts:actions")
            continue
        tag, rgb = fields[0].strip(), fields[1].strip()
        color = None
        if rgb:
            channels = rgb.split(",")
            if len(channels) != 3 or not all(c.strip().isdigit() and int(c) <= 255 for c in channels):
                yield Rejection(f"{entry}: line {number}", f"colour {rgb!r} is not r,g,b with each 0..255")
                continue
            color = "#" + "".join(f"{int(c):02x}" for c in channels)
        if tag == "background" and color in (None, "#000000"):
            continue  # CVAT's placeholder for unlabelled pixels, not a label
        context.declare(tag, color)


class Bad(Exception):
    """An object the import cannot accept; caught and reported as a Rejection."""


def read_annotation(
    source: ImportSource, entry: str, images: set[str], context: ImportContext
) -> Iterator[ImportItem | Rejection]:
    root = parse_xml(source.read_bytes(entry), entry)
    if root.tag != "annotation":
        raise FormatError(entry, f"the root element is <{root.tag}>, not <annotation>")
    filename = (root.findtext("filename") or "").strip().lstrip("/")
    if not filename:
        yield Rejection(entry, "no <filename>: the image it annotates is unknown")
        return
    size: tuple[int, int] | None = None
    try:
        size = declared_size(root)
    except Bad as exc:
        yield Rejection(f"{entry}: size", str(exc))
    folder_root, folder = split_entry(entry)
    item_path = posixpath.join(folder, filename)
    image_entry = find_image(images, folder_root, item_path, entry)
    if image_entry is not None and not posixpath.splitext(item_path)[1]:
        item_path += posixpath.splitext(image_entry)[1]
    annotations, origins = [], []
    for index, element in enumerate(root.findall("object"), start=1):
        where = f"{entry}: object[{index}]"
        try:
            annotation = read_object(element, size)
        except Bad as exc:
            yield Rejection(where, str(exc))
            continue
        context.declare(annotation["label"])
        annotations.append(annotation)
        origins.append(where)
    yield ImportItem(
        filename=item_path,
        annotations=annotations,
        origins=origins,
        entry=entry,
        image_entry=image_entry,
        width=size[0] if size else None,
        height=size[1] if size else None,
    )


def find_image(images: set[str], root: str, item_path: str, entry: str) -> str | None:
    """JPEGImages/<path> next to Annotations (or the image beside a lone XML file); by stem
    when <filename> has no extension."""
    candidates = [posixpath.join(root, IMAGES, item_path), posixpath.join(posixpath.dirname(entry), item_path)]
    for candidate in candidates:
        if candidate in images:
            return candidate
    if not posixpath.splitext(item_path)[1]:
        for candidate in candidates:
            matches = sorted(name for name in images if posixpath.splitext(name)[0] == candidate)
            if len(matches) == 1:
                return matches[0]
    return None


def declared_size(root: ET.Element) -> tuple[int, int] | None:
    element = root.find("size")
    if element is None:
        return None
    width, height = element.findtext("width"), element.findtext("height")
    if width is None and height is None:
        return None
    values = []
    for tag, text in (("width", width), ("height", height)):
        number = _parse_number(text, f"size/{tag}")
        if number < 0 or not number.is_integer():
            raise Bad(f"size/{tag} {text!r} is not a whole number of pixels")
        values.append(int(number))
    if not values[0] or not values[1]:
        return None  # 0 x 0: the writer did not know the size
    return values[0], values[1]


def _parse_number(text: str | None, name: str) -> float:
    if text is None or not text.strip():
        raise Bad(f"{name} is missing")
    try:
        value = float(text)
    except ValueError:
        raise Bad(f"{name} {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise Bad(f"{name} {text.strip()!r} is not a finite number")
    return value


def read_object(element: ET.Element, size: tuple[int, int] | None) -> dict[str, Any]:
    label = (element.findtext("name") or "").strip()
    if not label:
        raise Bad("no <name>: the object has no label")
    polygons = element.findall("polygon")
    rotated = element.find("robndbox")
    if polygons:
        annotation: dict[str, Any] = {
            "type": "segment",
            "coordinates": [read_ring(p, i, size) for i, p in enumerate(polygons, 1)],
        }
    elif rotated is not None:
        annotation = {"type": "box", "coordinates": read_rotated_box(rotated, size)}
    else:
        annotation = {"type": "box", "coordinates": read_box(element.find("bndbox"), size)}
    annotation["label"] = label
    attributes = read_attributes(element.find("attributes"))
    if attributes:
        annotation["metadata"] = {"system": {"attributes": attributes}}
    return annotation


def read_box(bndbox: ET.Element | None, size: tuple[int, int] | None) -> list:
    if bndbox is None:
        raise Bad("no <bndbox>")
    xmin, ymin, xmax, ymax = (
        _parse_number(bndbox.findtext(tag), f"bndbox/{tag}") for tag in ("xmin", "ymin", "xmax", "ymax")
    )
    if xmax < xmin or ymax < ymin:
        raise Bad(f"inverted box: xmin {xmin:g} > xmax {xmax:g} or ymin {ymin:g} > ymax {ymax:g}")
    if xmin < 0 or ymin < 0:
        raise Bad(f"the box starts before the image (xmin {xmin:g}, ymin {ymin:g})")
    if size is not None and (xmax > size[0] or ymax > size[1]):
        raise Bad(f"the box ends past the declared size {size[0]}x{size[1]} (xmax {xmax:g}, ymax {ymax:g})")
    left, top = max(xmin - 1, 0.0), max(ymin - 1, 0.0)
    if xmax <= left or ymax <= top:
        raise Bad("the box covers no pixel")
    return [{"x": left, "y": top, "z": 0}, {"x": xmax, "y": ymax, "z": 0}]


def read_rotated_box(element: ET.Element, size: tuple[int, int] | None) -> list:
    cx, cy, w, h, angle = (
        _parse_number(element.findtext(tag), f"robndbox/{tag}") for tag in ("cx", "cy", "w", "h", "angle")
    )
    if w <= 0 or h <= 0:
        raise Bad("the rotated box has no area (w or h <= 0)")
    if cx < 0 or cy < 0 or (size is not None and (cx > size[0] or cy > size[1])):
        raise Bad(f"the rotated box's centre ({cx:g}, {cy:g}) lies outside the image")
    box: list = [{"x": cx - w / 2, "y": cy - h / 2, "z": 0}, {"x": cx + w / 2, "y": cy + h / 2, "z": 0}]
    degrees = round(math.degrees(angle) % 360, ANGLE_DECIMALS) % 360
    if degrees:
        box.append(degrees)
    return box


def read_ring(polygon: ET.Element, index: int, size: tuple[int, int] | None) -> list[dict[str, float]]:
    ring = []
    for number, pt in enumerate(polygon.findall("pt"), start=1):
        name = f"polygon[{index}]/pt[{number}]"
        x, y = _parse_number(pt.findtext("x"), f"{name}/x"), _parse_number(pt.findtext("y"), f"{name}/y")
        if x < 0 or y < 0 or (size is not None and (x > size[0] or y > size[1])):
            raise Bad(f"{name} ({x:g}, {y:g}) lies outside the image")
        ring.append({"x": x, "y": y, "z": 0})
    if len({(p["x"], p["y"]) for p in ring}) < 3:
        raise Bad(f"polygon[{index}] has fewer than 3 distinct points")
    return ring


def read_attributes(element: ET.Element | None) -> dict[str, Any]:
    if element is None:
        return {}
    attributes: dict[str, Any] = {}
    for index, attribute in enumerate(element.findall("attribute"), start=1):
        key = (attribute.findtext("name") or "").strip()
        if not key:
            raise Bad(f"attributes/attribute[{index}] has no <name>")
        attributes[key] = attribute_value(attribute.findtext("value") or "")
    return attributes
