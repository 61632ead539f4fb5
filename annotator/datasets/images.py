"""Reading uploaded images with Pillow: what they are, and refusing what they must not be."""

import mmap
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image

from annotator.core.errors import BadRequest

# Formats we accept and the mimetype we record for each.
MIMETYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}


@dataclass(frozen=True)
class ImageInfo:
    mimetype: str
    width: int
    height: int


def inspect_image(path: Path) -> ImageInfo:
    """Width, height and mimetype of an image file; 400 for anything else.

    Pillow's bomb check is made strict: its warning (over MAX_IMAGE_PIXELS) counts as an
    error, not only its hard limit at twice that.
    """
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image_format = image.format
                width, height = image.size
                image.verify()  # structure check without a full decode
            with Image.open(path) as image:
                if image.format == "JPEG":
                    # libjpeg still reads every scan at 1/8 scale, so truncated data fails
                    # the same way, for a fraction of the work of a full decode.
                    image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
                image.load()  # a decode catches truncated pixel data
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadRequest(
            f"The image has too many pixels (limit {settings.IMAGE_MAX_PIXELS}).", code="image_too_large"
        ) from exc
    except Exception as exc:  # Pillow's decoders raise IndexError, struct.error... on malformed input
        raise BadRequest("The file is not a readable image.", code="invalid_image") from exc
    if image_format not in MIMETYPES:
        raise BadRequest(f"Images of format {image_format} are not supported.", code="invalid_image")
    _refuse_trailing_data(path, image_format)
    return ImageInfo(mimetype=MIMETYPES[image_format], width=width, height=height)


# --- where an image ends -------------------------------------------------------------------------------
# A polyglot is an image with another file (HTML, a zip, a script) riding behind it, where
# the image's own structure says it is over. Pillow ignores what follows; we refuse it, for
# the formats whose end is well defined. Zero bytes of padding after the end are tolerated.


def _png_end(data) -> int:
    pos = 8
    while True:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return pos
        if len(kind) < 4:
            raise IndexError("no IEND chunk")


def _gif_sub_blocks(data, pos: int) -> int:
    while data[pos]:
        pos += data[pos] + 1
    return pos + 1


def _gif_end(data) -> int:
    flags, pos = data[10], 13
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)  # global colour table
    while True:
        block = data[pos]
        if block == 0x3B:  # trailer
            return pos + 1
        if block == 0x21:  # extension: label, then sub-blocks
            pos = _gif_sub_blocks(data, pos + 2)
        elif block == 0x2C:  # image: descriptor, local colour table, LZW size, sub-blocks
            flags, pos = data[pos + 9], pos + 10
            if flags & 0x80:
                pos += 3 << ((flags & 7) + 1)
            pos = _gif_sub_blocks(data, pos + 1)
        else:
            raise IndexError(f"unknown GIF block {block:#x}")


# In entropy-coded data a 0xFF byte is followed by a stuffed zero or a restart marker (RST0-7);
# any other byte after it makes a marker, which ends the scan. Searched in C: a photo has
# hundreds of 0xFF bytes, and stepping through them in Python cost ~0.1 ms an upload (now ~0.02).
_SCAN_END = re.compile(rb"\xff(?![\x00\xd0-\xd7])")


def _jpeg_end(data) -> int:
    pos = 2  # after SOI
    while True:
        if data[pos] != 0xFF:
            raise IndexError("expected a JPEG marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xD9:  # EOI
            return pos + 2
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a restart
                found = _SCAN_END.search(data, pos)
                if found is None:
                    raise IndexError("no EOI marker")
                pos = found.start()


def _webp_end(data) -> int:
    size = int.from_bytes(data[4:8], "little")
    return 8 + size + (size & 1)


IMAGE_END = {"PNG": _png_end, "GIF": _gif_end, "JPEG": _jpeg_end, "WEBP": _webp_end}


def _refuse_trailing_data(path: Path, image_format: str) -> None:
    find_end = IMAGE_END.get(image_format)
    if find_end is None:
        return
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            end = find_end(data)
        except (IndexError, ValueError) as exc:
            raise BadRequest(f"The {image_format} file's structure is broken.", code="invalid_image") from exc
        if end > len(data) or data[end:].strip(b"\x00"):
            extra = len(data) - end
            raise BadRequest(
                f"The file is not a plain {image_format} image: "
                + (f"{extra} bytes follow the end of the image." if extra > 0 else "it ends before the image does."),
                code="invalid_image",
            )


def make_thumbnail(source: Path, target: Path, *, size: int) -> None:
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        # A JPEG decodes at a reduced scale, no smaller than the thumbnail: asked for the
        # thumbnail's own size (not size x size, which a landscape image's height keeps at
        # full scale), a 640x480 photo decodes at half scale, in half the time.
        width, height = image.size
        scale = size / max(width, height)
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        image.thumbnail((size, size))
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        # A name of its own: two jobs for the same bytes (two uploads of one image) may run at
        # once, and with one shared name the second rename found the file already moved.
        tmp = target.with_name(f"{target.stem}.{uuid.uuid4().hex}.tmp")
        try:
            image.save(tmp, "JPEG", quality=85)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
