"""Sparse JSON updates, as Dataloop's SDK sends them (`PATCH /items/{id}`, DQL `update`).

The semantics are JSON Merge Patch (RFC 7386): objects merge key by key, recursively; `null`
deletes a key; anything else (strings, numbers, lists) replaces the old value whole.
"""

import copy
from collections.abc import Mapping
from typing import Any


def deep_merge(target: Mapping[str, Any], diff: Mapping[str, Any]) -> dict[str, Any]:
    """`target` with `diff` merged in; neither argument is modified.

    The result shares no mutable value with either argument, so callers may change it freely.
    Nulls inside a new object are dropped too (they delete keys that were never there). As in
    RFC 7386, a `diff` that is not an object replaces `target` and is returned as a copy.
    """
    return _merge(target, diff)


def _merge(target: Any, diff: Any) -> Any:
    if not isinstance(diff, Mapping):
        return copy.deepcopy(diff)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in diff.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge(result.get(key), value)
    return result
