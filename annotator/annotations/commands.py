"""Bulk update and delete of annotations by DQL, run as Commands.

Each batch locks the items it touches (in id order, so two commands cannot deadlock) and goes
through the same per-item writes as the API: versions, history and counts stay right.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from annotator.accounts.models import User
from annotator.annotations import services
from annotator.annotations.models import Annotation
from annotator.annotations.selectors import annotation_compile
from annotator.annotations.validation import recipe_rules
from annotator.core.commands import CommandFailed, Progress, SilentProgress, command_handler, command_start
from annotator.core.dql import CompiledQuery
from annotator.core.errors import Forbidden
from annotator.core.models import Command
from annotator.core.permissions import role_allows
from annotator.datasets.models import Dataset, Item
from annotator.datasets.services import dataset_require

BATCH = 500
# Up to this many matches, a bulk query runs in the request (dtlpy lists right after a delete
# and expects the change); more run as a Command.
INLINE_MAX = 1000


def annotations_bulk(*, user: User, dataset: Dataset, compiled: CompiledQuery, body: dict) -> dict | Command:
    """Apply a query's `update` or `delete`: in the request when it matches few annotations
    (returns the counts), else as a Command (returned, for the caller to follow)."""
    _check_bulk_role(dataset, compiled)
    matches = compiled.filter(Annotation.objects.filter(dataset=dataset)).order_by("id")
    if not matches[INLINE_MAX : INLINE_MAX + 1].exists():
        apply = _delete if compiled.delete else _update
        done = _apply(user, dataset, compiled, matches, SilentProgress(), apply)
        return {"deleted": done} if compiled.delete else {"updated": done}
    return annotations_bulk_start(user=user, dataset=dataset, compiled=compiled, body=body)


def _check_bulk_role(dataset: Dataset, compiled: CompiledQuery) -> None:
    role = dataset.project.viewer_role
    if compiled.delete:
        operation = "annotation.delete"
    else:
        operation = "item.review" if "system" in (compiled.update or {}).get("metadata", {}) else "annotation.update"
    if not role_allows(role, operation):
        raise Forbidden(f"Your role ({role}) does not allow {operation}.")


def annotations_bulk_start(*, user: User, dataset: Dataset, compiled: CompiledQuery, body: dict) -> Command:
    """Check the caller may do what the query asks, then start the command."""
    _check_bulk_role(dataset, compiled)
    command_type = "annotations.bulk_delete" if compiled.delete else "annotations.bulk_update"
    query = {k: v for k, v in body.items() if k not in ("page", "pageSize", "sort")}
    return command_start(
        user=user,
        project=dataset.project,
        command_type=command_type,
        spec={"datasetId": dataset.id, "userId": user.id, "query": query},
    )


def _targets(command: Command) -> tuple[User, Dataset, CompiledQuery, Any]:
    spec = command.spec
    user = User.objects.filter(pk=spec["userId"]).first()
    if user is None or not Dataset.objects.filter(pk=spec["datasetId"]).exists():
        raise CommandFailed("The dataset no longer exists.")
    dataset = dataset_require(user=user, dataset_id=spec["datasetId"], operation="annotation.view")
    compiled = annotation_compile(spec["query"])
    return user, dataset, compiled, compiled.filter(Annotation.objects.filter(dataset=dataset)).order_by("id")


def _run(command: Command, progress: Progress, apply) -> int:
    user, dataset, compiled, queryset = _targets(command)
    _check_bulk_role(dataset, compiled)
    return _apply(user, dataset, compiled, queryset, progress, apply)


def _apply(user: User, dataset: Dataset, compiled: CompiledQuery, queryset, progress, apply) -> int:
    """Apply to every annotation of `queryset` (in id order), a batch of items at a time."""
    rules = recipe_rules(dataset)
    total = queryset.count() or 1
    done, last = 0, ""
    while True:
        rows = list(queryset.filter(pk__gt=last).values_list("pk", "item_id")[:BATCH])
        if not rows:
            return done
        last = rows[-1][0]
        by_item: dict[str, list[str]] = {}
        for annotation_id, item_id in rows:
            by_item.setdefault(item_id, []).append(annotation_id)
        with transaction.atomic():
            items = Item.objects.select_for_update().filter(pk__in=sorted(by_item)).order_by("id")
            for item in items.select_related("dataset"):
                item.dataset.project = dataset.project
                ctx = services.WriteContext(
                    user=user, item=item, rules=rules, role=dataset.project.viewer_role, system=compiled.system_space
                )
                for annotation in Annotation.objects.filter(pk__in=by_item[item.id]).select_related(
                    "creator", "updated_by"
                ):
                    apply(ctx, annotation, compiled)
                services.annotations_write_finish(ctx)
        done += len(rows)
        progress.update(100 * done / total)


def _update(ctx: services.WriteContext, annotation: Annotation, compiled: CompiledQuery) -> None:
    services.annotation_write_update(ctx, annotation, {"metadata": compiled.update["metadata"]}, annotation.id)


def _delete(ctx: services.WriteContext, annotation: Annotation, compiled: CompiledQuery) -> None:
    if annotation.id not in ctx.deleted:  # a parent's deletion may have taken it already
        services.annotation_write_delete(ctx, annotation, None, annotation.id)


@command_handler("annotations.bulk_update")
def run_bulk_update(command: Command, progress: Progress) -> dict[str, Any]:
    return {"updated": _run(command, progress, _update)}


@command_handler("annotations.bulk_delete")
def run_bulk_delete(command: Command, progress: Progress) -> dict[str, Any]:
    return {"deleted": _run(command, progress, _delete)}
