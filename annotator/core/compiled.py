"""Hot lookups whose SQL is compiled once per process, then run with new values.

Django compiles a queryset to SQL on every run. For the lookups nearly every request makes
(an API key with its user; an item with its dataset, project and people; a task with its
project) the compiling cost more CPU than PostgreSQL spent running the prepared statement:
~1 ms for the item's eight-table join against ~0.1 ms. A CompiledLookup builds its queryset
once with stand-in values, keeps the SQL with the places of those values among its
parameters, and on each call runs that SQL with the real values through Django's own
row-to-model code (the queryset's ModelIterable and the compiler's converters), so the objects
are the ones the queryset would have given: its fields, select_related caches and all.

The build function must give every value to the queryset unchanged (a filter on a text
column), and its shape must not depend on the values. Compiling checks the first: each
stand-in must appear once among the compiled parameters.

A CompiledInsert is the write beside them: one model row inserted unless a unique
constraint already holds its values, with the SQL built once per database.
"""

from __future__ import annotations

import copy
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    alias: str  # the database the queryset reads from
    locking: bool  # FOR UPDATE in its SQL (as Django, none where the backend has no row locks)
    compiler: SQLCompiler  # set up by as_sql(): its select, klass_info and column map
    sql: str
    params: tuple[Any, ...]  # the constant parameters, with None where a value goes
    slots: tuple[tuple[int, int], ...]  # (parameter index, value index)


class _ReplayQuery:
    """Stands in for a queryset's query: ModelIterable only asks it for its compiler."""

    __slots__ = ("compiler",)

    def __init__(self, compiler: SQLCompiler):
        self.compiler = compiler

    def get_compiler(self, *_args, **_kwargs) -> SQLCompiler:
        return self.compiler


class CompiledLookup:
    """`CompiledLookup(lambda item_id: Item.objects.select_related(...).filter(pk=item_id)[:1])`;
    `.first(item_id)` is the model or None, `.rows(...)` every model.

    The queryset is built once, on the first call; each call after that runs its SQL and
    builds the models, nothing else (building the queryset, its filters and joins, cost as
    much again as compiling it)."""

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._compiled: _Compiled | None = None
        # Each thread's connection gets its own converters: they are bound to its operations.
        self._converters: weakref.WeakKeyDictionary[Any, dict] = weakref.WeakKeyDictionary()

    def rows(self, *values: str) -> list[Model]:
        if not all(isinstance(value, str) for value in values):
            raise TypeError("A compiled lookup takes text values (ids) only.")
        compiled = self._compiled or self._compile(len(values))
        connection = connections[compiled.alias]
        if compiled.locking and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(compiled.params)
        for param_index, value_index in compiled.slots:
            params[param_index] = values[value_index]
        converters = self._converters.get(connection)
        if converters is None:
            compiler = copy.copy(compiled.compiler)
            compiler.connection = connection
            converters = self._converters[connection] = compiler.get_converters(
                [column[0] for column in compiler.select[0 : compiler.col_count]]
            )
        replay = copy.copy(compiled.compiler)
        replay.connection = connection
        replay.as_sql = lambda *_args, **_kwargs: (compiled.sql, tuple(params))
        replay.get_converters = lambda _expressions: converters
        # ModelIterable asks the query for a compiler, and gets the one that runs the kept SQL.
        return list(QuerySet(model=compiled.model, query=_ReplayQuery(replay), using=compiled.alias))

    def first(self, *values: str) -> Model | None:
        rows = self.rows(*values)
        return rows[0] if rows else None

    def _compile(self, count: int) -> _Compiled:
        stand_ins = [f"compiled-lookup-{secrets.token_hex(8)}-{n}" for n in range(count)]
        queryset = self._build(*stand_ins)
        alias = queryset.db
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots = []
        for value_index, stand_in in enumerate(stand_ins):
            places = [n for n, param in enumerate(params) if isinstance(param, str) and param == stand_in]
            if len(places) != 1:
                raise ValueError(
                    f"A compiled lookup's value {value_index} reached its SQL {len(places)} times, not once."
                )
            slots.append((places[0], value_index))
        value_places = {place for place, _value_index in slots}
        constants = tuple(None if n in value_places else param for n, param in enumerate(params))
        self._compiled = _Compiled(
            model=queryset.model,
            alias=alias,
            locking=bool(queryset.query.select_for_update) and connections[alias].features.has_select_for_update,
            compiler=compiler,
            sql=sql,
            params=constants,
            slots=tuple(slots),
        )
        return self._compiled


class CompiledInsert:
    """`CompiledInsert(Blob).insert(blob)`: INSERT the row, or do nothing where a unique
    constraint already holds its values (ON CONFLICT DO NOTHING, on PostgreSQL and SQLite);
    True when the row was written.

    Against a concurrent writer of the same key this is `create()` in `atomic()`, which
    costs three round trips (a savepoint, the insert, its release) where this costs one, and
    a conflict leaves the transaction usable, as the savepoint's rollback did. Any other
    error (a missing foreign key, a null) still raises. The instance is saved as `create()`
    saves it: the fields' pre_save (auto_now_add) runs, and it is no longer `adding`. Its
    primary key must be set already (entity ids and hashes are; an autoincrement is not)."""

    def __init__(self, model: type[Model]):
        self._model = model
        self._fields = [field for field in model._meta.local_concrete_fields if not field.generated]
        self._sql: dict[str, str] = {}  # per database alias

    def insert(self, instance: Model) -> bool:
        if instance.pk is None:
            raise ValueError("A compiled insert needs the primary key set before the insert.")
        alias = router.db_for_write(self._model, instance=instance)
        connection = connections[alias]
        sql = self._sql.get(alias) or self._compile(alias)
        params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in self._fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = cursor.rowcount == 1
        if written:
            instance._state.adding = False
            instance._state.db = alias
        return written

    def _compile(self, alias: str) -> str:
        quote = connections[alias].ops.quote_name
        columns = ", ".join(quote(field.column) for field in self._fields)
        places = ", ".join(["%s"] * len(self._fields))
        self._sql[alias] = (
            f"INSERT INTO {quote(self._model._meta.db_table)} ({columns}) VALUES ({places}) ON CONFLICT DO NOTHING"
        )
        return self._sql[alias]
