"""Serving item bytes: ETag and Last-Modified validators, conditional GETs, single Ranges.

Blobs are content-addressed, so the sha256 is a strong ETag. Requests run on a pool thread
(core/sync_http.py), so the file is read in plain blocking chunks; the event loop never does.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe, quote_etag

from annotator.core.errors import ApiError, NotFound
from annotator.datasets import storage
from annotator.datasets.models import Item

CHUNK = 256 * 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApiError):
    status_code = 416
    default_code = "range_not_satisfiable"
    default_detail = "The requested range is outside the file."


def _file_chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a single 'bytes=' range; None to serve everything."""
    match = RANGE_RE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None  # malformed or multi-range: ignore it, as RFC 9110 allows
    first, last = match.group(1), match.group(2)
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable()
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable()
    return start, end


def binary_response(request, item: Item, *, thumbnail: bool):
    blob = item.blob
    link = (item.metadata or {}).get("system", {}).get("url")
    if item.type == Item.Type.FILE and blob is None and link and not thumbnail:
        return HttpResponseRedirect(link)  # a manifest item: the bytes live at its URL
    if item.type != Item.Type.FILE or blob is None:
        raise NotFound("This item has no binary.")
    if thumbnail:
        path = storage.media_path(blob.thumbnail_relative_path)
        if not blob.has_thumbnail or not path.exists():
            raise NotFound("The thumbnail is not ready yet.", code="thumbnail_not_ready")
        etag, content_type = quote_etag(f"{blob.sha256}-thumb"), "image/jpeg"
    else:
        path = storage.media_path(blob.relative_path)
        etag, content_type = quote_etag(blob.sha256), blob.mimetype
    size = path.stat().st_size
    last_modified = int(blob.created_at.timestamp())
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=31536000, immutable" if not thumbnail else "private, max-age=86400",
        "Content-Security-Policy": settings.USER_CONTENT_SECURITY_POLICY,
    }

    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if_modified_since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    if (if_none_match and etag in [tag.strip() for tag in if_none_match.split(",")]) or (
        not if_none_match and if_modified_since is not None and last_modified <= if_modified_since
    ):
        response = HttpResponse(status=304)
        for key, value in headers.items():
            response[key] = value
        return response

    start, end, status = 0, size - 1, 200
    range_header = request.META.get("HTTP_RANGE")
    if_range = request.META.get("HTTP_IF_RANGE")
    if range_header and size and (not if_range or if_range.strip() == etag):
        try:
            byte_range = _byte_range(range_header, size)
        except RangeNotSatisfiable:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        if byte_range is not None:
            (start, end), status = byte_range, 206
    length = max(0, end - start + 1)
    response = StreamingHttpResponse(_file_chunks(path, start, length), status=status, content_type=content_type)
    for key, value in headers.items():
        response[key] = value
    response["Content-Length"] = str(length)
    # Export zips (the system Binaries dataset) are downloads; images open in the browser.
    disposition = "attachment" if item.dataset.system else "inline"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(item.name, safe='')}"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
