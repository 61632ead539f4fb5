"""The one small interface every exchange format implements.

A format is a module in this package holding a `FORMAT` object with:

- `write(items, archive, context)`: consume `ExportItem`s one at a time (a stream: never
  hold them all) and write files into the `ExportArchive` (a zip being written).
- `read(source, context)`: yield `ImportItem`s (one per image, with its annotations in the
  API's input shape) and `Rejection`s (an entry the reader could not accept, with the reason)
  from an `ImportSource` (an uploaded zip or a single file). A file that cannot be parsed at
  all raises `FormatError`.

Everything else (which items, permissions, recipe checks, labels, atomic writes, progress,
storing the zip) is the engine's (`exporting.py`, `importing.py`), so a format is only about
its files. Coordinates are Dataloop's (see shared/API-COMPAT.md and geometry.py):
- box `[{x,y},{x,y}]`, with an optional third number: a rotation in degrees about its centre;
- segment `[[{x,y},...], ...]` (rings), polyline likewise, point `{x,y}`, ellipse, class `[]`;
- binary masks as COCO RLE `{"size": [h, w], "counts": str, "bbox": [l, t, r, b]}` on export;
  on import a reader may give a mask as RLE (`size`, `counts`) or as a PNG data URL.
"""

from __future__ import annotations

import gc
import io
import json
import posixpath
import time
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

import orjson


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while an import or export runs (nested pauses are fine).

    Parsing a file and converting its annotations makes millions of small containers, none in
    cycles; with the collector on, each generation-2 pass rescans every live object (the parsed
    file, the engine's item index), which made imports three to four times slower."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class FormatError(Exception):
    """A file the reader cannot parse at all (malformed JSON/XML, missing required file)."""

    def __init__(self, entry: str, reason: str) -> None:
        super().__init__(f"{entry}: {reason}")
        self.entry, self.reason = entry, reason


@dataclass(frozen=True)
class Label:
    tag: str  # dotted path, e.g. "vehicle.car"
    color: str  # "#rrggbb"
    display: str = ""


@dataclass
class ExportContext:
    dataset: dict[str, Any]  # the dataset's entity JSON
    # The ontology's labels, then labels used by exported annotations but missing from the
    # ontology, in a stable order: class ids (COCO, YOLO, mask values) follow this order.
    labels: list[Label]
    attributes: list[dict[str, Any]]  # the ontology's attribute definitions (attributes v2)
    include_images: bool = False


@dataclass
class ExportItem:
    # The item's entity JSON, as GET /items/{id} gives it; for formats whose
    # `full_annotation_json` is False, only id, datasetId, type, filename, name, dir, metadata.
    item: dict[str, Any]
    # Annotation entity JSON (as GET /annotations/{id}); masks as stored RLE (see module doc).
    annotations: list[dict[str, Any]]
    image_path: Path | None = None  # the stored bytes, when the item has them

    @property
    def id(self) -> str:
        return self.item["id"]

    @property
    def filename(self) -> str:
        """The item's path in the dataset, with a leading slash: "/dir/a.jpg"."""
        return self.item["filename"]

    @property
    def width(self) -> int | None:
        return (self.item.get("metadata") or {}).get("system", {}).get("width")

    @property
    def height(self) -> int | None:
        return (self.item.get("metadata") or {}).get("system", {}).get("height")


class ExportArchive:
    """The zip an export writes into; entries are streamed, so memory stays flat."""

    def __init__(self, zip_file: zipfile.ZipFile) -> None:
        self.zip = zip_file
        self._names: set[str] = set()

    def _claim(self, name: str) -> str:
        name = name.lstrip("/")
        if name in self._names:
            raise ValueError(f"duplicate archive entry {name!r}")
        self._names.add(name)
        return name

    def open(self, name: str) -> IO[bytes]:
        """A binary handle writing one entry (use it in a `with`)."""
        return self.zip.open(self._claim(name), "w", force_zip64=True)

    def write_bytes(self, name: str, data: bytes, *, compress: bool = True) -> None:
        """One entry from bytes; `compress=False` stores data that is compressed already (PNG)."""
        if compress:
            with self.open(name) as handle:
                handle.write(data)
            return
        info = zipfile.ZipInfo(self._claim(name), date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_STORED
        self.zip.writestr(info, data)

    def write_text(self, name: str, text: str) -> None:
        self.write_bytes(name, text.encode("utf-8"))

    def write_json(self, name: str, value: Any) -> None:
        self.write_bytes(name, json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8"))

    def add_file(self, name: str, path: Path) -> None:
        """Copy a stored file in (images are already compressed: stored, not deflated)."""
        self.zip.write(path, self._claim(name), compress_type=zipfile.ZIP_STORED)

    def add_image(self, item: ExportItem, folder: str = "images") -> str | None:
        """Add the item's image under `folder`, mirroring the dataset's folders; its entry name."""
        if item.image_path is None or not item.image_path.exists():
            return None
        name = posixpath.join(folder, item.filename.lstrip("/"))
        self.add_file(name, item.image_path)
        return name


@dataclass
class Rejection:
    """An entry the import could not accept: where it is in the file, and why."""

    entry: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"entry": self.entry, "reason": self.reason}


@dataclass
class ImportItem:
    # The item's path as the file names it ("a.jpg", "dir/a.jpg" or "/dir/a.jpg"); the engine
    # matches it to an item of the dataset, or creates one from `image_entry`.
    filename: str
    # Annotations in the API's input shape (POST /items/{id}/annotations), e.g.
    # {"type": "box", "label": "car", "coordinates": [...], "metadata": {"system": {"attributes": {}}}}.
    annotations: list[dict[str, Any]] = field(default_factory=list)
    # Where each annotation came from ("instances.json: annotations[12]"), parallel to
    # `annotations`, so that the report names the entry; defaults to `entry`.
    origins: list[str] = field(default_factory=list)
    entry: str = ""  # the file these annotations came from, for the report
    image_entry: str | None = None  # the source entry holding the image, when it is included
    width: int | None = None  # the size the file declares, if any (checked against the image)
    height: int | None = None
    item_metadata: dict[str, Any] | None = None  # metadata.user to set on a created item


@dataclass
class ImportContext:
    labels: list[Label]  # the dataset's ontology labels at the start of the import
    # Labels the file defines (COCO categories, data.yaml names, a colour map): a reader
    # declares them here, and the engine adds the missing ones to the ontology if allowed.
    declared: dict[str, Label] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # format-specific options from the request
    expected_items: int | None = None  # how many items the file holds, if the reader knows (progress)

    def declare(self, tag: str, color: str | None = None) -> None:
        if tag not in self.declared:
            self.declared[tag] = Label(tag=tag, color=color or "")


class ImportSource:
    """What a reader reads: the entries of an uploaded zip (or a single uploaded file)."""

    IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")

    def __init__(self, path: Path, *, single_name: str | None = None) -> None:
        self.path = path
        self.single_name = single_name  # set when the upload was one file, not a zip
        self._zip = None if single_name else zipfile.ZipFile(path)
        if self._zip is not None:
            self.names = [info.filename for info in self._zip.infolist() if not info.is_dir()]
        else:
            self.names = [single_name]

    def open(self, name: str) -> IO[bytes]:
        if self._zip is None:
            if name != self.single_name:
                raise KeyError(name)
            return self.path.open("rb")
        return self._zip.open(name)

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as handle:
            return handle.read()

    def read_json(self, name: str) -> Any:
        """Parsed JSON, or FormatError naming the entry and the parser's complaint."""
        try:
            return orjson.loads(self.read_bytes(name))
        except (UnicodeDecodeError, ValueError) as exc:
            raise FormatError(name, f"malformed JSON ({exc})") from exc

    def is_image(self, name: str) -> bool:
        return name.lower().endswith(self.IMAGE_EXTENSIONS)

    def images(self) -> list[str]:
        return [name for name in self.names if self.is_image(name)]

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    @classmethod
    def from_bytes(cls, data: bytes, tmp_dir: Path, name: str = "upload.zip") -> ImportSource:
        """For tests: a source over bytes (a zip, or a single file when `name` is not .zip)."""
        path = tmp_dir / name
        path.write_bytes(data)
        return cls(path, single_name=None if zipfile.is_zipfile(io.BytesIO(data)) else name)


class Format(Protocol):
    name: str  # "dataloop", "coco", "yolo", "voc", "masks"
    title: str  # shown in the dialogs: "COCO (instances)"
    supports_import: bool
    # False when the files only need an annotation's id, type, label, coordinates, metadata,
    # description, itemId and datasetId: the engine then skips authors, dates and urls.
    full_annotation_json: bool

    def write(self, items: Iterable[ExportItem], archive: ExportArchive, context: ExportContext) -> None: ...

    def read(self, source: ImportSource, context: ImportContext) -> Iterator[ImportItem | Rejection]: ...
