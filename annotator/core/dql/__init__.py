"""DQL, Dataloop's JSON query language, compiled to Django querysets.

    compiled = compile_query(request.data, ITEMS)        # BadRequest on anything invalid
    queryset = compiled.apply(Item.objects.filter(dataset=dataset))
    page = paginate(queryset, compiled)
    return Response(page.to_json(item_json))

User input never reaches SQL as text: fields resolve through a whitelist (resources.py),
JSON paths are checked key by key and built with KeyTransform, and every value is a query
parameter. Semantics are documented in filters.py (operators) and globs.py (wildcards).
"""

from annotator.core.dql.compiler import CompiledQuery, compile_query
from annotator.core.dql.filters import DEFAULT_LIMITS, OPERATORS, Limits
from annotator.core.dql.globs import Glob
from annotator.core.dql.paging import Page, cached_count, page_of, paginate
from annotator.core.dql.resources import (
    ANNOTATIONS,
    DATASETS,
    ITEMS,
    RESOURCES,
    ColumnSpec,
    FieldKind,
    JoinSpec,
    ResourceSpec,
    virtual_field,
)

__all__ = [
    "ANNOTATIONS",
    "DATASETS",
    "DEFAULT_LIMITS",
    "ITEMS",
    "OPERATORS",
    "RESOURCES",
    "ColumnSpec",
    "CompiledQuery",
    "FieldKind",
    "Glob",
    "JoinSpec",
    "Limits",
    "Page",
    "ResourceSpec",
    "cached_count",
    "compile_query",
    "page_of",
    "paginate",
    "virtual_field",
]
