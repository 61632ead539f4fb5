"""Helpers for Dataloop-shaped entity JSON."""

import json
from datetime import UTC, datetime
from typing import Any

import orjson

# Answers kept by instant: a save's annotations share one time, which its answer, its event and
# its history rows format ~30 times, and a list's rows share the times of the saves that made
# them (a 2,000-annotation item saved in a few batches has a few). Cleared when full.
_ISO_KEPT: dict[datetime, str] = {}
_ISO_KEPT_MAX = 4096


def iso(value: datetime | None) -> str | None:
    """Timestamps as Dataloop writes them: ISO 8601 UTC with milliseconds and a Z."""
    if value is None:
        return None
    text = _ISO_KEPT.get(value)
    if text is None:
        text = value.astimezone(UTC).isoformat()  # 2026-11-26T12:57:24[.123456]+00:00, fast in C
        text = f"{text[:19]}{text[19:23] if value.microsecond else '.000'}Z"
        if len(_ISO_KEPT) >= _ISO_KEPT_MAX:
            _ISO_KEPT.clear()
        _ISO_KEPT[value] = text
    return text


class JsonText:
    """JSON text read from the database, to go into a response as it is (the API's renderer
    writes it in place) instead of being parsed and written again."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonText) and other.text == self.text

    __hash__ = None  # as the lists and objects it stands for


def json_text(value: Any) -> str:
    """JSON text of a parsed value, by orjson (several times faster than the standard library);
    what orjson refuses (integers beyond 64 bits) the standard library writes."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)
