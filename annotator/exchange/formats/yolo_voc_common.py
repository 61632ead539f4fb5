"""What the YOLO and Pascal VOC formats share: one annotation file per item named after the
item's path, boxes as axis-aligned rectangles, and a note of what a format could not write."""

from __future__ import annotations

import math
import posixpath
import shutil
import tempfile
from collections import Counter
from typing import IO

from PIL import Image, UnidentifiedImageError

from annotator.exchange.formats.base import ExportArchive, ExportItem

SKIPPED_ENTRY = "skipped.txt"


def item_stem(item: ExportItem) -> str:
    """The item's path without its leading slash and extension: "/dir/a.jpg" -> "dir/a"."""
    return posixpath.splitext(item.filename.lstrip("/"))[0]


def image_size(item: ExportItem) -> tuple[int, int] | None:
    """(width, height) from the item's metadata, else from the stored image's header."""
    if item.width and item.height:
        return int(item.width), int(item.height)
    if item.image_path is None or not item.image_path.exists():
        return None
    try:
        with Image.open(item.image_path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None


def box_extent(coordinates: list) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a stored box; for a rotated one (third element: degrees
    about the centre) the axis-aligned rectangle enclosing its four corners."""
    left, top = coordinates[0]["x"], coordinates[0]["y"]
    right, bottom = coordinates[1]["x"], coordinates[1]["y"]
    angle = coordinates[2] if len(coordinates) > 2 else 0
    if not angle:
        return left, top, right, bottom
    radians = math.radians(angle)
    cos, sin = abs(math.cos(radians)), abs(math.sin(radians))
    half_w, half_h = (right - left) / 2, (bottom - top) / 2
    center_x, center_y = (left + right) / 2, (top + bottom) / 2
    reach_x, reach_y = half_w * cos + half_h * sin, half_w * sin + half_h * cos
    return center_x - reach_x, center_y - reach_y, center_x + reach_x, center_y + reach_y


def clamp(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


class SkippedLog:
    """`skipped.txt`: one line per item whose annotations (or the item itself) the format could
    not write, and why. Lines go to a temporary file while items stream by, so memory stays
    flat; the entry is added at the end, and only when something was skipped."""

    def __init__(self, format_title: str) -> None:
        self.format_title = format_title
        self._file: IO[bytes] | None = None

    def item(self, item: ExportItem, reason: str) -> None:
        self._line(f"{item.filename}: {reason}")

    def annotations(self, item: ExportItem, skipped: Counter[str]) -> None:
        """Note the annotation types of `item` left out (a count per type)."""
        if skipped:
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(skipped.items()))
            self._line(f"{item.filename}: not exported ({kinds}): {self.format_title} has no such shapes")

    def _line(self, text: str) -> None:
        if self._file is None:
            # Open across many calls and closed by close(): no `with` can span that.
            self._file = tempfile.TemporaryFile()  # noqa: SIM115
            header = f"# What the {self.format_title} export left out, one item a line.\n"
            self._file.write(header.encode("utf-8"))
        self._file.write(text.replace("\n", " ").encode("utf-8") + b"\n")

    def close(self, archive: ExportArchive) -> None:
        if self._file is None:
            return
        with self._file as source, archive.open(SKIPPED_ENTRY) as target:
            source.seek(0)
            shutil.copyfileobj(source, target)
        self._file = None


class LineSpool:
    """A list of text lines written to a temporary file, for an index entry (VOC's image
    sets) that can only be added after every item has streamed by."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close(), after every item)

    def add(self, line: str) -> None:
        self._file.write(line.encode("utf-8") + b"\n")

    def close(self, archive: ExportArchive, name: str) -> None:
        with self._file as source, archive.open(name) as target:
            source.seek(0)
            shutil.copyfileobj(source, target)
