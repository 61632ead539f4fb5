"""Content-addressed binary storage on disk under MEDIA_ROOT.

Bytes are streamed into a temporary file while hashed, then moved into place under their
sha256, so a blob file is always complete and two uploads of the same bytes share it.
"""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from annotator.core.errors import ApiError

CHUNK = 1024 * 1024


class PayloadTooLarge(ApiError):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The upload is too large."


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def spool(fileobj: BinaryIO, *, max_bytes: int) -> tuple[Path, str, int]:
    """Copy `fileobj` to a temporary file, hashing as we go: (path, sha256, size)."""
    tmp_dir = media_path("tmp")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    handle = tempfile.NamedTemporaryFile(dir=tmp_dir, delete=False)  # noqa: SIM115 - moved or removed below
    try:
        with handle:
            while chunk := fileobj.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"Uploads are limited to {max_bytes} bytes.")
                digest.update(chunk)
                handle.write(chunk)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return Path(handle.name), digest.hexdigest(), size


def place(temp_path: Path, relative: str) -> bool:
    """Move a spooled file to its content address; True if it was not there before."""
    target = media_path(relative)
    if target.exists():
        temp_path.unlink(missing_ok=True)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp_path, target)
    return True


def remove(relative: str) -> None:
    media_path(relative).unlink(missing_ok=True)


def keep_for_job(temp_path: Path) -> str:
    """Move a spooled upload (zip, manifest) where its job, maybe in another process, finds it."""
    relative = f"uploads/{temp_path.name}"
    target = media_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp_path, target)
    return relative
