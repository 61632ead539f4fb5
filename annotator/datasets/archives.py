"""Zip archives of images: checked in the request, imported by a Command.

Every entry name is checked before anything is imported: a path that escapes the target
folder (`..`, absolute, drive letters), a link, an archive inside the archive, too many
entries, or more uncompressed bytes than allowed (zip bombs) refuses the whole archive with a 400 naming the entries.
"""

import stat
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings

from annotator.core.errors import BadRequest
from annotator.datasets.paths import join_path, normalize_path

MAX_REPORTED = 20
# Archives are expanded one level only; one inside would be refused as an image later, so
# it is refused now, where the uploader sees it (and nested zip bombs with it).
NESTED_ARCHIVES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst")


def archive_entries(path: Path, *, target_dir: str) -> list[tuple[str, str]]:
    """[(entry name, item path)] for the files in the archive, or BadRequest."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadRequest("The file is not a readable zip archive.", code="invalid_archive") from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > settings.ARCHIVE_MAX_ENTRIES:
            raise BadRequest(f"Archives are limited to {settings.ARCHIVE_MAX_ENTRIES} files.", code="invalid_archive")
        total = sum(info.file_size for info in infos)
        if total > settings.ARCHIVE_MAX_UNCOMPRESSED_BYTES:
            raise BadRequest(
                f"The archive expands to {total} bytes; the limit is {settings.ARCHIVE_MAX_UNCOMPRESSED_BYTES}.",
                code="archive_too_large",
            )
        refused: list[dict[str, str]] = []
        entries = []
        for info in infos:
            reason = _unsafe(info)
            if reason is None:
                try:
                    entries.append((info.filename, normalize_path(join_path(target_dir, info.filename))))
                    continue
                except BadRequest as exc:
                    reason = str(exc.detail)
            refused.append({"entry": info.filename[:300], "reason": reason})
        if refused:
            names = ", ".join(r["entry"] for r in refused[:5])
            raise BadRequest(
                f"The archive has unsafe entries: {names}.",
                code="unsafe_archive",
                details={"refused": refused[:MAX_REPORTED]},
            )
        return entries


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.split("/"):
        return "path escapes the folder"
    if "\x00" in name:
        return "NUL in name"
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "symbolic link"
    if name.lower().endswith(NESTED_ARCHIVES):
        return "archive inside the archive (not expanded)"
    if info.file_size > settings.ITEM_MAX_UPLOAD_BYTES:
        return "file too large"
    if info.compress_size and info.file_size / info.compress_size > settings.ARCHIVE_MAX_RATIO:
        return "suspicious compression ratio"
    return None


def open_entry(path: Path, name: str) -> Any:
    """A file object for one entry (the caller closes it)."""
    archive = zipfile.ZipFile(path)
    return _EntryFile(archive, archive.open(name))


class _EntryFile:
    """An entry stream that also closes its archive."""

    def __init__(self, archive: zipfile.ZipFile, stream: Any) -> None:
        self.archive, self.stream = archive, stream

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(size)

    def close(self) -> None:
        self.stream.close()
        self.archive.close()
