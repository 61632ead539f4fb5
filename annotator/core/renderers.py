"""API responses encoded with orjson.

DRF's renderer runs the standard library's encoder, which took about an eighth of the
server's CPU when listing annotations (a 2,000-annotation item is a 1.6 MB body). orjson
writes the same compact UTF-8 JSON several times faster. Values orjson does not know
(Decimal, lazy translations, and datetimes, which DRF ends with a Z) go through DRF's
encoder, so every body reads as before; an integer beyond 64 bits, or
an indented response asked for in the Accept header, is rendered by DRF's renderer itself.
JsonText (JSON read from the database and passed on) goes in as its text with orjson, and
as what it parses to through DRF's renderer.
"""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

from annotator.core.json import JsonText


class _Encoder(JSONEncoder):
    """DRF's encoder, which also writes JsonText (JSON read from the database and passed on):
    orjson writes its text in place; DRF's renderer writes what it parses to."""

    def default(self, obj):
        if isinstance(obj, JsonText):
            return orjson.loads(obj.text)
        return super().default(obj)


_drf_encoder = _Encoder()


def _orjson_default(obj):
    if isinstance(obj, JsonText):
        return orjson.Fragment(obj.text)
    return _drf_encoder.default(obj)


_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
# DRF escapes these two so that a body stays a strict JavaScript subset; so do we.
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = _Encoder

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_orjson_default, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        if b"\xe2\x80" in body:
            body = body.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return body
