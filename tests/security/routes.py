"""The URL conf walked route by route, and a project with one of everything: shared by the route
matrix (strangers, anonymous callers) and the role matrix (each role of a member)."""

import io
import re

from django.urls import URLPattern, URLResolver, get_resolver

from annotator.accounts.models import ApiToken, Membership, Project
from annotator.accounts.services import api_key_create
from annotator.annotations.models import Annotation
from annotator.annotations.services import annotations_create
from annotator.core.commands import command_execute
from annotator.core.models import Command
from annotator.datasets import services as datasets
from annotator.datasets.models import Dataset, Item
from annotator.ontologies.models import Ontology, Recipe
from annotator.tasks.models import Assignment, Task, TaskItem
from annotator.tasks.services import task_create_start
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.images import png

METHODS = ("get", "post", "put", "patch", "delete")


def routes() -> list[tuple[str, object]]:
    """(route, callback) for every URL pattern but Django's admin (staff only, tested apart)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    return [
        (route, callback) for route, callback in walk(get_resolver().url_patterns) if not route.startswith("admin/")
    ]


def methods_of(callback) -> list[str]:
    view = getattr(callback, "view_class", None)
    if view is None:  # a function view: try every method, it must refuse the ones it lacks
        return list(METHODS)
    return [m for m in METHODS if hasattr(view, m)]


def make_world(caller_role: str | None = None) -> dict:
    """A project with one of everything, its owner's API key, and a stranger with a project of their own;
    with `caller_role`, also a caller who is a member with that role (under "caller")."""
    project = ProjectFactory()
    owner = project.creator
    annotator = MembershipFactory(project=project, role="annotator").user
    dataset = datasets.dataset_create(user=owner, project_id=project.id, name="Secret", labels=[{"tag": "cat"}])
    item, _ = datasets.item_upload(user=owner, dataset_id=dataset.id, path="/secret.png", fileobj=io.BytesIO(png()))
    # The thumbnail job runs only where a worker does (not in every test session): make it here,
    # so the thumbnail route answers the same whatever ran before.
    datasets.blob_thumbnails_make(sha256s=[item.blob_id])
    (annotation,), _rules = annotations_create(
        user=owner,
        item_id=item.id,
        annotations=[{"type": "box", "label": "cat", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}],
    )
    command = task_create_start(
        user=owner,
        body={
            "name": "Secret task",
            "datasetId": dataset.id,
            "workload": [{"assigneeId": annotator.email, "load": 100}],
        },
    )
    command_execute(command_id=command.id)
    task = Task.objects.get(pk=command.spec["createdTaskId"])
    key, _raw = api_key_create(user=owner, name="owner key")
    stranger = UserFactory()
    MembershipFactory(project=ProjectFactory(creator=stranger), user=UserFactory())  # a project of their own
    Membership.objects.filter(user=stranger).update(role="owner")
    ids = {
        "project_id": project.id,
        "name": project.name,
        "email": annotator.email,
        "dataset_id": dataset.id,
        "item_id": item.id,
        "annotation_id": annotation.id,
        "ontology_id": Ontology.objects.get(project=project).id,
        "recipe_id": Recipe.objects.get(project=project).id,
        "task_id": task.id,
        "assignment_id": Assignment.objects.get(task=task).id,
        "command_id": command.id,
        "key_id": key.id,
    }
    world = {"ids": ids, "stranger": stranger}
    if caller_role is not None:
        world["caller"] = MembershipFactory(project=project, role=caller_role).user
        ids["spare_email"] = UserFactory().email  # someone not yet a member, to add
    return world


def fill(route: str, ids: dict[str, str]) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids[m.group(1)], route)


def snapshot() -> dict[str, int]:
    """Row counts and versions that any write by a stranger would move."""
    return {
        "projects": Project.objects.count(),
        "memberships": Membership.objects.count(),
        "datasets": Dataset.objects.count(),
        "items": Item.objects.count(),
        "annotations": Annotation.objects.count(),
        "annotation_versions": sum(Annotation.objects.values_list("version", flat=True)),
        "tasks": Task.objects.count(),
        "task_items": TaskItem.objects.count(),
        "assignments": Assignment.objects.count(),
        "commands": Command.objects.count(),
        "ontologies": Ontology.objects.count(),
        "recipes": Recipe.objects.count(),
        "live_keys": ApiToken.objects.filter(revoked_at__isnull=True).count(),
    }
