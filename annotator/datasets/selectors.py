"""Reads of datasets and items, limited to what the user may see."""

from typing import Any

from django.db.models import QuerySet

from annotator.accounts.models import Membership, User
from annotator.core.dql import DATASETS, ITEMS, Page, cached_count, compile_query, paginate
from annotator.core.errors import BadRequest
from annotator.datasets.models import Dataset, Item
from annotator.datasets.services import dataset_require, item_require

ITEM_RELATED = ("creator", "updated_by")


def dataset_list(*, user: User, project_ids: list[str] | None = None) -> QuerySet[Dataset]:
    member_of = Membership.objects.filter(user=user).values("project_id")
    queryset = Dataset.objects.filter(project_id__in=member_of, system=False).select_related("creator")
    if project_ids:
        queryset = queryset.filter(project_id__in=project_ids)
    return queryset.order_by("id")


def dataset_get(*, user: User, dataset_id: str) -> Dataset:
    return dataset_require(user=user, dataset_id=dataset_id, operation="dataset.view")


def dataset_query(*, user: User, body: Any) -> Page:
    compiled = compile_query(_body(body), resource=DATASETS)
    if compiled.update is not None or compiled.delete:
        raise BadRequest("Datasets cannot be updated or deleted by query.")
    projects = (compiled.context or {}).get("projects")  # dtlpy scopes dataset queries to its project
    if projects is not None and (not isinstance(projects, list) or not all(isinstance(p, str) for p in projects)):
        raise BadRequest("context.projects must be a list of project ids.")
    return paginate(compiled.apply(dataset_list(user=user, project_ids=projects)), compiled)


def directory_tree(*, dataset: Dataset) -> dict[str, Any]:
    """The dataset's folders as a nested tree: {"path": "/", "name": "", "children": [...]}."""
    root: dict[str, Any] = {"path": "/", "name": "", "children": []}
    nodes = {"/": root}
    folders = (
        Item.objects.filter(dataset=dataset, type=Item.Type.DIR)
        .order_by("filename")
        .values_list("filename", "dir", "name")
    )
    for filename, parent, name in folders:
        node = {"path": filename, "name": name, "children": []}
        nodes[filename] = node
        nodes.get(parent, root)["children"].append(node)
    return root


def item_get(*, user: User, item_id: str) -> Item:
    return item_require(user=user, item_id=item_id, operation="item.view")


def item_query(*, user: User, dataset_id: str, body: Any) -> tuple[Dataset, Any]:
    """The dataset and the compiled query, checked; the caller pages or bulk-applies it."""
    dataset = dataset_require(user=user, dataset_id=dataset_id, operation="item.view")
    return dataset, compile_query(_body(body), resource=ITEMS)


def item_page(*, dataset: Dataset, compiled: Any) -> Page:
    """A page of the dataset's items. `totalItemsCount` is exact: the COUNT, the slow part on
    big datasets, is remembered per query under the dataset's `items_version`, which every
    item write bumps (services.dataset_items_changed). Joined queries also depend on the
    joined rows (and virtual and volatile fields on other tables' rows), so they are counted
    afresh."""
    queryset = Item.objects.filter(dataset=dataset).select_related(*ITEM_RELATED).prefetch_related("task_items")
    count = None if compiled.joins else cached_count(f"items:{dataset.pk}:{dataset.items_version}")
    return paginate(compiled.apply(queryset), compiled, count=count)


def _body(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("The query must be a JSON object.")
    return body
