"""Checks on the JSON values a query carries, before any of them reaches the database."""

from __future__ import annotations

import math
from typing import Any

from annotator.core.dql.errors import invalid, quoted

# SQLite binds integers as 64-bit; a larger one would fail inside the driver.
MAX_INT = 2**63 - 1
MAX_STRING_LENGTH = 10_000


def describe(value: object) -> str:
    """A JSON type name for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_string(value: str, *, where: str) -> None:
    """Strings the databases can store: PostgreSQL refuses NUL, and no driver can encode lone surrogates."""
    if len(value) > MAX_STRING_LENGTH:
        raise invalid(f"{where}: strings may be at most {MAX_STRING_LENGTH} characters long.", where=where)
    if "\x00" in value:
        raise invalid(f"{where}: strings may not contain NUL characters.", where=where)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(f"{where}: strings must be valid Unicode.", where=where) from None


def check_scalar(value: Any, *, where: str) -> None:
    """A string, finite number, boolean or null; BadRequest otherwise."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(f"{where}: NaN and Infinity are not valid values.", where=where)
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise invalid(f"{where}: the number {value} is out of range.", where=where)
        return
    if isinstance(value, str):
        check_string(value, where=where)
        return
    raise invalid(f"{where}: expected a string, number, boolean or null, got {describe(value)}.", where=where)


def check_json(value: Any, *, where: str, max_depth: int, depth: int = 0) -> None:
    """Any JSON document (for `update`), with the scalar rules above and bounded nesting."""
    if depth > max_depth:
        raise invalid(f"{where}: nested more than {max_depth} levels deep.", where=where)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise invalid(f"{where}: object keys must be strings.", where=where)
            check_string(key, where=f"{where} key {quoted(key)}")
            check_json(item, where=f"{where}.{key}", max_depth=max_depth, depth=depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, where=f"{where}[{index}]", max_depth=max_depth, depth=depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise invalid(f"{where}: NaN and Infinity are not valid values.", where=where)
    elif isinstance(value, str):
        check_string(value, where=where)
    elif not (value is None or isinstance(value, bool | int | float)):
        raise invalid(f"{where}: {describe(value)} is not a JSON value.", where=where)
