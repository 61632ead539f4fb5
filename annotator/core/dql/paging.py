"""Pages of query results, shaped as Dataloop's paged responses."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.db.models import QuerySet

from annotator.core.dql.compiler import CompiledQuery

T = TypeVar("T")
Counter = Callable[[QuerySet], int]
Fetcher = Callable[[QuerySet], list]
COUNT_CACHE_SECONDS = 3600


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int
    page: int
    page_size: int
    has_next: bool

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total_count / self.page_size)

    def to_json(self, serialize: Callable[[T], Any]) -> dict[str, Any]:
        """`{"items", "totalItemsCount", "totalPagesCount", "hasNextPage"}`, as the SDK reads it."""
        return {
            "items": [serialize(item) for item in self.items],
            "totalItemsCount": self.total_count,
            "totalPagesCount": self.total_pages,
            "hasNextPage": self.has_next,
        }


def page_of(
    queryset: QuerySet, *, page: int, page_size: int, count: Counter | None = None, fetch: Fetcher = list
) -> Page:
    """One page of an ordered queryset, in at most two queries: COUNT(*) and one LIMIT/OFFSET.

    The page query asks for one row more than it returns, so `has_next` comes from the same
    snapshot as the rows: the SDK keeps paging while `hasNextPage` is true, and a flag worked
    out from the earlier count could end its loop early or late if rows change in between.
    `count` replaces `queryset.count()`, e.g. with a cached_count(); `fetch` reads the page's rows.
    """
    total = count(queryset) if count is not None else queryset.count()
    offset = page * page_size
    if offset >= total:
        return Page(items=[], total_count=total, page=page, page_size=page_size, has_next=False)
    rows = fetch(queryset[offset : offset + page_size + 1])
    return Page(
        items=rows[:page_size], total_count=total, page=page, page_size=page_size, has_next=len(rows) > page_size
    )


def paginate(
    queryset: QuerySet, compiled: CompiledQuery, *, count: Counter | None = None, fetch: Fetcher = list
) -> Page:
    """The page `compiled` asks for, from a queryset that compiled.apply() has filtered and ordered."""
    return page_of(queryset, page=compiled.page, page_size=compiled.page_size, count=count, fetch=fetch)


def cached_count(version: str, *, timeout: int = COUNT_CACHE_SECONDS) -> Counter:
    """A counter that remembers `queryset.count()` in the cache, keyed by `version` and the SQL.

    The count stays exact only if `version` changes, in the same transaction, with every write
    to the rows the queryset could count (e.g. a dataset id and its `items_version`). Read the
    version before counting: a count taken later than the version it is filed under can only
    be newer, and a newer version is never filed under an older one.
    """

    def count(queryset: QuerySet) -> int:
        sql, params = queryset.order_by().query.sql_with_params()
        digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
        key = f"dql-count:{version}:{digest}"
        total = cache.get(key)
        if total is None:
            total = queryset.count()
            cache.set(key, total, timeout)
        return total

    return count
