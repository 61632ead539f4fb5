"""ORM building blocks for DQL conditions. None of them puts user input into SQL text:
values and JSON paths always travel as query parameters.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError
from django.db.models import BooleanField, CharField, Expression, F, Func, Lookup, Q
from django.db.models.fields.json import KeyTextTransform, KeyTransform, compile_json_path
from django.db.models.lookups import StartsWith

from annotator.core.dql.globs import Glob

# JSON types as JsonType reports them. SQLite's json_type() and PostgreSQL's jsonb_typeof()
# spell them differently; each guard lists both spellings, since a backend only ever
# produces its own.
MISSING = "missing"
JSON_NULL = ("null",)
JSON_STRING = ("text", "string")
JSON_NUMBER = ("integer", "real", "number")
JSON_BOOLEAN = ("true", "false", "boolean")


def key_transform(column: str, keys: tuple[str, ...], *, text: bool = False) -> KeyTransform:
    """The JSON value at `keys` in `column`: JSON-typed, or as text with `text=True`.

    Built from explicit transforms rather than a `metadata__a__b` lookup string, so that a key
    named like a lookup ("contains", "gt") is still just a key.
    """
    expression: Any = F(column)
    for key in keys[:-1]:
        expression = KeyTransform(key, expression)
    return (KeyTextTransform if text else KeyTransform)(keys[-1], expression)


class JsonType(Func):
    """The JSON type of the value at a path, or MISSING when the path does not exist.

    Never NULL, so conditions guarded by it are never NULL either and negate exactly.
    """

    output_field = CharField()

    def __init__(self, value: KeyTransform) -> None:
        super().__init__(value)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"DQL does not support the {connection.vendor} database backend.")

    def as_sqlite(self, compiler, connection, **extra_context):
        value = self.get_source_expressions()[0]
        column_sql, params, keys = value.preprocess_lhs(compiler, connection)
        return f"COALESCE(JSON_TYPE({column_sql}, %s), %s)", (*params, compile_json_path(keys), MISSING)

    def as_postgresql(self, compiler, connection, **extra_context):
        value_sql, params = compiler.compile(self.get_source_expressions()[0])
        return f"COALESCE(jsonb_typeof({value_sql}), %s)", (*params, MISSING)


class LateLookup(Expression):
    """A lookup that is built only when the query resolves its left-hand side.

    Django prepares a lookup's value with the field on its left (for a JSONField it encodes
    the value as JSON); built around an unresolved F() it would send the raw value instead.
    `lookup` is a lookup name, found on the resolved left-hand side, or a lookup class.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, lhs: Expression | F, lookup: str | type[Lookup], rhs: Any) -> None:
        super().__init__()
        self.lhs, self.lookup, self.rhs = lhs, lookup, rhs

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        lhs = self.lhs.resolve_expression(query, allow_joins, reuse, summarize)
        lookup_class = lhs.get_lookup(self.lookup) if isinstance(self.lookup, str) else self.lookup
        if lookup_class is None:  # a programming error, never user input
            raise TypeError(f"{lhs!r} has no lookup {self.lookup!r}")
        return lookup_class(lhs, self.rhs).resolve_expression(query, allow_joins, reuse, summarize)

    def as_sql(self, compiler, connection):
        raise TypeError("LateLookup must be resolved by a query before it is compiled.")


class VendorSwitch(Expression):
    """One condition written two ways: a PostgreSQL form that can use an index, and the
    portable form every other backend gets. Both forms must select the same rows."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, *, postgresql: Q, default: Q) -> None:
        super().__init__()
        self.postgresql, self.default = postgresql, default

    def get_source_expressions(self):
        return [self.postgresql, self.default]

    def set_source_expressions(self, exprs):
        self.postgresql, self.default = exprs

    def as_sql(self, compiler, connection):
        return compiler.compile(self.postgresql if connection.vendor == "postgresql" else self.default)


class GlobMatch(Lookup):
    """`lhs` matches a Glob, as a regex built from escaped literals (see globs.py)."""

    lookup_name = "dql_glob"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        glob: Glob = self.rhs
        lhs_sql, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs_sql} ~ %s", (*params, glob.regex(atomic=False))
        if connection.vendor == "sqlite":
            # Django registers REGEXP on SQLite connections, implemented with Python's re.
            return f"{lhs_sql} REGEXP %s", (*params, glob.regex(atomic=True))
        raise NotSupportedError(f"DQL globs do not support the {connection.vendor} database backend.")


class CaseSensitivePrefix(StartsWith):
    """`startswith`, case-sensitive on every backend.

    SQLite's LIKE ignores ASCII case, so there the prefix becomes a GLOB (case-sensitive, and
    still able to use an index); PostgreSQL keeps Django's LIKE 'prefix%'.
    """

    def as_sqlite(self, compiler, connection):
        lhs_sql, params = self.process_lhs(compiler, connection)
        escaped = "".join(f"[{ch}]" if ch in "*?[" else ch for ch in self.rhs)
        return f"{lhs_sql} GLOB %s", (*params, escaped + "*")
