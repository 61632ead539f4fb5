"""Attributes v2: definitions on an ontology, and checking values against them.

A definition, as stored and served (in `metadata.attributes`):

    {"key": "color", "title": "Color", "type": "options", "scope": ["car"], "optional": true,
     "values": ["red", "blue"], "multi": false}        # options only: values, multi
    {"key": "speed", ..., "type": "range", "range": {"min": 0, "max": 100, "step": 5}}

`scope` lists full dotted tags, or is ["*"] for every label; a scope names labels exactly
(a parent's attribute does not pass to its children). `optional: false` makes the
attribute mandatory. dtlpy's checkbox / radio_button types are accepted as options with
multi true / false.

`attribute_value_errors` is pure, for annotation validation.
"""

import math
import re
from collections.abc import Collection
from typing import Any

from annotator.core.errors import BadRequest

OPTIONS = "options"
BOOLEAN = "boolean"
FREE_TEXT = "freeText"
RANGE = "range"
TYPES = (OPTIONS, BOOLEAN, FREE_TEXT, RANGE)
TYPE_ALIASES = {"checkbox": (OPTIONS, True), "radio_button": (OPTIONS, False)}
ALL_LABELS = "*"
KEY_MAX = 100
TITLE_MAX = 200
VALUE_MAX = 200
VALUES_MAX = 1000
ATTRIBUTES_MAX = 500
FREE_TEXT_MAX = 10_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _bad(key: str, field: str, message: str) -> BadRequest:
    return BadRequest(f"Attribute {key!r}: {message}", details={"attribute": key, "field": field})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def clean_attribute(
    raw: Any, *, where: str, known_tags: Collection[str], dropped_tags: Collection[str] = ()
) -> dict[str, Any]:
    """A validated definition. Scope tags must be in `known_tags`; tags in `dropped_tags`
    (labels this very request removes) are pruned from the scope instead."""
    if not isinstance(raw, dict):
        raise BadRequest(f"{where}: an attribute must be an object with key, title and type.", details={"field": where})
    key = raw.get("key")
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX or _CONTROL.search(key):
        raise BadRequest(
            f"{where}: an attribute needs a key of 1 to {KEY_MAX} characters.", details={"field": f"{where}.key"}
        )
    key = key.strip()
    title = raw.get("title")
    if title is None or title == "":
        title = key
    if not isinstance(title, str) or len(title) > TITLE_MAX:
        raise _bad(key, "title", f"title is text of at most {TITLE_MAX} characters.")

    kind, multi = raw.get("type"), raw.get("multi")
    if kind in TYPE_ALIASES:
        kind, implied_multi = TYPE_ALIASES[kind]
        multi = implied_multi if multi is None else multi
    if kind not in TYPES:
        raise _bad(key, "type", f"type must be one of {', '.join(TYPES)}; got {kind!r}.")
    if multi is not None and not isinstance(multi, bool):
        raise _bad(key, "multi", "multi must be true or false.")
    if multi and kind != OPTIONS:
        raise _bad(key, "multi", "only an options attribute can take several values.")

    optional = raw.get("optional", True)
    if optional is None:
        optional = True
    if not isinstance(optional, bool):
        raise _bad(key, "optional", "optional must be true or false.")

    scope = raw.get("scope")
    if scope is None:
        scope = [ALL_LABELS]
    if not isinstance(scope, list) or not all(isinstance(tag, str) for tag in scope):
        raise _bad(key, "scope", 'scope must be a list of label tags, or ["*"].')
    if ALL_LABELS in scope:
        if len(scope) > 1:
            raise _bad(key, "scope", '"*" already means every label; give it alone.')
    else:
        unknown = [tag for tag in scope if tag not in known_tags and tag not in dropped_tags]
        if unknown:
            raise _bad(key, "scope", f"scope names labels that do not exist: {', '.join(map(repr, unknown))}.")
        scope = list(dict.fromkeys(tag for tag in scope if tag in known_tags))

    out: dict[str, Any] = {"key": key, "title": title, "type": kind, "scope": scope, "optional": optional}
    values, span = raw.get("values"), raw.get("range")
    if kind == OPTIONS:
        if (
            not isinstance(values, list)
            or not values
            or len(values) > VALUES_MAX
            or not all(isinstance(v, str) and v.strip() and len(v) <= VALUE_MAX for v in values)
        ):
            raise _bad(key, "values", f"an options attribute needs 1 to {VALUES_MAX} values, each non-empty text.")
        if len(set(values)) != len(values):
            raise _bad(key, "values", "values must not repeat.")
        out["values"] = list(values)
        out["multi"] = bool(multi)
    elif values:
        raise _bad(key, "values", f"only an options attribute has values, not a {kind} one.")
    if kind == RANGE:
        if not isinstance(span, dict):
            raise _bad(key, "range", "a range attribute needs range: {min, max, step}.")
        low, high, step = span.get("min"), span.get("max"), span.get("step", 1)
        if not (_is_number(low) and _is_number(high) and _is_number(step)):
            raise _bad(key, "range", "range min, max and step must be numbers.")
        if low >= high:
            raise _bad(key, "range", f"range min ({low}) must be less than max ({high}).")
        if step <= 0:
            raise _bad(key, "range", f"range step must be greater than 0; got {step}.")
        if step > high - low:
            raise _bad(key, "range", f"range step ({step}) is larger than the range itself.")
        out["range"] = {"min": low, "max": high, "step": step}
    elif span is not None:
        raise _bad(key, "range", f"only a range attribute has a range, not a {kind} one.")
    return out


def clean_attributes(
    items: Any, *, field: str, known_tags: Collection[str], dropped_tags: Collection[str] = ()
) -> list[dict[str, Any]]:
    """A whole list of definitions; keys must be unique."""
    if not isinstance(items, list):
        raise BadRequest(f"{field} must be a list of attribute definitions.", details={"field": field})
    if len(items) > ATTRIBUTES_MAX:
        raise BadRequest(f"An ontology has at most {ATTRIBUTES_MAX} attributes.", details={"field": field})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        attribute = clean_attribute(raw, where=f"{field}[{index}]", known_tags=known_tags, dropped_tags=dropped_tags)
        if attribute["key"] in seen:
            raise _bad(attribute["key"], "key", "the key is given twice.")
        seen.add(attribute["key"])
        cleaned.append(attribute)
    return cleaned


def prune_scopes(attributes: list[dict[str, Any]], removed_tags: Collection[str]) -> list[dict[str, Any]]:
    """Definitions without removed labels in their scopes (an emptied scope stays empty)."""
    if not removed_tags:
        return attributes
    return [
        {**attribute, "scope": [tag for tag in attribute["scope"] if tag not in removed_tags]}
        if attribute["scope"] != [ALL_LABELS]
        else attribute
        for attribute in attributes
    ]


def attribute_applies_to(attribute_def: dict[str, Any], dotted_tag: str) -> bool:
    scope = attribute_def.get("scope") or []
    return ALL_LABELS in scope or dotted_tag in scope


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def attribute_value_errors(attribute_def: dict[str, Any], value: Any) -> list[str]:
    """What is wrong with `value` for this attribute; [] when it is fine.

    No value (None, "" or []) is fine for an optional attribute and an error for a
    mandatory one. Messages name the attribute by key.
    """
    key = attribute_def.get("key", "?")
    kind = attribute_def.get("type")
    if _is_empty(value):
        return [] if attribute_def.get("optional", True) else [f"Attribute {key!r} is mandatory."]
    if kind == OPTIONS:
        allowed = attribute_def.get("values") or []
        if attribute_def.get("multi"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return [f"Attribute {key!r} takes a list of options."]
            errors = [f"Attribute {key!r}: {v!r} is not one of {allowed}." for v in value if v not in allowed]
            if len(set(value)) != len(value):
                errors.append(f"Attribute {key!r}: an option is chosen twice.")
            return errors
        if not isinstance(value, str):
            return [f"Attribute {key!r} takes one option (text), not {type(value).__name__}."]
        return [] if value in allowed else [f"Attribute {key!r}: {value!r} is not one of {allowed}."]
    if kind == BOOLEAN:
        return [] if isinstance(value, bool) else [f"Attribute {key!r} takes true or false."]
    if kind == FREE_TEXT:
        if not isinstance(value, str):
            return [f"Attribute {key!r} takes text."]
        return [] if len(value) <= FREE_TEXT_MAX else [f"Attribute {key!r}: text longer than {FREE_TEXT_MAX}."]
    if kind == RANGE:
        if not _is_number(value):
            return [f"Attribute {key!r} takes a number."]
        span = attribute_def.get("range") or {}
        low, high, step = span.get("min"), span.get("max"), span.get("step") or 0
        if (low is not None and value < low) or (high is not None and value > high):
            return [f"Attribute {key!r}: {value} is outside {low}..{high}."]
        if step and low is not None:
            steps = (value - low) / step
            if abs(steps - round(steps)) > 1e-9 * max(1.0, abs(steps)):
                return [f"Attribute {key!r}: {value} is not on a step of {step} from {low}."]
        return []
    return [f"Attribute {key!r} has an unknown type {kind!r}."]
