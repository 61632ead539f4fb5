"""Segmentation masks: the API's PNG data URL in and out, COCO-style RLE at rest.

On the wire (shared/API-COMPAT.md) a `binary` annotation's coordinates are
`data:image/png;base64,<RGBA PNG the size of the image>`; a pixel belongs to the mask when
its alpha is above 127, as dtlpy reads it (an image without alpha: when it is not 0).

At rest we keep COCO's compressed RLE, so exports hand it to COCO readers unchanged:
the mask is read column by column (Fortran order), as alternating run lengths that start
with a run of 0s; the run lengths are written as COCO's LEB128-like ASCII string, each run
after the second stored as the difference to the run two before. Plus the mask's bounding
box, so that the studio and spatial queries need not decode it.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from annotator.core.errors import BadRequest

DATA_URL_PREFIX = "data:image/png;base64,"


@dataclass(frozen=True)
class Mask:
    """A stored mask: COCO RLE (`size` is [height, width]) and its inclusive pixel bbox."""

    height: int
    width: int
    counts: str
    bbox: tuple[int, int, int, int] | None  # left, top, right, bottom (inclusive); None when empty

    def to_json(self) -> dict:
        return {
            "size": [self.height, self.width],
            "counts": self.counts,
            "bbox": list(self.bbox) if self.bbox else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> Mask:
        height, width = data["size"]
        bbox = tuple(data["bbox"]) if data.get("bbox") else None
        return cls(height=height, width=width, counts=data["counts"], bbox=bbox)  # type: ignore[arg-type]


# --- COCO RLE ------------------------------------------------------------------------------------
def runs_of(mask: np.ndarray) -> list[int]:
    """Run lengths of a boolean (height, width) mask in column-major order, starting with 0s."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def counts_to_string(runs: list[int]) -> str:
    out = []
    for i, run in enumerate(runs):
        value = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            chunk = value & 0x1F
            value >>= 5
            more = value != -1 if chunk & 0x10 else value != 0
            if more:
                chunk |= 0x20
            out.append(chr(chunk + 48))
    return "".join(out)


def counts_from_string(text: str) -> list[int]:
    runs: list[int] = []
    position = 0
    while position < len(text):
        value, shift, more = 0, 0, True
        while more:
            if position >= len(text):
                raise ValueError("truncated RLE string")
            chunk = ord(text[position]) - 48
            if not 0 <= chunk < 64:
                raise ValueError("invalid RLE character")
            value |= (chunk & 0x1F) << (5 * shift)
            more = bool(chunk & 0x20)
            position += 1
            shift += 1
            if not more and chunk & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def mask_encode(mask: np.ndarray) -> Mask:
    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    bbox = (int(columns[0]), int(rows[0]), int(columns[-1]), int(rows[-1])) if rows.size else None
    return Mask(height=height, width=width, counts=counts_to_string(runs_of(mask)), bbox=bbox)


def mask_decode(stored: Mask) -> np.ndarray:
    runs = counts_from_string(stored.counts)
    total = stored.height * stored.width
    if sum(runs) != total or any(run < 0 for run in runs):
        raise ValueError("RLE runs do not cover the mask")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    return flat.reshape((stored.height, stored.width), order="F")


# --- PNG data URLs -------------------------------------------------------------------------------
def _bad(message: str, field: str = "coordinates") -> BadRequest:
    return BadRequest(message, code="invalid_mask", details={"field": field})


def mask_from_data_url(value: object, *, width: int | None, height: int | None) -> np.ndarray:
    """The boolean mask of a PNG data URL; 400 unless it is a PNG of exactly the item's size."""
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX):
        raise _bad(f"A binary annotation's coordinates are a string starting with {DATA_URL_PREFIX!r}.")
    if len(value) > settings.ANNOTATION_MASK_MAX_CHARS:
        raise _bad(f"The mask data URL is longer than {settings.ANNOTATION_MASK_MAX_CHARS} characters.")
    try:
        raw = base64.b64decode(value[len(DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("The mask is not valid base64.") from exc
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
                size = image.size
                if width and height and size != (width, height):
                    raise _bad(f"The mask is {size[0]}x{size[1]}; the item is {width}x{height}.")
                image.load()
                pixels = np.asarray(image.convert("RGBA") if image.mode not in ("RGBA", "LA", "L", "1") else image)
    except BadRequest:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bad("The mask has too many pixels.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _bad("The mask is not a readable PNG image.") from exc
    if pixels.ndim == 2:  # L or 1: no alpha, any non-zero pixel is in the mask
        return pixels != 0
    return pixels[..., -1] > 127


def mask_to_data_url(mask: np.ndarray, *, color: tuple[int, int, int]) -> str:
    """An RGBA PNG the size of the mask: the label colour with alpha 255 inside, transparent outside."""
    height, width = mask.shape
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[mask] = (*color, 255)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG", compress_level=1)
    return DATA_URL_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def hex_to_rgb(color: str | None) -> tuple[int, int, int]:
    """'#rrggbb' (or 'rrggbb', or '#rgb') to a triple; white for anything unreadable."""
    text = (color or "").lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    try:
        return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)) if len(text) == 6 else (255, 255, 255)
    except ValueError:
        return (255, 255, 255)
