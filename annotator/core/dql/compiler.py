"""A whole DQL query body to a CompiledQuery: filter, join, sort, paging and bulk operation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy

from annotator.core.dql.errors import invalid, quoted
from annotator.core.dql.expressions import key_transform
from annotator.core.dql.filters import DEFAULT_LIMITS, FilterCompiler, Limits
from annotator.core.dql.resources import ColumnTarget, ResourceSpec
from annotator.core.dql.values import check_json, describe

TOP_LEVEL_KEYS = frozenset(
    {"resource", "filter", "join", "sort", "page", "pageSize", "update", "delete", "systemSpace", "context"}
)
DIRECTIONS = {"ascending": False, "descending": True}


@dataclass(frozen=True)
class CompiledQuery:
    """A validated query, ready to apply to a queryset the caller has already scoped.

    The compiler knows nothing of permissions: the caller passes a queryset limited to what
    the user may see (e.g. one dataset's items), and checks the role for `update`/`delete`.
    """

    resource: ResourceSpec
    where: Q
    ordering: tuple[OrderBy, ...]
    page: int
    page_size: int
    update: dict[str, Any] | None
    """`{"metadata": {"user": {...}, "system": {...}}}` to deep-merge into every match, or None."""
    delete: bool
    system_space: bool
    """The body asked for `systemSpace`; only then may `update` touch `metadata.system`."""
    context: dict[str, Any] | None
    joins: frozenset[str] = frozenset()
    """The resources the filter joins, and the virtual fields it reads ("virtual:<name>"): other
    tables' rows decide the matches too, so a count of them cannot be remembered."""

    @property
    def offset(self) -> int:
        return self.page * self.page_size

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The matching rows, unordered: for counts and for bulk updates or deletes."""
        return queryset.filter(self.where)

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The matching rows in the query's order, ready for paginate()."""
        return self.filter(queryset).order_by(*self.ordering)


def compile_query(body: Any, resource: ResourceSpec, *, limits: Limits = DEFAULT_LIMITS) -> CompiledQuery:
    """Validate a DQL body sent to `resource`'s query endpoint and compile it.

    Raises BadRequest (code "invalid_query") naming the offending key, field or operator.
    """
    if not isinstance(body, dict):
        raise invalid(f"The query must be a JSON object, got {describe(body)}.")
    unknown = sorted(set(body) - TOP_LEVEL_KEYS)
    if unknown:
        names = ", ".join(quoted(key) for key in unknown)
        raise invalid(f"Unknown query key(s): {names}; allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}.", keys=unknown)
    name = body.get("resource", resource.name)
    if name != resource.name:
        raise invalid(f"This endpoint queries {quoted(resource.name)}, not {quoted(name)}.", key="resource")

    filters = FilterCompiler(limits)
    where = filters.compile(body.get("filter", {}), resource)
    joins: frozenset[str] = frozenset()
    if body.get("join") is not None:
        where &= _join(body["join"], resource, filters)
        joins = frozenset({body["join"]["on"]["resource"]})
    joins |= frozenset(f"virtual:{name}" for name in filters.virtual_used)
    system_space = _flag(body, "systemSpace")
    update = _update(body.get("update"), system_space=system_space, limits=limits)
    delete = _flag(body, "delete")
    if delete and update is not None:
        raise invalid("A query may either update or delete, not both.", key="delete")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise invalid(f"context must be an object, got {describe(context)}.", key="context")
    return CompiledQuery(
        resource=resource,
        where=where,
        ordering=_ordering(body.get("sort"), resource, limits),
        page=_integer(body, "page", default=0, low=0, high=limits.max_page),
        page_size=_integer(body, "pageSize", default=limits.max_page_size, low=1, high=limits.max_page_size),
        update=update,
        delete=delete,
        system_space=system_space,
        context=context,
        joins=joins,
    )


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(f"{key} must be true or false, got {describe(value)}.", key=key)
    return value


def _integer(body: dict[str, Any], key: str, *, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{key} must be an integer, got {describe(value)}.", key=key)
    if not low <= value <= high:
        raise invalid(f"{key} must be between {low} and {high}, got {value}.", key=key)
    return value


def _ordering(sort: Any, resource: ResourceSpec, limits: Limits) -> tuple[OrderBy, ...]:
    """Sort keys in the order given, then `id` as the tiebreaker so that pages never overlap."""
    if sort is None:
        sort = {}
    if not isinstance(sort, dict):
        raise invalid(f"sort must be an object of field: direction, got {describe(sort)}.", key="sort")
    if len(sort) > limits.max_sort_keys:
        raise invalid(f"sort may have at most {limits.max_sort_keys} keys.", key="sort")
    ordering: list[OrderBy] = []
    descending = False
    for name, direction in sort.items():
        if direction not in DIRECTIONS:
            raise invalid(
                f"Sort direction of {quoted(name)} must be 'ascending' or 'descending', got {quoted(direction)}.",
                field=name,
            )
        descending = DIRECTIONS[direction]
        target = resource.resolve(name)
        if isinstance(target, ColumnTarget):
            # No NULLS FIRST/LAST on columns: they are NOT NULL, and the clause would keep
            # PostgreSQL from reading the order straight off an index.
            ordering.append(OrderBy(F(target.column), descending=descending))
        else:
            # Missing keys sort first going up and last going down, as in MongoDB, on both backends.
            value = key_transform(target.column, target.keys)
            nulls = {"nulls_last": True} if descending else {"nulls_first": True}
            ordering.append(OrderBy(value, descending=descending, **nulls))
    if "id" not in sort:
        ordering.append(OrderBy(F(resource.columns["id"].column), descending=descending))
    return tuple(ordering)


def _update(update: Any, *, system_space: bool, limits: Limits) -> dict[str, Any] | None:
    if update is None:
        return None
    if not isinstance(update, dict):
        raise invalid(f"update must be an object, got {describe(update)}.", key="update")
    unknown = sorted(set(update) - {"metadata"})
    if unknown:
        raise invalid(f"update may change only metadata, not {', '.join(quoted(k) for k in unknown)}.", key="update")
    metadata = update.get("metadata", {})
    if not isinstance(metadata, dict):
        raise invalid(f"update.metadata must be an object, got {describe(metadata)}.", key="update")
    unknown = sorted(set(metadata) - {"user", "system"})
    if unknown:
        names = ", ".join(quoted(k) for k in unknown)
        raise invalid(f"update.metadata may hold only user and system, not {names}.", key="update")
    if "system" in metadata and not system_space:
        raise invalid("update.metadata.system requires systemSpace: true.", key="update")
    for space, diff in metadata.items():
        if not isinstance(diff, dict):
            raise invalid(f"update.metadata.{space} must be an object, got {describe(diff)}.", key="update")
        check_json(diff, where=f"update.metadata.{space}", max_depth=limits.max_update_depth)
    return update


def _join(join: Any, resource: ResourceSpec, filters: FilterCompiler) -> Q:
    if not isinstance(join, dict):
        raise invalid(f"join must be an object, got {describe(join)}.", key="join")
    unknown = sorted(set(join) - {"on", "filter"})
    if unknown:
        raise invalid(f"Unknown join key(s): {', '.join(quoted(k) for k in unknown)}.", key="join")
    on = join.get("on")
    if not isinstance(on, dict):
        raise invalid(f"join.on must be an object, got {describe(on)}.", key="join")
    target = on.get("resource")
    spec = resource.joins.get(target) if isinstance(target, str) else None
    if spec is None:
        raise invalid(f"joins on {quoted(target)} are not supported yet.", key="join")
    # The SDK spells it "forigen"; accept the dictionary spelling too.
    foreign = on.get("forigen", on.get("foreign", spec.foreign))
    local = on.get("local", spec.local)
    if (local, foreign) != (spec.local, spec.foreign):
        raise invalid(
            f"{resource.name} join {target} on local={quoted(spec.local)}, forigen={quoted(spec.foreign)} only.",
            key="join",
        )
    matches = filters.compile(join.get("filter", {}), spec.resource, where="join.filter")
    joined = spec.resource.model._default_manager.filter(matches).values(spec.joined_column)
    return Q(**{f"{spec.base_column}__in": joined})
