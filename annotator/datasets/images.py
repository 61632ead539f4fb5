"""Reading uploaded images with Pillow: what they are, and refusing what they must not be."""

import warnings
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from PIL import Image, UnidentifiedImageError

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
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise BadRequest("The file is not a readable image.", code="invalid_image") from exc
    if image_format not in MIMETYPES:
        raise BadRequest(f"Images of format {image_format} are not supported.", code="invalid_image")
    return ImageInfo(mimetype=MIMETYPES[image_format], width=width, height=height)


def make_thumbnail(source: Path, target: Path, *, size: int) -> None:
    Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: much faster
        image.thumbnail((size, size))
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        tmp = target.with_suffix(".tmp")
        image.save(tmp, "JPEG", quality=85)
    tmp.replace(target)
