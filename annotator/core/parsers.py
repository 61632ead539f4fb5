"""JSON request bodies with bounds: size, nesting depth, and no NaN, Infinity or NUL.

DRF's own JSONParser reads a body of any size (Django's DATA_UPLOAD_MAX_MEMORY_SIZE only
guards form and multipart bodies) and lets a RecursionError from deeply nested input
escape as a 500. This one answers 413 above DATA_UPLOAD_MAX_MEMORY_SIZE, before parsing,
and 400 for JSON nested deeper than JSON_MAX_DEPTH; the same check serves JSON that
arrives inside a form field (an upload's `metadata`).
"""

import json
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from annotator.core.errors import ApiError

# Far deeper than any body the API or dtlpy sends (a DQL update is bounded at 32), far
# shallower than the interpreter's recursion limit that the serializers and merges share.
JSON_MAX_DEPTH = 64


class BodyTooLarge(ApiError):
    status_code = 413
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


def _refuse_constant(token: str) -> None:
    raise ValueError(f"{token} is not valid JSON")


_CONTAINERS = (dict, list)


def _nested_too_deep(value: Any) -> bool:
    """Level by level, containers only: a save's body has ~100 of them, and a stack of
    (node, depth) pairs cost a tuple for each."""
    level, depth = [value], 1
    while level:
        if depth > JSON_MAX_DEPTH:
            return True
        below = []
        for node in level:
            below.extend(
                child for child in (node.values() if type(node) is dict else node) if type(child) in _CONTAINERS
            )
        level, depth = below, depth + 1
    return False


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character is in any string or key of parsed JSON."""
    level = [value]
    while level:
        below = []
        for node in level:
            if type(node) is str:
                if "\x00" in node:
                    return True
            elif type(node) is dict:
                below.extend(node)
                below.extend(node.values())
            elif type(node) is list:
                below.extend(node)
        level = below
    return False


def json_loads_bounded(text: str | bytes, *, where: str = "JSON") -> Any:
    """json.loads, but ParseError (400) for invalid, NaN-bearing, NUL-bearing or too deeply
    nested input. PostgreSQL's jsonb and text refuse NaN, Infinity and NUL (a 500, or a whole
    manifest failed, when they got that far); SQLite would keep them, so both refuse here."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
        too_deep = isinstance(value, dict | list) and _nested_too_deep(value)
    except RecursionError:
        too_deep = True
    except ValueError as exc:
        raise ParseError(f"{where} parse error - {exc}") from exc
    if too_deep:
        raise ParseError(f"{where} is nested more than {JSON_MAX_DEPTH} levels deep.")
    # A NUL can only arrive escaped (JSON forbids raw control characters in strings), so the
    # walk runs only for text holding the escape: rare, and then it rules out an escaped
    # backslash followed by "u0000". Bytes may also be UTF-16 or UTF-32, which json.loads
    # reads too: their zero bytes send them to the walk.
    suspect = "\\u0000" in text if isinstance(text, str) else (b"\\u0000" in text or b"\x00" in text)
    if suspect and _holds_nul(value):
        raise ParseError(f"{where} parse error - NUL characters (\\u0000) are not allowed")
    return value


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = (request.META.get("CONTENT_LENGTH") if request is not None else None) or "0"
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"JSON bodies are limited to {limit} bytes.")
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:  # a chunked body declares no length
            raise BodyTooLarge(f"JSON bodies are limited to {limit} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        return json_loads_bounded(text)
