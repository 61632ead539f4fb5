"""Semantic PNG masks: one colour PNG per image, each pixel in the colour of its label.

The archive:

- `masks/<item path without its extension>.png`, mirroring the dataset's folders: the size of
  the image, background black, every other pixel the colour of the label painted there. When
  there are at most 255 labels it is a palette PNG (index 0 black, index i the i-th label);
  otherwise RGB. Either way a reader that converts to RGB sees the label colours. A text chunk
  `item` names the item ("/dir/a.jpg"), so that an import finds it even without its image.
- `labelmap.txt` (Pascal VOC / CVAT style: `# label:color_rgb:parts:actions`, then
  `background:0,0,0::` and one `tag:r,g,b::` line per label) and `colormap.json`
  (`{tag: [r, g, b]}`), listing every label.
- `images/<item path>` when images are included.

Painting: annotations in the order the item lists them, a later one over an earlier one.
A pixel belongs to a shape when its centre does (pixel (x, y) spans [x, x+1) x [y, y+1)):
polygons by the even-odd rule over all their rings (so a ring inside another is a hole),
boxes as their (rotated) rectangle, ellipses rotated about their centre; binary masks as
stored. Points, polylines, classifications and notes have no area and are not painted.
Colours are the ontology's; a label without a colour, or whose colour is black or already an
earlier label's, gets a colour derived from its tag, so that each label's pixels stay apart.

Import reads the colour map (`labelmap.txt`, else `colormap.json`) and turns each mask into
one binary annotation per colour present: instances, attributes and the painting order do
not come back.
"""

from __future__ import annotations

import hashlib
import io
import math
import posixpath
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import orjson
from django.conf import settings
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from annotator.annotations.geometry import BINARY, BOX, ELLIPSE, SEGMENT
from annotator.annotations.masks import Mask, counts_to_string, mask_decode, runs_of
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

RGB = tuple[int, int, int]

LABELMAP = "labelmap.txt"
COLORMAP = "colormap.json"
MASKS = "masks/"
IMAGES = "images/"
BACKGROUND: RGB = (0, 0, 0)
PALETTE_MAX_LABELS = 255  # palette index 0 is the background
ITEM_TEXT_KEY = "item"  # the PNG text chunk naming the item the mask belongs to
LABELMAP_HEADER = "# label:color_rgb:parts:actions"
# "tag:r,g,b" then up to two more fields (parts, actions); the tag may itself hold colons.
LABELMAP_LINE = re.compile(
    r"^(?P<tag>.+)\s*:\s*(?P<r>\d{1,3})\s*,\s*(?P<g>\d{1,3})\s*,\s*(?P<b>\d{1,3})\s*(?::[^:]*){0,2}$"
)
HEX_COLOR = re.compile(r"^#?([0-9a-fA-F]{6})$")


def hex_color(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def parse_hex(color: str | None) -> RGB | None:
    """'#rrggbb' to a triple; None for a missing or unreadable colour."""
    match = HEX_COLOR.match(color or "")
    if not match:
        return None
    value = int(match.group(1), 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


# --- colours ---------------------------------------------------------------------------------------
class ColorTable:
    """Label tags to distinct colours and class values (1, 2, ...; 0 is the black background)."""

    def __init__(self, labels: Iterable[Label]) -> None:
        self.tags: list[str] = []
        self.colors: list[RGB] = []
        self.values: dict[str, int] = {}
        self._used: set[RGB] = {BACKGROUND}
        for label in labels:
            self.add(label.tag, label.color)

    def __len__(self) -> int:
        return len(self.tags)

    def add(self, tag: str, color: str | None = None) -> int:
        """The class value of `tag`, giving it a colour of its own the first time."""
        if tag in self.values:
            return self.values[tag]
        rgb = parse_hex(color)
        if rgb is None or rgb in self._used:
            rgb = self._derived(tag)
        self._used.add(rgb)
        self.tags.append(tag)
        self.colors.append(rgb)
        self.values[tag] = len(self.tags)
        return self.values[tag]

    def _derived(self, tag: str) -> RGB:
        # From a hash of the tag, so that a label keeps its colour from one export to the next.
        for attempt in range(1 << 16):
            digest = hashlib.sha256(f"{tag}\x00{attempt}".encode()).digest()
            rgb = (digest[0], digest[1], digest[2])
            if rgb not in self._used:
                return rgb
        raise RuntimeError("no free colour left")  # 2^24 colours: only with millions of labels

    def palette(self) -> list[int]:
        return [channel for rgb in (BACKGROUND, *self.colors) for channel in rgb]

    def lookup(self) -> np.ndarray:
        """Class value to RGB, as an array indexable by a class image."""
        return np.array([BACKGROUND, *self.colors], dtype=np.uint8)

    def labelmap(self) -> str:
        lines = [LABELMAP_HEADER, "background:0,0,0::"]
        lines += [f"{tag}:{r},{g},{b}::" for tag, (r, g, b) in zip(self.tags, self.colors, strict=True)]
        return "\n".join(lines) + "\n"

    def colormap(self) -> dict[str, list[int]]:
        return {tag: list(rgb) for tag, rgb in zip(self.tags, self.colors, strict=True)}


# --- rasterising -----------------------------------------------------------------------------------
# A shape's pixels: the top-left corner of a window of the image and a boolean array over it.
Window = tuple[int, int, np.ndarray]


def polygon_pixels(rings: list[list[tuple[float, float]]], width: int, height: int) -> Window | None:
    """The pixels whose centre lies inside the rings by the even-odd rule.

    Scanline parity: each edge toggles, on every pixel row its span crosses, the pixels from
    its crossing to the right; a pixel is inside when it was toggled an odd number of times.
    """
    starts_x, starts_y, ends_x, ends_y = [], [], [], []
    for ring in rings:
        points = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
        starts_x.append(points[:, 0])
        starts_y.append(points[:, 1])
        ends_x.append(np.roll(points[:, 0], -1))
        ends_y.append(np.roll(points[:, 1], -1))
    if not starts_x:
        return None
    x0, y0 = np.concatenate(starts_x), np.concatenate(starts_y)
    x1, y1 = np.concatenate(ends_x), np.concatenate(ends_y)
    if x0.size == 0:
        return None
    left, right = max(0, math.floor(x0.min())), min(width, math.ceil(x0.max()))
    top, bottom = max(0, math.floor(y0.min())), min(height, math.ceil(y0.max()))
    if right <= left or bottom <= top:
        return None
    sloped = y0 != y1
    x0, y0, x1, y1 = x0[sloped], y0[sloped], x1[sloped], y1[sloped]
    # Rows whose centre y + 0.5 lies in [min(y0, y1), max(y0, y1)): half-open, so that a
    # vertex shared by two edges is crossed once.
    first = np.maximum(np.ceil(np.minimum(y0, y1) - 0.5), top).astype(np.int64)
    stop = np.minimum(np.ceil(np.maximum(y0, y1) - 0.5), bottom).astype(np.int64)
    spans = np.maximum(stop - first, 0)
    total = int(spans.sum())
    if total == 0:
        return None
    edge = np.repeat(np.arange(spans.size), spans)
    rows = first[edge] + (np.arange(total) - np.repeat(np.cumsum(spans) - spans, spans))
    ex0, ey0 = x0[edge], y0[edge]
    crossing = ex0 + (rows + 0.5 - ey0) * (x1[edge] - ex0) / (y1[edge] - ey0)
    # The first pixel whose centre is at or right of the crossing; `right` means none in the window.
    columns = np.clip(np.ceil(crossing - 0.5), left, right).astype(np.int64)
    toggles = np.zeros((bottom - top, right - left + 1), dtype=np.uint8)
    np.bitwise_xor.at(toggles, (rows - top, columns - left), 1)
    inside = np.bitwise_xor.accumulate(toggles, axis=1)[:, :-1].view(bool)
    return top, left, inside


def box_corners(coordinates: list) -> list[tuple[float, float]]:
    """The four corners of a stored box, turned by its angle (degrees) about its centre."""
    first, second = coordinates[0], coordinates[1]
    left, right = sorted((first["x"], second["x"]))
    top, bottom = sorted((first["y"], second["y"]))
    corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
    angle = coordinates[2] if len(coordinates) > 2 and isinstance(coordinates[2], int | float) else 0
    if not angle:
        return corners
    cx, cy = (left + right) / 2, (top + bottom) / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos) for x, y in corners]


def ellipse_pixels(coordinates: dict[str, Any], width: int, height: int) -> Window | None:
    """The pixels whose centre lies inside the ellipse, turned by `angle` degrees about its centre."""
    cx, cy = coordinates["center"]["x"], coordinates["center"]["y"]
    rx, ry = coordinates["rx"], coordinates["ry"]
    if rx <= 0 or ry <= 0:
        return None
    angle = math.radians(coordinates.get("angle") or 0)
    cos, sin = math.cos(angle), math.sin(angle)
    half_width, half_height = math.hypot(rx * cos, ry * sin), math.hypot(rx * sin, ry * cos)
    left, right = max(0, math.floor(cx - half_width)), min(width, math.ceil(cx + half_width))
    top, bottom = max(0, math.floor(cy - half_height)), min(height, math.ceil(cy + half_height))
    if right <= left or bottom <= top:
        return None
    dx = np.arange(left, right, dtype=np.float64)[None, :] + 0.5 - cx
    dy = np.arange(top, bottom, dtype=np.float64)[:, None] + 0.5 - cy
    along, across = dx * cos + dy * sin, dy * cos - dx * sin
    return top, left, (along / rx) ** 2 + (across / ry) ** 2 <= 1


def binary_pixels(coordinates: dict[str, Any], width: int, height: int) -> Window | None:
    """A stored mask's pixels, cut to its bounding box and to the image."""
    stored = Mask.from_json(coordinates)
    pixels = mask_decode(stored)
    top = left = 0
    if stored.bbox:
        left, top, right, bottom = stored.bbox
        pixels = pixels[top : bottom + 1, left : right + 1]
    pixels = pixels[: max(0, height - top), : max(0, width - left)]
    return (top, left, pixels) if pixels.size else None


def shape_pixels(annotation: dict[str, Any], width: int, height: int) -> Window | None:
    """The pixels an annotation covers; None for the types without an area."""
    kind, coordinates = annotation.get("type"), annotation.get("coordinates")
    if kind == SEGMENT:
        rings = [[(point["x"], point["y"]) for point in ring] for ring in coordinates]
        return polygon_pixels(rings, width, height)
    if kind == BOX:
        return polygon_pixels([box_corners(coordinates)], width, height)
    if kind == ELLIPSE:
        return ellipse_pixels(coordinates, width, height)
    if kind == BINARY:
        return binary_pixels(coordinates, width, height)
    return None  # point, polyline, class, note


PAINTED_TYPES = (SEGMENT, BOX, ELLIPSE, BINARY)


def paint(annotations: list[dict[str, Any]], width: int, height: int, table: ColorTable) -> np.ndarray:
    """The item's class image (0 background, else the label's class value), later annotations on top."""
    painted = [a for a in annotations if a.get("type") in PAINTED_TYPES]
    for annotation in painted:
        table.add(annotation["label"])  # a label the ontology lacks still gets a colour
    dtype = np.uint8 if len(table) <= PALETTE_MAX_LABELS else np.uint16 if len(table) < 1 << 16 else np.uint32
    canvas = np.zeros((height, width), dtype=dtype)
    for annotation in painted:
        window = shape_pixels(annotation, width, height)
        if window is None:
            continue
        top, left, inside = window
        rows, columns = inside.shape
        canvas[top : top + rows, left : left + columns][inside] = table.values[annotation["label"]]
    return canvas


def encode_png(classes: np.ndarray, table: ColorTable, filename: str) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text(ITEM_TEXT_KEY, filename)
    if len(table) <= PALETTE_MAX_LABELS:
        image = Image.fromarray(classes.astype(np.uint8, copy=False))
        image.putpalette(table.palette())
    else:
        image = Image.fromarray(table.lookup()[classes])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def mask_entry_names(filename: str) -> Iterator[str]:
    """Mask names for an item, most wanted first: "/d/a.jpg" -> masks/d/a.png, masks/d/a.jpg.png, ..."""
    path = filename.lstrip("/")
    stem = posixpath.splitext(path)[0]
    yield f"{MASKS}{stem}.png"
    yield f"{MASKS}{path}.png"
    for number in range(2, 1 << 31):
        yield f"{MASKS}{path}~{number}.png"


# --- the format ------------------------------------------------------------------------------------
class MasksFormat:
    name = "masks"
    title = "Semantic PNG masks"
    supports_import = True
    full_annotation_json = False  # the files hold geometry, labels and attributes only

    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None:
        table = ColorTable(context.labels)
        # Two items may want one mask name (/d/a.jpg and /d/a.png): the names taken so far.
        taken: set[str] = set()
        for item in items:
            if context.include_images:
                archive.add_image(item)
            width, height = item.width, item.height
            if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
                continue  # no size known (a link item): nothing to paint on
            name = next(n for n in mask_entry_names(item.filename) if n not in taken)
            taken.add(name)
            classes = paint(item.annotations, width, height, table)
            archive.write_bytes(name, encode_png(classes, table, item.filename))
        archive.write_text(LABELMAP, table.labelmap())
        archive.write_bytes(COLORMAP, orjson.dumps(table.colormap(), option=orjson.OPT_INDENT_2))

    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]:
        root, map_entry, colors = read_color_map(source)
        for rgb, tag in colors.items():
            context.declare(tag, hex_color(rgb))
        masks_prefix, images_prefix = root + MASKS, root + IMAGES
        masks = sorted(name for name in source.names if name.startswith(masks_prefix))
        images = {n[len(images_prefix) :] for n in source.names if n.startswith(images_prefix) and source.is_image(n)}
        stems = {name[len(masks_prefix) : -len(".png")] for name in masks if name.lower().endswith(".png")}
        context.expected_items = len(stems)
        matcher = ImageMatcher(images, stems, masks_prefix=masks_prefix, images_prefix=images_prefix)
        reader = MaskReader(source, colors, map_entry, images_prefix, matcher)
        for entry in masks:
            if posixpath.basename(entry).startswith("."):
                continue  # .DS_Store and the like
            if not entry.lower().endswith(".png"):
                yield Rejection(entry, "a mask must be a PNG image (a lossy format would blur the label colours).")
                continue
            yield reader.read(entry, entry[len(masks_prefix) : -len(".png")])


# --- reading -------------------------------------------------------------------------------------
def read_color_map(source: ImportSource) -> tuple[str, str, dict[RGB, str]]:
    """The archive's root folder, the colour map's entry and its colours (black excluded)."""
    found = [
        (name.count("/"), posixpath.basename(name) != LABELMAP, name)
        for name in source.names
        if posixpath.basename(name) in (LABELMAP, COLORMAP)
    ]
    if not found:
        raise FormatError(
            source.single_name or LABELMAP,
            f"the archive has neither {LABELMAP} nor {COLORMAP} to say which colour is which label.",
        )
    entry = min(found)[2]
    root = posixpath.dirname(entry)
    root = f"{root}/" if root else ""
    try:
        text = source.read_bytes(entry).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(entry, f"not UTF-8 text ({exc})") from exc
    pairs = parse_labelmap(entry, text) if entry.endswith(LABELMAP) else parse_colormap(entry, text)
    colors: dict[RGB, str] = {}
    tags: set[str] = set()
    for where, tag, rgb in pairs:
        if rgb == BACKGROUND:
            continue  # black is the background, whatever the line calls it
        if not tag:
            raise FormatError(entry, f"{where}: the label has no name.")
        if tag in tags:
            raise FormatError(entry, f"{where}: label {tag!r} is listed twice.")
        if rgb in colors:
            raise FormatError(entry, f"{where}: colour {rgb} is given to both {colors[rgb]!r} and {tag!r}.")
        tags.add(tag)
        colors[rgb] = tag
    return root, entry, colors


def parse_labelmap(entry: str, text: str) -> list[tuple[str, str, RGB]]:
    pairs = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LABELMAP_LINE.match(line)
        if not match:
            raise FormatError(entry, f"line {number}: expected 'label:r,g,b::', got {line[:200]!r}.")
        rgb = (int(match["r"]), int(match["g"]), int(match["b"]))
        if max(rgb) > 255:
            raise FormatError(entry, f"line {number}: colour values go from 0 to 255, got {rgb}.")
        pairs.append((f"line {number}", match["tag"].strip(), rgb))
    if not pairs:
        raise FormatError(entry, "no labels listed.")
    return pairs


def parse_colormap(entry: str, text: str) -> list[tuple[str, str, RGB]]:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise FormatError(entry, f"malformed JSON ({exc})") from exc
    if not isinstance(data, dict) or not data:
        raise FormatError(entry, "expected an object {label: [r, g, b]}.")
    pairs = []
    for tag, value in data.items():
        rgb = parse_hex(value) if isinstance(value, str) else None
        if isinstance(value, list) and len(value) == 3 and all(type(c) is int and 0 <= c <= 255 for c in value):
            rgb = (value[0], value[1], value[2])
        if rgb is None:
            raise FormatError(entry, f"{tag!r}: expected [r, g, b] with values from 0 to 255, got {value!r}.")
        pairs.append((repr(tag), tag.strip(), rgb))
    return pairs


class ImageMatcher:
    """Which item a mask belongs to: the name of its image in the archive, else its own name.

    `masks/d/a.png` is for `images/d/a.<any extension>`; when two images share the stem, the
    exporter named the later one's mask after its whole name (`masks/d/a.jpg.png`), so an image
    whose own mask is in the archive is not a candidate for the shorter name.
    """

    def __init__(self, images: set[str], mask_stems: set[str], *, masks_prefix: str, images_prefix: str) -> None:
        self.images = images
        self.masks_prefix, self.images_prefix = masks_prefix, images_prefix
        self.by_stem: dict[str, list[str]] = {}
        for path in sorted(images):
            stem = posixpath.splitext(path)[0]
            if path not in mask_stems:
                self.by_stem.setdefault(stem, []).append(path)

    def match(self, stem: str, hint: str | None) -> tuple[str, str | None] | str:
        """(item path, its image in the archive or None), or the reason no single item fits."""
        if stem in self.images:
            return stem, stem
        if hint and names_item(stem, hint):
            return hint, hint if hint in self.images else None
        candidates = self.by_stem.get(stem, [])
        if len(candidates) > 1:
            entries = ", ".join(self.images_prefix + path for path in candidates)
            return (
                f"{entries} all fit this mask; name it after its image's full name"
                f" ({self.masks_prefix}{candidates[0]}.png)."
            )
        if candidates:
            return candidates[0], candidates[0]
        return stem, None


def names_item(stem: str, path: str) -> bool:
    """Whether the exporter may have named the mask of the item at `path` (no leading slash) `stem`."""
    if stem in (posixpath.splitext(path)[0], path):
        return True
    return re.fullmatch(re.escape(path) + r"~\d+", stem) is not None


class MaskReader:
    def __init__(
        self,
        source: ImportSource,
        colors: dict[RGB, str],
        map_entry: str,
        images_prefix: str,
        matcher: ImageMatcher,
    ) -> None:
        self.source, self.colors, self.map_entry = source, colors, map_entry
        self.images_prefix, self.matcher = images_prefix, matcher
        self.order = {tag: i for i, tag in enumerate(colors.values())}

    def read(self, entry: str, stem: str) -> ImportItem | Rejection:
        decoded = self.decode(entry)
        if isinstance(decoded, Rejection):
            return decoded
        codes, color_of, hint = decoded
        height, width = codes.shape
        present: dict[RGB, list[int]] = {}
        for code in present_codes(codes):
            present.setdefault(color_of(code), []).append(code)
        unknown = [
            code for rgb, codes_ in present.items() if rgb != BACKGROUND and rgb not in self.colors for code in codes_
        ]
        if unknown:
            position = int(np.argmax(np.isin(codes, unknown).ravel()))
            y, x = divmod(position, width)
            others = len({color_of(code) for code in unknown}) - 1
            more = f" ({others} more unknown colour{'s' if others > 1 else ''})" if others else ""
            return Rejection(
                entry, f"colour {color_of(int(codes[y, x]))} at pixel (x={x}, y={y}) is not in {self.map_entry}{more}."
            )
        matched = self.matcher.match(stem, (hint or "").lstrip("/") or None)
        if isinstance(matched, str):
            return Rejection(entry, matched)
        filename, image = matched
        image_entry = self.images_prefix + image if image else None
        if image_entry:
            size = image_size(self.source, image_entry)
            if size is not None and size != (width, height):
                return Rejection(
                    entry, f"the mask is {width}x{height}; its image {image_entry} is {size[0]}x{size[1]}."
                )
        annotations, origins = [], []
        labelled = sorted((rgb for rgb in present if rgb != BACKGROUND), key=lambda rgb: self.order[self.colors[rgb]])
        # COCO RLE runs down columns: compare on a column-major copy once, so that each
        # label's mask is already in run order (no copy per label).
        by_column = np.ascontiguousarray(codes.T) if labelled else codes
        for rgb in labelled:
            codes_ = present[rgb]
            pixels = (by_column == codes_[0] if len(codes_) == 1 else np.isin(by_column, codes_)).T
            annotations.append(
                {
                    "type": BINARY,
                    "label": self.colors[rgb],
                    "coordinates": {"size": [height, width], "counts": counts_to_string(runs_of(pixels))},
                    "metadata": {"system": {"attributes": {}}},
                }
            )
            origins.append(f"{entry}: colour {rgb} ({self.colors[rgb]})")
        return ImportItem(
            filename=filename,
            annotations=annotations,
            origins=origins,
            entry=entry,
            image_entry=image_entry,
            width=width,
            height=height,
        )

    def decode(self, entry: str) -> tuple[np.ndarray, Any, str | None] | Rejection:
        """Per-pixel colour codes, code -> RGB, and the item the PNG names (its text chunk)."""
        Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(self.source.read_bytes(entry)), formats=["PNG"]) as image:
                    image.load()
                    hint = image.info.get(ITEM_TEXT_KEY)
                    codes, color_of = color_codes(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return Rejection(entry, f"the mask has more than {settings.IMAGE_MAX_PIXELS} pixels.")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            return Rejection(entry, f"not a readable PNG image ({exc}).")
        return codes, color_of, hint if isinstance(hint, str) else None


def color_codes(image: Image.Image) -> tuple[np.ndarray, Any]:
    """A 2-D array of one code per colour, and the function from a code to its RGB.

    A palette image keeps its indices (cheap to count); anything else becomes 0xRRGGBB, with
    fully transparent pixels as background.
    """
    if image.mode == "P":
        palette = list(image.getpalette("RGB") or [])
        palette += [0] * (768 - len(palette))
        colors = [(palette[i], palette[i + 1], palette[i + 2]) for i in range(0, 768, 3)]
        return np.asarray(image), lambda code: colors[code]
    rgb = np.asarray(image.convert("RGB"))
    codes = rgb[..., 0].astype(np.uint32) << 16
    codes |= rgb[..., 1].astype(np.uint32) << 8
    codes |= rgb[..., 2]
    if "A" in image.getbands():
        codes[np.asarray(image.getchannel("A")) == 0] = 0
    return codes, lambda code: ((code >> 16) & 0xFF, (code >> 8) & 0xFF, code & 0xFF)


def present_codes(codes: np.ndarray) -> list[int]:
    if codes.dtype == np.uint8:
        return np.flatnonzero(np.bincount(codes.ravel(), minlength=256)).tolist()
    return np.unique(codes).tolist()


def image_size(source: ImportSource, entry: str) -> tuple[int, int] | None:
    """The size an image in the archive declares; None when unreadable (the engine reports that)."""
    try:
        with source.open(entry) as handle, Image.open(handle) as image:
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


FORMAT = MasksFormat()
