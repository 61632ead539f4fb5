"""Images made on the fly for tests: real encoded bytes, tiny and deterministic."""

import io

from PIL import Image


def image_bytes(width: int = 32, height: int = 24, color=(200, 30, 30), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, fmt)
    return buffer.getvalue()


def png(width: int = 32, height: int = 24, color=(200, 30, 30)) -> bytes:
    return image_bytes(width, height, color, "PNG")


def jpeg(width: int = 32, height: int = 24, color=(30, 200, 30)) -> bytes:
    return image_bytes(width, height, color, "JPEG")
