"""DQL filters to Q objects.

Semantics follow MongoDB, which Dataloop's DQL comes from:
- A plain value means `$eq`; a plain list means `$in` (the SDK sends lists that way).
- Several keys in one object, and `$and` beside `$or`, combine with AND.
- JSON values compare only with values of the same JSON type ("type bracketing"):
  `{"$gt": 3}` never matches the string "10", `true` never equals 1, on either backend.
- `$ne` and `$nin` also match rows where the path is missing; `{"$eq": null}` matches a
  JSON null or a missing path; `$exists` is true for any present value, null included.
- Strings containing `*` in `$eq`, `$ne`, `$in`, `$nin` are globs (see globs.py).
- `$match` is a case-insensitive glob; without a `*` it matches a substring.
"""

from __future__ import annotations

import datetime
import functools
import operator
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, F, Q, lookups
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotator.core.dql.errors import invalid, quoted
from annotator.core.dql.expressions import (
    JSON_BOOLEAN,
    JSON_NULL,
    JSON_NUMBER,
    JSON_STRING,
    MISSING,
    CaseSensitivePrefix,
    GlobMatch,
    JsonType,
    LateLookup,
    VendorSwitch,
    key_transform,
)
from annotator.core.dql.globs import Glob
from annotator.core.dql.resources import ColumnTarget, FieldKind, JsonTarget, ResourceSpec, Target
from annotator.core.dql.values import check_scalar, describe

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$match")
LOGICAL = ("$and", "$or")
_COMPARISONS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
_TEXT_COMPARISONS = {
    "$gt": lookups.GreaterThan,
    "$gte": lookups.GreaterThanOrEqual,
    "$lt": lookups.LessThan,
    "$lte": lookups.LessThanOrEqual,
}
_KIND_NAMES = {
    FieldKind.STRING: "a string",
    FieldKind.BOOLEAN: "a boolean",
    FieldKind.NUMBER: "a number",
    FieldKind.DATETIME: "an ISO 8601 date-time string",
}
MAX_GLOB_WILDCARDS = 32


@dataclass(frozen=True)
class Limits:
    """Bounds on a query's size, so that one request cannot build an enormous SQL statement."""

    max_depth: int = 10  # nested $and/$or levels
    max_conditions: int = 1000  # field-operator pairs, plus one per glob inside $in/$nin
    max_list_values: int = 10_000  # $in/$nin values, per list and in the whole query
    max_sort_keys: int = 10
    max_page_size: int = 1000
    max_page: int = 1_000_000
    max_update_depth: int = 32


DEFAULT_LIMITS = Limits()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_glob(value: Any) -> bool:
    return isinstance(value, str) and "*" in value


# The longest run of terms joined by one AND or OR in the SQL. SQLite parses `a OR b OR c ...`
# into a tree as deep as the run is long, and refuses trees deeper than 1000.
_MAX_RUN = 50


def _combine(parts: list[Q], connector: Any) -> Q:
    """`parts` joined with operator.and_ or operator.or_, in parenthesized groups of at most _MAX_RUN.

    Django flattens nested Q objects with the same connector, so each group is wrapped in an
    expression, which it keeps whole.
    """
    while len(parts) > _MAX_RUN:
        parts = [
            Q(ExpressionWrapper(functools.reduce(connector, parts[start : start + _MAX_RUN]), BooleanField()))
            for start in range(0, len(parts), _MAX_RUN)
        ]
    return functools.reduce(connector, parts)


def _all_of(conditions: list[Q]) -> Q:
    """AND; an empty condition (from `{}`) matches everything, so it drops out."""
    conditions = [condition for condition in conditions if condition]
    return _combine(conditions, operator.and_) if conditions else Q()


def _any_of(conditions: list[Q]) -> Q:
    """OR; no conditions at all match nothing, and an empty condition matches everything."""
    if not conditions:
        return Q(pk__in=[])
    if not all(conditions):
        # Django's `Q() | q` would drop the empty side and give `q`.
        return Q()
    return _combine(conditions, operator.or_)


class FilterCompiler:
    """Compiles one query's filters; counts what it builds against `limits` as it goes."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.conditions = 0
        self.list_values = 0
        self.virtual_used: set[str] = set()  # computed and volatile fields: other tables' rows decide

    # --- structure --------------------------------------------------------------------------
    def compile(self, node: Any, resource: ResourceSpec, *, where: str = "filter", depth: int = 0) -> Q:
        if not isinstance(node, dict):
            raise invalid(f"{where} must be an object, got {describe(node)}.", where=where)
        parts: list[Q] = []
        for key, value in node.items():
            if key in LOGICAL:
                parts.append(self._logical(key, value, resource, where=where, depth=depth))
            elif key.startswith("$"):
                raise invalid(
                    f"Unknown operator {quoted(key)} in {where}; only $and and $or may appear here.", operator=key
                )
            elif key in resource.virtual:
                self._count(1, key)
                self.virtual_used.add(key)
                parts.append(resource.virtual[key](value))
            else:
                if key in resource.volatile:
                    self.virtual_used.add(key)
                parts.append(self._field(resource.resolve(key), value))
        return _all_of(parts)

    def _logical(self, key: str, value: Any, resource: ResourceSpec, *, where: str, depth: int) -> Q:
        if depth >= self.limits.max_depth:
            raise invalid(f"{where}: $and/$or may be nested at most {self.limits.max_depth} levels deep.", where=where)
        if not isinstance(value, list):
            raise invalid(f"{where}.{key} must be a list of conditions, got {describe(value)}.", operator=key)
        if key == "$or" and not value:
            raise invalid(f"{where}.$or needs at least one condition.", operator=key)
        parts = [
            self.compile(child, resource, where=f"{where}.{key}[{index}]", depth=depth + 1)
            for index, child in enumerate(value)
        ]
        return _all_of(parts) if key == "$and" else _any_of(parts)

    def _field(self, target: Target, value: Any) -> Q:
        if isinstance(value, dict):
            if not value:
                raise invalid(f"Field {quoted(target.name)} has an empty operator object.", field=target.name)
            for key in value:
                if not key.startswith("$"):
                    raise invalid(
                        f"Field {quoted(target.name)}: objects are not valid values (key {quoted(key)});"
                        " use operators such as $eq or $in.",
                        field=target.name,
                    )
            return _all_of([self._operator(target, op, arg) for op, arg in value.items()])
        if isinstance(value, list):
            return self._operator(target, "$in", value)
        return self._operator(target, "$eq", value)

    # --- operands -------------------------------------------------------------------------
    def _operator(self, target: Target, op: str, arg: Any) -> Q:
        name = target.name
        if op not in OPERATORS:
            raise invalid(
                f"Unknown operator {quoted(op)} on field {quoted(name)}; supported: {', '.join(OPERATORS)}.",
                field=name,
                operator=op,
            )
        self._count(1, name)
        where = f"{op} on {quoted(name)}"
        if op == "$exists":
            if not isinstance(arg, bool):
                raise invalid(f"{where} expects true or false, got {describe(arg)}.", field=name, operator=op)
        elif op in ("$in", "$nin"):
            self._check_list(arg, where=where, name=name, op=op)
        elif op == "$match":
            if isinstance(arg, dict):
                raise invalid(
                    f"{where}: matching array elements against an object is not supported yet.", field=name, operator=op
                )
            if not isinstance(arg, str):
                raise invalid(f"{where} expects a string, got {describe(arg)}.", field=name, operator=op)
            check_scalar(arg, where=where)
            self._check_glob(arg, where=where, name=name, op=op)
        else:
            if isinstance(arg, list | dict):
                raise invalid(f"{where} expects a single value, got {describe(arg)}.", field=name, operator=op)
            check_scalar(arg, where=where)
            if op in _COMPARISONS and not (isinstance(arg, str) or _is_number(arg)):
                raise invalid(f"{where} expects a string or a number, got {describe(arg)}.", field=name, operator=op)
            if op in ("$eq", "$ne") and _is_glob(arg):
                self._check_glob(arg, where=where, name=name, op=op)
        if isinstance(target, ColumnTarget):
            return self._column(target, op, arg)
        return self._json(target, op, arg)

    def _check_list(self, arg: Any, *, where: str, name: str, op: str) -> None:
        if not isinstance(arg, list):
            raise invalid(f"{where} expects a list, got {describe(arg)}.", field=name, operator=op)
        limit = self.limits.max_list_values
        if len(arg) > limit:
            raise invalid(f"{where} has {len(arg)} values; at most {limit} are allowed.", field=name, operator=op)
        self.list_values += len(arg)
        if self.list_values > limit:
            raise invalid(f"The query has more than {limit} $in/$nin values in all.", field=name, operator=op)
        for index, item in enumerate(arg):
            if isinstance(item, list | dict):
                raise invalid(f"{where}[{index}] must be a single value, got {describe(item)}.", field=name)
            check_scalar(item, where=f"{where}[{index}]")
            if _is_glob(item):
                self._count(1, name)
                self._check_glob(item, where=f"{where}[{index}]", name=name, op=op)

    def _check_glob(self, pattern: str, *, where: str, name: str, op: str) -> None:
        if len(Glob.parse(pattern).wildcards) > MAX_GLOB_WILDCARDS:
            raise invalid(
                f"{where}: a pattern may have at most {MAX_GLOB_WILDCARDS} wildcards.", field=name, operator=op
            )

    def _count(self, amount: int, name: str) -> None:
        self.conditions += amount
        if self.conditions > self.limits.max_conditions:
            raise invalid(f"The query has more than {self.limits.max_conditions} conditions.", field=name)

    # --- columns --------------------------------------------------------------------------
    def _column(self, target: ColumnTarget, op: str, arg: Any) -> Q:
        column = target.column
        if op == "$exists":
            return Q(**{f"{column}__isnull": not arg})
        if op in ("$eq", "$ne"):
            condition = self._column_equals(target, arg)
            return ~condition if op == "$ne" else condition
        if op in ("$in", "$nin"):
            condition = self._column_in(target, arg)
            return ~condition if op == "$nin" else condition
        if op == "$match":
            self._require(target, op, FieldKind.STRING)
            return Q(LateLookup(F(column), GlobMatch, _match_glob(arg)))
        if target.kind is FieldKind.BOOLEAN:
            raise invalid(f"{op} does not apply to the boolean field {quoted(target.name)}.", field=target.name)
        return Q(**{f"{column}__{_COMPARISONS[op]}": self._coerce(target, op, arg)})

    def _column_in(self, target: ColumnTarget, values: list[Any]) -> Q:
        column = target.column
        literals: list[Any] = []
        conditions: list[Q] = []
        for value in values:
            if value is None:
                conditions.append(Q(**{f"{column}__isnull": True}))
            elif target.kind is FieldKind.STRING and _is_glob(value):
                conditions.append(_glob_condition(F(column), Glob.parse(value)))
            else:
                literals.append(self._coerce(target, "$in", value))
        if literals:
            conditions.append(Q(**{f"{column}__in": literals}))
        return _any_of(conditions)

    def _column_equals(self, target: ColumnTarget, value: Any) -> Q:
        column = target.column
        if value is None:
            return Q(**{f"{column}__isnull": True})
        if target.kind is FieldKind.STRING and _is_glob(value):
            return _glob_condition(F(column), Glob.parse(value))
        return Q(**{column: self._coerce(target, "$eq", value)})

    def _require(self, target: ColumnTarget, op: str, kind: FieldKind) -> None:
        if target.kind is not kind:
            raise invalid(
                f"{op} applies only to string fields; {quoted(target.name)} is {target.kind.value}.",
                field=target.name,
                operator=op,
            )

    def _coerce(self, target: ColumnTarget, op: str, value: Any) -> Any:
        kind = target.kind
        ok = (
            (kind is FieldKind.STRING and isinstance(value, str))
            or (kind is FieldKind.BOOLEAN and isinstance(value, bool))
            or (kind is FieldKind.NUMBER and _is_number(value))
            or (kind is FieldKind.DATETIME and isinstance(value, str))
        )
        if not ok:
            raise invalid(
                f"{op} on {quoted(target.name)} expects {_KIND_NAMES[kind]}, got {describe(value)}.",
                field=target.name,
                operator=op,
            )
        if kind is FieldKind.NUMBER and isinstance(value, float):
            # The number columns hold integers; Django would truncate 2.5 to 2 and so change `$lt`.
            if not value.is_integer():
                raise invalid(f"{op} on {quoted(target.name)} expects a whole number.", field=target.name, operator=op)
            return int(value)
        if kind is FieldKind.DATETIME:
            return _parse_datetime(value, target=target, op=op)
        return value

    # --- JSON paths -----------------------------------------------------------------------
    def _json(self, target: JsonTarget, op: str, arg: Any) -> Q:
        if op == "$exists":
            missing = Q(LateLookup(_json_type(target), "exact", MISSING))
            return ~missing if arg else missing
        if op in ("$eq", "$ne"):
            condition = _json_equals(target, arg)
            return ~condition if op == "$ne" else condition
        if op in ("$in", "$nin"):
            condition = _json_in(target, arg)
            return ~condition if op == "$nin" else condition
        if op == "$match":
            return _guard(target, JSON_STRING) & Q(LateLookup(_text(target), GlobMatch, _match_glob(arg)))
        if isinstance(arg, str):
            return _guard(target, JSON_STRING) & Q(LateLookup(_text(target), _TEXT_COMPARISONS[op], arg))
        return _guard(target, JSON_NUMBER) & Q(LateLookup(_value(target), _COMPARISONS[op], arg))


def _parse_datetime(value: str, *, target: ColumnTarget, op: str) -> datetime.datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise invalid(
            f"{op} on {quoted(target.name)} expects an ISO 8601 date-time, got {quoted(value)}.",
            field=target.name,
            operator=op,
        )
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _match_glob(pattern: str) -> Glob:
    return Glob.parse(pattern, ignore_case=True) if "*" in pattern else Glob.substring(pattern)


def _glob_condition(lhs: Any, glob: Glob) -> Q:
    prefix = glob.prefix
    if prefix is not None:
        return Q(LateLookup(lhs, CaseSensitivePrefix, prefix))
    return Q(LateLookup(lhs, GlobMatch, glob))


def _json_type(target: JsonTarget) -> JsonType:
    return JsonType(key_transform(target.column, target.keys))


def _value(target: JsonTarget):
    return key_transform(target.column, target.keys)


def _text(target: JsonTarget):
    return key_transform(target.column, target.keys, text=True)


def _guard(target: JsonTarget, types: tuple[str, ...]) -> Q:
    return Q(LateLookup(_json_type(target), "in", types))


def _nested(keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(keys):
        value = {key: value}
    return value


def _json_equals(target: JsonTarget, value: Any) -> Q:
    if value is None:
        return Q(LateLookup(_json_type(target), "in", (MISSING, *JSON_NULL)))
    if _is_glob(value):
        return _guard(target, JSON_STRING) & _glob_condition(_text(target), Glob.parse(value))
    if isinstance(value, str):
        portable = _guard(target, JSON_STRING) & Q(LateLookup(_text(target), lookups.Exact, value))
    elif isinstance(value, bool):
        portable = _guard(target, JSON_BOOLEAN) & Q(LateLookup(_value(target), "exact", value))
    else:
        portable = _guard(target, JSON_NUMBER) & Q(LateLookup(_value(target), "exact", value))
    if any(key.isdigit() for key in target.keys):
        # `#>` reads a digit key as an array index; containment would read it as an object key.
        return portable
    # On PostgreSQL, `metadata @> {"user": {"split": "train"}}` selects the same rows (containment
    # compares scalars by type and value) and can use a GIN index on the column.
    containment = Q(LateLookup(F(target.column), "contains", _nested(target.keys, value)))
    return Q(VendorSwitch(postgresql=containment, default=portable))


def _json_in(target: JsonTarget, values: list[Any]) -> Q:
    strings = [value for value in values if isinstance(value, str) and not _is_glob(value)]
    globs = [Glob.parse(value) for value in values if _is_glob(value)]
    numbers = [value for value in values if _is_number(value)]
    booleans = {value for value in values if isinstance(value, bool)}
    conditions: list[Q] = []
    if strings:
        conditions.append(_guard(target, JSON_STRING) & Q(LateLookup(_text(target), lookups.In, strings)))
    if globs:
        conditions.append(_guard(target, JSON_STRING) & _any_of([_glob_condition(_text(target), g) for g in globs]))
    if numbers:
        conditions.append(_guard(target, JSON_NUMBER) & Q(LateLookup(_value(target), "in", numbers)))
    if len(booleans) == 2:
        conditions.append(_guard(target, JSON_BOOLEAN))
    elif booleans:
        conditions.append(_guard(target, JSON_BOOLEAN) & Q(LateLookup(_value(target), "exact", booleans.pop())))
    if any(value is None for value in values):
        conditions.append(Q(LateLookup(_json_type(target), "in", (MISSING, *JSON_NULL))))
    return _any_of(conditions)
