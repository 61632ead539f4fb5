"""Remote paths of items: '/dir/sub/name.png'. One normal form, and refusal of tricks."""

import unicodedata

from annotator.core.errors import BadRequest

MAX_PATH = 1024
MAX_NAME = 255


def normalize_path(raw: str) -> str:
    """'/a/b.png' from 'a/b.png', '/a//b.png' or '\\a\\b.png'; 400 for '..', NUL, control characters."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadRequest("A path is required.", details={"path": "empty"})
    path = raw.replace("\\", "/").strip()
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts:
        raise BadRequest("A path needs a name.", details={"path": raw[:200]})
    for part in parts:
        if part == "..":
            raise BadRequest("Paths may not contain '..'.", details={"path": raw[:200]})
        if len(part) > MAX_NAME:
            raise BadRequest(f"Path segments are limited to {MAX_NAME} characters.", details={"path": raw[:200]})
        if not (part.isascii() and part.isprintable()) and any(
            unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in part
        ):
            # NUL and other controls, and format characters such as right-to-left overrides
            raise BadRequest("Paths may not contain control or formatting characters.", details={"path": raw[:200]})
    normalized = "/" + "/".join(parts)
    if len(normalized) > MAX_PATH:
        raise BadRequest(f"Paths are limited to {MAX_PATH} characters.", details={"path": raw[:200]})
    return normalized


def normalize_dir(raw: str | None) -> str:
    """A folder path: '/' for the root, else like normalize_path."""
    if raw is None or raw.strip().strip("/\\") == "":
        return "/"
    return normalize_path(raw)


def split_path(path: str) -> tuple[str, str]:
    """('/a', 'b.png') for '/a/b.png'; ('/', 'b.png') for '/b.png'."""
    head, _, name = path.rpartition("/")
    return (head or "/"), name


def join_path(directory: str, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}"


def ancestors(directory: str) -> list[str]:
    """['/a', '/a/b'] for '/a/b': the folders that must exist for it (not the root)."""
    if directory == "/":
        return []
    parts = directory.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
