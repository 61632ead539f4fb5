"""The bad-input corpus: every case built by code, deterministically, never hand-picked.

    python -m tests.corpus.generate <out-dir>    # writes each case's request and expectation

Each case names its category, the endpoint it targets (with `{dataset}`, `{item}` and
`{annotation}` standing for ids of the test world), the request and what must come back:
a 4xx status (and the error code where the API has one), or for the few inputs that a
documented rule accepts (self-intersecting polygons, metadata.system sent without
`?system=true`, ...) the name of the check that proves the documented outcome.

Big requests (the 50 MB bodies, the zip with 100,001 entries) are built when a test asks
for them (`Case.request()`), so importing this module stays cheap and nothing big is
committed.
"""

from __future__ import annotations

import base64
import io
import json
import random
import stat
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

# The test world's item is an image of this size (tests/corpus/test_corpus.py builds it).
WIDTH, HEIGHT = 64, 48
MiB = 1024 * 1024

UPLOAD = "/api/v1/datasets/{dataset}/items"
ARCHIVE = "/api/v1/datasets/{dataset}/archive"
IMPORT = "/api/v1/datasets/{dataset}/import"
ITEM = "/api/v1/items/{item}"
ANNOTATIONS = "/api/v1/items/{item}/annotations"
BATCH = "/api/v1/items/{item}/annotations/batch"
ANNOTATION = "/api/v1/annotations/{annotation}"
DATASET = "/api/v1/datasets/{dataset}"
DATASETS = "/api/v1/datasets"
ITEM_QUERY = "/api/v1/datasets/{dataset}/query"
DATASET_QUERY = "/api/v1/datasets/query"
EXPORT = "/api/v1/datasets/{dataset}/export"


@dataclass(frozen=True)
class Request:
    """One HTTP request: a JSON text body, or multipart form fields and files."""

    method: str
    path: str
    json_text: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    files: tuple[tuple[str, bytes, str], ...] = ()  # (file name, bytes, content type), field "file"
    query: str = ""


@dataclass(frozen=True)
class Case:
    name: str
    category: str
    build: Callable[[], Request]
    status: tuple[int, ...] = (400,)
    codes: tuple[str, ...] = ()  # the error code must be one of these (any when empty)
    accepted: str | None = None  # the documented-outcome check, for inputs a rule accepts
    role: str = "owner"
    rule: str = ""  # what the case proves, in words (written to the manifest)

    def request(self) -> Request:
        return self.build()


# --- images ----------------------------------------------------------------------------------------
def _pattern(width: int = WIDTH, height: int = HEIGHT) -> Image.Image:
    """A deterministic, not-too-compressible RGB picture."""
    pixels = bytes(
        (x * 7 + y * 13 + c * 71 + (x * y) % 11) % 256 for y in range(height) for x in range(width) for c in range(3)
    )
    return Image.frombytes("RGB", (width, height), pixels)


def encode(fmt: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    buffer = io.BytesIO()
    _pattern(width, height).save(buffer, fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_header(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose IHDR declares `width` x `height`, with one tiny IDAT: a bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def _flip(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1 :]


def _png_rewrite_chunk(data: bytes, kind: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """The PNG with the first `kind` chunk's data replaced and its CRC made right again."""
    at = data.index(kind) - 4
    length = struct.unpack(">I", data[at : at + 4])[0]
    body = data[at + 8 : at + 8 + length]
    return data[:at] + png_chunk(kind, change(body)) + data[at + 12 + length :]


def _jpeg_segment(data: bytes, marker: int) -> int:
    """The offset of the first segment with `marker` (0xC0 for SOF0...)."""
    return data.index(bytes([0xFF, marker]))


def _jpeg_with_size(width: int, height: int) -> bytes:
    data = bytearray(encode("JPEG"))
    sof = _jpeg_segment(bytes(data), 0xC0)
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def _gif_with_size(width: int, height: int) -> bytes:
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x44\x01\x00"
    return screen + image + b"\x3b"


def _webp_with_canvas(width: int, height: int) -> bytes:
    """An extended WebP (VP8X) declaring a huge canvas, with a small real bitstream inside."""
    small = encode("WEBP", 16, 16)
    bitstream = small[12:]  # the VP8/VP8L chunk of a plain WebP
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + bitstream
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], *, level: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name or ZipInfo, bytes), with fixed timestamps so the bytes never change."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=level) as archive:
        for name, data in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = level
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.create_system = 3  # Unix, so that the mode bits mean what they say
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _declare_sizes(data: bytes, size: int) -> bytes:
    """The zip with every central-directory entry claiming `size` uncompressed bytes."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        struct.pack_into("<I", out, at + 24, size)
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _overlapping_zip(copies: int) -> bytes:
    """One deflated entry of zeros referenced by `copies` central-directory records (the
    'overlapping files' bomb): a small file that claims copies x 8 MiB of content."""
    payload = b"\x00" * (8 * MiB)
    compressed = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = compressed.compress(payload) + compressed.flush()
    crc = zlib.crc32(payload)
    name = b"zeros.png"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(deflated), len(payload), len(name), 0)
    local += name + deflated
    central = b""
    for n in range(copies):
        entry = f"copy{n:05d}.png".encode()
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(deflated),
                len(payload),
                len(entry),
                0,
                0,
                0,
                0,
                0,
                0,
            )
            + entry
        )
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, copies, copies, len(central), len(local), 0)
    return local + central + end


def _many_entries(count: int) -> bytes:
    return _zip([(f"{n}.png", b"") for n in range(count)], level=zipfile.ZIP_STORED)


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _mask_png(width: int, height: int, *, filled: bool = True) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (255, 0, 0, 255 if filled else 0)).save(buffer, "PNG")
    return buffer.getvalue()


# --- request builders ------------------------------------------------------------------------------
def upload(name: str, data: bytes, content_type: str = "image/png", path: str | None = None) -> Callable[[], Request]:
    def build() -> Request:
        return Request("POST", UPLOAD, form={"path": path or f"/corpus/{name}"}, files=((name, data, content_type),))

    return build


def upload_lazy(name: str, make: Callable[[], bytes]) -> Callable[[], Request]:
    return lambda: upload(name, make())()


def multipart(url: str, name: str, make: Callable[[], bytes], **form: str) -> Callable[[], Request]:
    return lambda: Request("POST", url, form=dict(form), files=((name, make(), "application/zip"),))


def json_body(method: str, path: str, body: object, query: str = "") -> Callable[[], Request]:
    return lambda: Request(method, path, json_text=json.dumps(body), query=query)


def json_text(method: str, path: str, text: str | Callable[[], str], query: str = "") -> Callable[[], Request]:
    return lambda: Request(method, path, json_text=text() if callable(text) else text, query=query)


def nested_object(depth: int, leaf: str = "1", key: str = "a") -> str:
    """JSON text of `depth` objects inside each other; json.dumps itself would recurse too deep."""
    return f'{{"{key}":' * depth + leaf + "}" * depth


def nested_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def padded(prefix: str, size: int, suffix: str) -> Callable[[], str]:
    """`prefix` + 'x' * n + `suffix`, `size` bytes in all."""
    return lambda: prefix + "x" * (size - len(prefix) - len(suffix)) + suffix


def annotation(kind: str, coordinates: object, label: str = "cat", **extra: object) -> dict:
    return {"type": kind, "label": label, "coordinates": coordinates, **extra}


# --- the cases ---------------------------------------------------------------------------------------
def image_cases() -> Iterator[Case]:
    formats = {
        "png": ("PNG", "image/png"),
        "jpeg": ("JPEG", "image/jpeg"),
        "webp": ("WEBP", "image/webp"),
        "gif": ("GIF", "image/gif"),
    }
    for ext, (fmt, mime) in formats.items():
        whole = encode(fmt)
        cuts = {"header": 12 if ext != "png" else 16, "quarter": len(whole) // 4, "half": len(whole) // 2}
        cuts["three-quarters"] = len(whole) * 3 // 4
        cuts["last-bytes"] = len(whole) - (12 if ext == "png" else 2)
        for where, at in cuts.items():
            yield Case(
                f"truncated-{ext}-{where}",
                "truncated image",
                upload(f"cut.{ext}", whole[:at], mime),
                codes=("invalid_image",),
                rule="an image cut short is not a readable image",
            )

    png, jpeg, gif, webp = encode("PNG"), encode("JPEG"), encode("GIF"), encode("WEBP")
    idat = png.index(b"IDAT")
    corrupt = {
        "png-signature": _flip(png, 1),
        "png-ihdr-crc": _flip(png, 29),
        "png-idat-crc": _flip(png, idat + 4 + struct.unpack(">I", png[idat - 4 : idat])[0] + 3),
        "png-idat-zlib-header": _png_rewrite_chunk(png, b"IDAT", lambda body: b"\xff\xff" + body[2:]),
        "png-idat-garbage": _png_rewrite_chunk(png, b"IDAT", lambda body: body[:2] + bytes(255 - b for b in body[2:])),
        "png-zero-width": _png_rewrite_chunk(png, b"IHDR", lambda body: b"\x00\x00\x00\x00" + body[4:]),
        "png-bit-depth-7": _png_rewrite_chunk(png, b"IHDR", lambda body: body[:8] + b"\x07" + body[9:]),
        "png-no-idat": png[: idat - 4] + png_chunk(b"IEND", b""),
        "jpeg-soi": _flip(jpeg, 1),
        "jpeg-sof-length": jpeg[: _jpeg_segment(jpeg, 0xC0) + 2] + b"\xff\xff" + jpeg[_jpeg_segment(jpeg, 0xC0) + 4 :],
        "jpeg-no-scan": jpeg[: _jpeg_segment(jpeg, 0xDA)] + b"\xff\xd9",
        "gif-signature": _flip(gif, 3),
        "gif-no-image": gif[:13] + b"\x3b",
        "webp-fourcc": webp[:8] + b"WEBQ" + webp[12:],
        "webp-bitstream": webp[:20] + bytes(255 - b for b in webp[20:]),
        "bmp-pixel-offset": (lambda b: b[:10] + struct.pack("<I", 1 << 30) + b[14:])(encode("BMP")),
        "empty-file": b"",
        "random-bytes": random.Random(8).randbytes(4096),
    }
    for name, data in corrupt.items():
        yield Case(
            f"corrupt-{name}",
            "corrupt image",
            upload(f"corrupt.{name.split('-')[0]}", data),
            codes=("invalid_image",),
            rule="flipped bytes in a header, chunk or bitstream make the file unreadable",
        )

    html = b"<html><body><script>alert(document.cookie)</script></body></html>\n"
    polyglots = {
        "png+zip": png + _zip([("payload.html", html)]),
        "png+html": png + html,
        "jpeg+html": jpeg + html,
        "gif+js": gif + b"\n/*" + b"*/=1;alert(document.domain);\n",
        "webp+html-inside-riff": (
            lambda data: data[:4] + struct.pack("<I", len(data) - 8 + len(html)) + data[8:] + html
        )(webp),
        "webp+html": webp + html,
        "html+png": html + png,
        "zip+png": _zip([("a.txt", b"hello")]) + png,
    }
    for name, data in polyglots.items():
        yield Case(
            f"polyglot-{name}",
            "polyglot",
            upload(f"poly.{name.split('+')[0]}", data, "image/png"),
            codes=("invalid_image",),
            rule="an image must end where its format says it ends: nothing may ride behind it",
        )
    yield Case(
        "polyglot-jpeg-zero-padding",
        "polyglot",
        upload("padded.jpeg", jpeg + bytes(512), "image/jpeg"),
        status=(201,),
        accepted="name_kept_blob_content_addressed",
        rule="zero bytes after the end are padding (some cameras write it), not a second file",
    )

    bombs = {
        "png-100000x100000": png_with_header(100_000, 100_000),
        "png-just-over-limit": png_with_header(10_001, 10_000),
        "png-1x4000000000": png_with_header(1, 4_000_000_000),
        "png-16-bit-rgba-30000": png_with_header(30_000, 30_000, bit_depth=16, colour_type=6),
        "jpeg-65000x65000": _jpeg_with_size(65_000, 65_000),
        "gif-65535x65535": _gif_with_size(65_535, 65_535),
        "webp-canvas-16384": _webp_with_canvas(16_384, 16_384),
    }
    for name, data in bombs.items():
        yield Case(
            f"bomb-{name}",
            "decompression bomb",
            upload(f"bomb.{name.split('-')[0]}", data),
            codes=("image_too_large", "invalid_image"),
            rule="huge declared dimensions are refused before any pixel is decoded",
        )

    markup = {
        "svg-script-as-png": (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "x.png",
            "image/png",
        ),
        "svg-as-svg": (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "x.svg", "image/svg+xml"),
        "svg-with-xml-prolog": (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            "x.png",
            "image/png",
        ),
        "html-as-png": (html, "x.png", "image/png"),
        "html-as-jpeg": (b"<!DOCTYPE html>" + html, "x.jpg", "image/jpeg"),
        "xhtml-as-gif": (
            b'<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
            "x.gif",
            "image/gif",
        ),
        "xml-entity-bomb": (
            b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
            "x.png",
            "image/png",
        ),
        "xml-external-entity": (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "x.webp",
            "image/webp",
        ),
        "png-signature-then-html": (b"\x89PNG\r\n\x1a\n" + html, "x.png", "image/png"),
        "pdf-as-png": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "x.png", "image/png"),
    }
    for name, (data, filename, mime) in markup.items():
        yield Case(
            f"markup-{name}",
            "markup as image",
            upload(filename, data, mime),
            codes=("invalid_image",),
            rule="only raster formats Pillow reads are images; the name and mimetype sent count for nothing",
        )


def archive_cases() -> Iterator[Case]:
    good = encode("PNG")
    slips = {
        "dotdot": "../evil.png",
        "deep-dotdot": "../../../../tmp/evil.png",
        "inner-dotdot": "photos/../../evil.png",
        "absolute": "/etc/evil.png",
        "drive-letter": "C:/evil.png",
        "backslash-drive": "C:\\Windows\\evil.png",
        "backslash-dotdot": "..\\..\\evil.png",
        "mixed-separators": "photos\\..\\../evil.png",
    }
    zips: dict[str, tuple[Callable[[], bytes], tuple[str, ...], str]] = {}
    for name, entry in slips.items():
        zips[f"slip-{name}"] = (
            lambda entry=entry: _zip([("ok.png", good), (entry, good)]),
            ("unsafe_archive",),
            "an entry whose path leaves the target folder refuses the whole archive",
        )
    zips["slip-symlink-file"] = (
        lambda: _zip([("ok.png", good), _symlink("link.png", "/etc/passwd")]),
        ("unsafe_archive",),
        "a symbolic link entry refuses the whole archive",
    )
    zips["slip-symlink-dir"] = (
        lambda: _zip([_symlink("up", "../.."), ("up/evil.png", good)]),
        ("unsafe_archive",),
        "a link to a folder, then a file through it, refuses the whole archive",
    )
    zips["bomb-ratio"] = (
        lambda: _zip([("zeros.png", b"\x00" * (8 * MiB))]),
        ("unsafe_archive",),
        "an entry compressed more than ARCHIVE_MAX_RATIO times is a bomb",
    )
    zips["bomb-declared-sizes"] = (
        lambda: _declare_sizes(_zip([(f"{n}.png", good) for n in range(6)]), 0xFFFFFFF0),
        ("archive_too_large", "unsafe_archive"),
        "the sizes the directory declares count: 6 x 4 GiB is over the limit",
    )
    zips["bomb-overlapping-entries"] = (
        lambda: _overlapping_zip(3000),
        ("archive_too_large", "unsafe_archive"),
        "records sharing one deflated stream add up to more than the limit",
    )
    zips["bomb-nested"] = (
        lambda: _zip([(f"inner{n}.zip", _zip([("zeros.png", b"\x00" * (4 * MiB))])) for n in range(4)]),
        ("unsafe_archive",),
        "zips inside zips are compressed zeros all the same: refused by ratio, never expanded",
    )
    zips["bomb-many-entries"] = (
        lambda: _many_entries(100_001),
        ("invalid_archive",),
        "more than ARCHIVE_MAX_ENTRIES files is refused",
    )
    zips["not-a-zip"] = (lambda: good, ("invalid_archive",), "a PNG is not a zip")
    zips["truncated-zip"] = (
        lambda: _zip([("ok.png", good)])[:-30],
        ("invalid_archive",),
        "a zip without its end record is not a readable zip",
    )
    zips["empty-zip"] = (lambda: _zip([]), ("invalid_archive",), "an archive with no files")
    for name, (make, codes, rule) in zips.items():
        yield Case(
            f"archive-{name}",
            "zip bomb and zip slip" if name.startswith(("slip", "bomb")) else "unreadable archive",
            multipart(ARCHIVE, "upload.zip", make, path="/batch"),
            codes=codes,
            rule=rule,
        )
        if name.startswith(("slip", "bomb")):
            yield Case(
                f"import-{name}",
                "zip bomb and zip slip",
                multipart(IMPORT, "upload.zip", make, format="dataloop"),
                codes=codes,
                rule=rule + " (import)",
            )


BIG_BODY = 50 * MiB


def json_cases() -> Iterator[Case]:
    big = {
        "item-patch": ("PATCH", ITEM, '{"metadata": {"user": {"pad": "', '"}}}'),
        "annotations-create": ("POST", ANNOTATIONS, '[{"type": "class", "label": "', '"}]'),
        "annotations-batch": ("POST", BATCH, '{"create": [{"type": "class", "label": "', '"}]}'),
        "item-query": ("POST", ITEM_QUERY, '{"filter": {"name": "', '"}}'),
        "dataset-query": ("POST", DATASET_QUERY, '{"filter": {"name": "', '"}}'),
        "dataset-create": ("POST", DATASETS, '{"name": "', '"}'),
        "dataset-patch": ("PATCH", DATASET, '{"name": "', '"}'),
        "export": ("POST", EXPORT, '{"itemsQuery": {"filter": {"name": "', '"}}}'),
        "annotation-update": ("PUT", ANNOTATION, '{"label": "', '"}'),
    }
    for name, (method, path, prefix, suffix) in big.items():
        yield Case(
            f"json-50mb-{name}",
            "50 MB JSON body",
            json_text(method, path, padded(prefix, BIG_BODY, suffix)),
            status=(413,),
            codes=("payload_too_large",),
            rule="a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before it is parsed",
        )
    yield Case(
        "multipart-50mb-metadata-field",
        "50 MB JSON body",
        lambda: Request(
            "POST",
            UPLOAD,
            form={"path": "/big.png", "metadata": padded('{"user": {"pad": "', BIG_BODY, '"}}')()},
            files=(("big.png", encode("PNG"), "image/png"),),
        ),
        status=(400, 413),
        rule="a 50 MB form field is refused like a 50 MB JSON body",
    )

    deep = {
        "item-metadata-10000": ("PATCH", ITEM, lambda: '{"metadata": {"user": ' + nested_object(10_000) + "}}"),
        "item-metadata-500": ("PATCH", ITEM, lambda: '{"metadata": {"user": ' + nested_object(500) + "}}"),
        "item-metadata-arrays-10000": (
            "PATCH",
            ITEM,
            lambda: '{"metadata": {"user": {"a": ' + nested_array(10_000) + "}}}",
        ),
        "annotation-metadata-10000": (
            "POST",
            ANNOTATIONS,
            lambda: '[{"type": "class", "label": "cat", "metadata": {"user": ' + nested_object(10_000) + "}}]",
        ),
        "annotation-metadata-900": (
            "POST",
            ANNOTATIONS,
            lambda: '[{"type": "class", "label": "cat", "metadata": {"user": ' + nested_object(900) + "}}]",
        ),
        "batch-coordinates-10000": (
            "POST",
            BATCH,
            lambda: '{"create": [{"type": "segment", "label": "cat", "coordinates": ' + nested_array(10_000) + "}]}",
        ),
        "dql-and-10000": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": ' + nested_object(10_000, '{"name": "a"}', "$and") + "}",
        ),
        "dql-or-list-5000": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": ' + '{"$or": [' * 5_000 + '{"name": "a"}' + "]}" * 5_000 + "}",
        ),
        "dql-and-11": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": ' + '{"$and": [' * 11 + '{"name": "a"}' + "]}" * 11 + "}",
        ),
        "dql-value-10000": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": {"metadata.user.a": ' + nested_object(10_000) + "}}",
        ),
        "dql-update-10000": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": {}, "update": {"metadata": {"user": ' + nested_object(10_000) + "}}}",
        ),
        "dql-update-40": (
            "POST",
            ITEM_QUERY,
            lambda: '{"filter": {}, "update": {"metadata": {"user": ' + nested_object(40) + "}}}",
        ),
        "dataset-query-10000": (
            "POST",
            DATASET_QUERY,
            lambda: '{"filter": ' + nested_object(10_000, '{"name": "a"}', "$and") + "}",
        ),
        "dataset-metadata-10000": ("PATCH", DATASET, lambda: '{"metadata": {"user": ' + nested_object(10_000) + "}}"),
    }
    for name, (method, path, text) in deep.items():
        yield Case(
            f"nested-{name}",
            "deeply nested JSON",
            json_text(method, path, text),
            rule="JSON nested deeper than the API allows is a clear 400, never a crash",
        )
    yield Case(
        "nested-upload-metadata-field-10000",
        "deeply nested JSON",
        lambda: Request(
            "POST",
            UPLOAD,
            form={"path": "/deep.png", "metadata": '{"user": ' + nested_object(10_000) + "}"},
            files=(("deep.png", encode("PNG"), "image/png"),),
        ),
        rule="a multipart metadata field nested too deep is a clear 400",
    )
    for name, text in {
        "not-json": "{'a': 1}",
        "trailing-garbage": '{"a": 1} xx',
        "bare-nan": "NaN",
        "bom-and-junk": "\ufeff{",
    }.items():
        yield Case(
            f"malformed-{name}", "malformed JSON", json_text("PATCH", ITEM, text), rule="unparseable JSON is a 400"
        )


SHAPES = {
    "box": lambda v: [{"x": v, "y": 2}, {"x": 10, "y": 12}],
    "box-angle": lambda v: [{"x": 1, "y": 2}, {"x": 10, "y": 12}, v],
    "segment": lambda v: [[{"x": 1, "y": 1}, {"x": 20, "y": v}, {"x": 5, "y": 30}]],
    "polyline": lambda v: [[{"x": 1, "y": 1}, {"x": v, "y": 20}]],
    "point": lambda v: [{"x": 3, "y": v}],
    "point-z": lambda v: [{"x": 3, "y": 4, "z": v}],
    "ellipse-center": lambda v: {"center": {"x": v, "y": 5}, "rx": 3, "ry": 2, "angle": 0},
    "ellipse-radius": lambda v: {"center": {"x": 5, "y": 5}, "rx": v, "ry": 2, "angle": 0},
    "ellipse-angle": lambda v: {"center": {"x": 5, "y": 5}, "rx": 3, "ry": 2, "angle": v},
    "note": lambda v: {"box": [{"x": 1, "y": 2}, {"x": v, "y": 12}], "note": {"status": "open", "messages": []}},
}
SHAPE_TYPES = {
    "box-angle": "box",
    "point-z": "point",
    "ellipse-center": "ellipse",
    "ellipse-radius": "ellipse",
    "ellipse-angle": "ellipse",
}
MARK = 987654.321  # a number the JSON text carries, replaced by the raw token below
BAD_NUMBERS = {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity", "1e309": "1e309", "-1e309": "-1e309"}
BAD_VALUES = {"string": "12", "true": True, "null": None, "object": {"v": 1}}


def coordinate_cases() -> Iterator[Case]:
    for shape, make in SHAPES.items():
        kind = SHAPE_TYPES.get(shape, shape)
        template = json.dumps([annotation(kind, make(MARK))])
        for name, token in BAD_NUMBERS.items():
            yield Case(
                f"coordinates-{shape}-{name}",
                "NaN and Infinity coordinates",
                json_text("POST", ANNOTATIONS, template.replace(str(MARK), token)),
                codes=("parse_error", "invalid_geometry"),
                rule="every coordinate must be a finite number",
            )
        for name, value in BAD_VALUES.items():
            yield Case(
                f"coordinates-{shape}-{name}",
                "NaN and Infinity coordinates",
                json_body("POST", ANNOTATIONS, [annotation(kind, make(value))]),
                codes=("invalid_geometry",),
                rule="a coordinate of the wrong JSON type is refused",
            )
    update = json.dumps({"coordinates": SHAPES["box"](MARK)})
    yield Case(
        "coordinates-update-Infinity",
        "NaN and Infinity coordinates",
        json_text("PUT", ANNOTATION, update.replace(str(MARK), "1e400")),
        codes=("invalid_geometry",),
        rule="an update is checked like a creation",
    )
    batch = json.dumps({"create": [annotation("box", SHAPES["box"](MARK))]})
    yield Case(
        "coordinates-batch-NaN",
        "NaN and Infinity coordinates",
        json_text("POST", BATCH, batch.replace(str(MARK), "NaN")),
        codes=("parse_error",),
        rule="the studio's batch save is checked like a creation",
    )


def polygon_cases() -> Iterator[Case]:
    accepted = {
        "bow-tie": [[{"x": 0, "y": 0}, {"x": 20, "y": 20}, {"x": 20, "y": 0}, {"x": 0, "y": 20}]],
        "star": [[{"x": 30, "y": 0}, {"x": 40, "y": 40}, {"x": 10, "y": 15}, {"x": 50, "y": 15}, {"x": 20, "y": 40}]],
        "figure-eight-touching": [
            [
                {"x": 0, "y": 0},
                {"x": 10, "y": 10},
                {"x": 20, "y": 0},
                {"x": 20, "y": 20},
                {"x": 10, "y": 10},
                {"x": 0, "y": 20},
            ]
        ],
    }
    for name, rings in accepted.items():
        yield Case(
            f"polygon-self-intersecting-{name}",
            "self-intersecting polygon",
            json_body("POST", ANNOTATIONS, [annotation("segment", rings)]),
            status=(201,),
            accepted="stored_as_drawn",
            rule="README: self-intersecting rings are kept as drawn (filled even-odd)",
        )
    refused = {
        "one-point-repeated": [[{"x": 5, "y": 5}] * 4],
        "two-distinct-points": [[{"x": 1, "y": 1}, {"x": 9, "y": 9}, {"x": 1, "y": 1}]],
        "collapses-when-clamped": [[{"x": -50, "y": -5}, {"x": -10, "y": -20}, {"x": -30, "y": -40}]],
        "empty-ring-list": [],
        "ring-not-a-list": [{"x": 1}, 5],
    }
    for name, rings in refused.items():
        yield Case(
            f"polygon-{name}",
            "self-intersecting polygon",
            json_body("POST", ANNOTATIONS, [annotation("segment", rings)]),
            codes=("invalid_geometry",),
            rule="README: a ring needs 3 distinct points inside the image after clamping",
        )


def mask_cases() -> Iterator[Case]:
    right = _mask_png(WIDTH, HEIGHT)
    masks: dict[str, object] = {
        "wrong-size": _data_url(_mask_png(32, 32)),
        "transposed-size": _data_url(_mask_png(HEIGHT, WIDTH)),
        "jpeg-in-png-url": _data_url(encode("JPEG")),
        "gif-in-png-url": _data_url(encode("GIF")),
        "not-base64": "data:image/png;base64,!!not*base64!!",
        "base64-without-prefix": base64.b64encode(right).decode(),
        "svg-data-url": "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
        "truncated-png": _data_url(right[: len(right) // 2]),
        "empty-mask": _data_url(_mask_png(WIDTH, HEIGHT, filled=False)),
        "bomb-header": _data_url(png_with_header(100_000, 100_000)),
        "number": 12,
        "rle-wrong-size": {"counts": "0", "size": [10, 10]},
        "rle-runs-short": {"counts": "5", "size": [HEIGHT, WIDTH]},
        "rle-no-size": {"counts": "5"},
    }
    for name, value in masks.items():
        yield Case(
            f"mask-{name}",
            "wrong masks",
            json_body("POST", ANNOTATIONS, [annotation("binary", value, label="road")]),
            codes=("invalid_mask", "bad_request"),
            rule="a mask is a PNG (or RLE) of exactly the item's size, with something in it",
        )


def filename_cases() -> Iterator[Case]:
    png = encode("PNG")
    refused = {
        "dotdot": "../evil.png",
        "inner-dotdot": "/a/../../evil.png",
        "backslash-dotdot": "\\..\\..\\evil.png",
        "nul": "/evil\x00.png",
        "rtl-override": "/evil\u202egnp.exe",
        "zero-width-space": "/ev\u200bil.png",
        "zero-width-joiner": "/ev\u200dil.png",
        "bidi-isolate": "/\u2066evil\u2069.png",
        "bom": "/\ufeffevil.png",
        "escape-sequence": "/\x1b[31mred.png",
        "newline": "/a\nb.png",
        "long-segment": "/" + "n" * 256 + ".png",
        "long-path": "/" + "/".join(["d" * 200] * 6) + "/x.png",
        "only-dots": "/./.",
        "only-slash": "/",
        "blank": "   ",
        "private-use": "/\ue000.png",
    }
    for name, path in refused.items():
        yield Case(
            f"filename-{name}",
            "filename tricks",
            upload("x.png", png, path=path),
            rule="paths may not climb, and may not hide control or formatting characters",
        )
    accepted = {"windows-device-name": "/CON.png", "trailing-dot-name": "/aux.", "unicode-letters": "/日本/猫.png"}
    for name, path in accepted.items():
        yield Case(
            f"filename-{name}",
            "filename tricks",
            upload("x.png", png, path=path),
            status=(201,),
            accepted="name_kept_blob_content_addressed",
            rule="names never become server file paths: blobs are stored under their sha256",
        )


def metadata_cases() -> Iterator[Case]:
    forged = {"width": 1, "height": 1, "mimetype": "text/html", "size": 0, "refs": [{"type": "task", "id": "x"}]}
    yield Case(
        "system-item-patch-without-flag",
        "metadata.system diffs",
        json_body("PATCH", ITEM, {"metadata": {"system": forged, "user": {"fine": 1}}}),
        status=(200,),
        accepted="item_system_unchanged",
        rule="README: metadata.system changes need ?system=true; without it they are ignored (dtlpy echoes them)",
    )
    yield Case(
        "system-item-patch-null",
        "metadata.system diffs",
        json_body("PATCH", ITEM, {"metadata": {"system": None}}),
        status=(200,),
        accepted="item_system_unchanged",
        rule="metadata.system is never deleted wholesale",
    )
    yield Case(
        "system-item-patch-flag-annotator",
        "metadata.system diffs",
        json_body("PATCH", ITEM, {"metadata": {"system": forged}}, query="system=true"),
        status=(403,),
        role="annotator",
        rule="an annotator may not update items, let alone their system metadata",
    )
    for name, metadata in {
        "string": "x",
        "list": [1],
        "user-string": {"user": "x"},
        "user-list": {"user": [1]},
    }.items():
        yield Case(
            f"system-item-patch-metadata-{name}",
            "metadata.system diffs",
            json_body("PATCH", ITEM, {"metadata": metadata}),
            rule="metadata and metadata.user must be objects",
        )
    yield Case(
        "system-upload-metadata-field",
        "metadata.system diffs",
        lambda: Request(
            "POST",
            UPLOAD,
            form={"path": "/sys.png", "metadata": json.dumps({"system": forged, "user": {"a": 1}})},
            files=(("sys.png", encode("PNG"), "image/png"),),
        ),
        status=(201,),
        accepted="upload_system_from_bytes",
        rule="an upload's metadata.system comes from the bytes, never from the form",
    )
    yield Case(
        "system-dataset-patch-without-flag",
        "metadata.system diffs",
        json_body("PATCH", DATASET, {"metadata": {"system": {"recipes": ["0" * 24]}}}),
        status=(200,),
        accepted="dataset_system_unchanged",
        rule="a dataset's metadata.system changes need ?system=true too",
    )
    annotation_system = {
        "status-unknown": ({"status": "hacked"}, "owner", 400),
        "status-approved-by-annotator": ({"status": "approved"}, "annotator", 403),
        "parent-unknown": ({"parentId": "f" * 24}, "owner", 400),
        "system-string": ("hacked", "owner", 400),
        "attributes-list": ({"attributes": ["x"]}, "owner", 400),
        "attribute-unknown": ({"attributes": {"__class__": 1}}, "owner", 400),
    }
    for name, (system, role, status) in annotation_system.items():
        yield Case(
            f"system-annotation-{name}",
            "metadata.system diffs",
            json_body("POST", ANNOTATIONS, [annotation("class", [], metadata={"system": system})]),
            status=(status,),
            role=role,
            rule="server-owned or role-gated annotation system fields are refused",
        )
    yield Case(
        "system-annotation-status-history-forged",
        "metadata.system diffs",
        json_body(
            "POST",
            ANNOTATIONS,
            [
                annotation(
                    "class", [], metadata={"system": {"statusHistory": [{"status": "approved", "creator": "boss"}]}}
                )
            ],
        ),
        status=(201,),
        accepted="status_history_not_stored",
        rule="statusHistory is server-owned: a client's value is dropped",
    )
    yield Case(
        "system-annotation-update-status-by-annotator",
        "metadata.system diffs",
        json_body("PUT", ANNOTATION, {"metadata": {"system": {"status": "approved"}}}, query="system=true"),
        status=(403,),
        role="annotator",
        rule="only reviewers set review statuses, even with ?system=true",
    )


def dql_cases() -> Iterator[Case]:
    fields = {
        "sql-quote-drop": "a'; DROP TABLE datasets_item;--",
        "sql-json-path-or": "metadata.x') OR 1=1",
        "sql-json-path-dquote": 'metadata.user.x") OR ("1"="1',
        "sql-comment": "name/**/OR/**/1=1",
        "django-join": "dataset__project__name",
        "django-password": "creator__password",
        "django-lookup": "name__regex",
        "django-json-lookup": "metadata.user.a__contains",
        "dunder-class": "__class__",
        "json-dunder": "metadata.__class__.__init__",
        "json-proto": "metadata.user.__proto__",
        "mongo-where": "$where",
        "mongo-expr": "$expr",
        "empty-json-key": "metadata..user",
        "json-prefix-only": "metadata",
        "json-too-deep": "metadata." + ".".join(["k"] * 40),
        "nul-in-field": "metadata.user.a\x00b",
        "unknown-column": "password",
    }
    for name, field_name in fields.items():
        for resource, path in (("items", ITEM_QUERY), ("datasets", DATASET_QUERY)):
            yield Case(
                f"dql-{resource}-field-{name}",
                "DQL injection",
                json_body("POST", path, {"filter": {field_name: "x"}}),
                # A NUL goes no further than the JSON parser, in any body.
                codes=("parse_error",) if "\x00" in field_name else ("invalid_query",),
                rule="field names resolve through a whitelist; JSON path keys are letters, digits, '_' and '-'",
            )
    others = {
        "operator-regex": {"filter": {"name": {"$regex": ".*"}}},
        "operator-where": {"filter": {"name": {"$where": "sleep(10)"}}},
        "operator-function": {"filter": {"name": {"$function": {"body": "x"}}}},
        "operator-unknown-logical": {"filter": {"$nor": [{"name": "a"}]}},
        "operator-as-value-key": {"filter": {"name": {"$eq": "a", "$bogus": 1}}},
        "and-not-a-list": {"filter": {"$and": {"name": "a"}}},
        "top-level-unknown-key": {"filter": {}, "$where": "1"},
        "sort-injection": {"filter": {}, "sort": {"name; DROP TABLE x": "ascending"}},
        "sort-direction": {"filter": {}, "sort": {"name": "DESC; DROP"}},
        "sort-django-path": {"filter": {}, "sort": {"dataset__project__name": "ascending"}},
        "page-negative": {"filter": {}, "page": -1},
        "page-size-huge": {"filter": {}, "pageSize": 10**9},
        "page-size-string": {"filter": {}, "pageSize": "10; DROP"},
        "in-too-many": {"filter": {"name": {"$in": [f"n{i}" for i in range(10_001)]}}},
        "glob-too-many-wildcards": {"filter": {"name": "*a" * 40}},
        "gt-object": {"filter": {"name": {"$gt": {"$ne": None}}}},
        "update-system-without-space": {"filter": {}, "update": {"metadata": {"system": {"width": 1}}}},
        "update-column": {"filter": {}, "update": {"filename": "/x.png"}},
        "update-dunder-key": {"filter": {}, "update": {"metadata": {"user": {"a\x00": 1}}}},
        "body-is-list": [{"filter": {}}],
        "filter-is-string": {"filter": "1=1"},
        "resource-unknown": {"resource": "users", "filter": {}},
    }
    for name, body in others.items():
        yield Case(
            f"dql-items-{name}",
            "DQL injection",
            json_body("POST", ITEM_QUERY, body),
            codes=("parse_error",) if name == "update-dunder-key" else ("invalid_query", "bad_request"),
            rule="unknown operators, keys and out-of-range paging are refused, naming the problem",
        )
    yield Case(
        "dql-annotations-field-join",
        "DQL injection",
        json_body("POST", ITEM_QUERY, {"resource": "annotations", "filter": {"item__dataset__project__name": "x"}}),
        codes=("invalid_query",),
        rule="annotation queries resolve fields through their own whitelist",
    )
    yield Case(
        "dql-items-value-nan",
        "DQL injection",
        json_text("POST", ITEM_QUERY, '{"filter": {"metadata.user.a": {"$gt": NaN}}}'),
        codes=("parse_error",),
        rule="NaN is not JSON",
    )
    yield Case(
        "dql-items-value-1e309",
        "DQL injection",
        json_text("POST", ITEM_QUERY, '{"filter": {"metadata.user.a": {"$gt": 1e309}}}'),
        codes=("invalid_query",),
        rule="infinite values are refused",
    )


GENERATORS = (
    image_cases,
    archive_cases,
    json_cases,
    coordinate_cases,
    polygon_cases,
    mask_cases,
    filename_cases,
    metadata_cases,
    dql_cases,
)


def all_cases() -> list[Case]:
    cases = [case for generator in GENERATORS for case in generator()]
    names = [case.name for case in cases]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"duplicate case names: {sorted(duplicates)}")
    return cases


def write(out_dir: Path, cases: list[Case] | None = None) -> int:
    """Each case as <out-dir>/<category>/<name>/: request.json (method, path, query, form,
    expectation), body.json or the uploaded file. Returns the number of cases."""
    cases = all_cases() if cases is None else cases
    for case in cases:
        folder = out_dir / case.category.replace(" ", "-").replace(".", "") / case.name
        folder.mkdir(parents=True, exist_ok=True)
        request = case.request()
        manifest = {
            "name": case.name,
            "category": case.category,
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "form": {
                key: value if len(value) < 2000 else f"<{len(value)} characters>" for key, value in request.form.items()
            },
            "files": [{"name": name, "contentType": mime, "bytes": len(data)} for name, data, mime in request.files],
            "expect": {
                "status": list(case.status),
                "codes": list(case.codes),
                "accepted": case.accepted,
                "role": case.role,
            },
            "rule": case.rule,
        }
        (folder / "request.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        if request.json_text is not None:
            (folder / "body.json").write_text(request.json_text)
        for index, (_name, data, _mime) in enumerate(request.files):
            (folder / f"file{index}.bin").write_bytes(data)
    return len(cases)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.corpus.generate <out-dir>", file=sys.stderr)
        return 2
    count = write(Path(argv[0]))
    print(f"{count} cases written to {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
