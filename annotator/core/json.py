"""Helpers for Dataloop-shaped entity JSON."""

import json
from datetime import UTC, datetime
from typing import Any

import orjson

_last_iso: tuple[datetime | None, str | None] = (None, None)


def iso(value: datetime | None) -> str | None:
    """Timestamps as Dataloop writes them: ISO 8601 UTC with milliseconds and a Z.

    The last answer is kept for the same object: a save's annotations share one time, which
    its answer, its event and its history rows format ~30 times. (The kept tuple holds the
    object, so no other object can take its identity; a thread may replace it at any time.)"""
    global _last_iso
    if value is None:
        return None
    last = _last_iso
    if last[0] is value:
        return last[1]
    text = value.astimezone(UTC).isoformat()  # 2026-11-26T12:57:24[.123456]+00:00, fast in C
    text = f"{text[:19]}{text[19:23] if value.microsecond else '.000'}Z"
    _last_iso = (value, text)
    return text


def json_text(value: Any) -> str:
    """JSON text of a parsed value, by orjson (several times faster than the standard library);
    what orjson refuses (integers beyond 64 bits) the standard library writes."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)
