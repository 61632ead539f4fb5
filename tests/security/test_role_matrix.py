"""Every route, every method, as a member with each role: the operations table decides.

RULES names, for each (route, method) the URL conf serves, the operation of
annotator/core/permissions.py it requires, or a special rule (upper case, below). A member can
see the project, so a denial is 403 (never 404) and changes nothing; an allowed call gets past
the permission check (no 401/403/404, no 5xx; a 400 or 415 for the empty body is fine). A pair
the URL conf serves but RULES lacks, or one RULES lists that is no longer served, fails
`test_every_route_method_has_a_rule`: a new route cannot slip through.
"""

import io
from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotator.accounts.services import api_key_create
from annotator.core.permissions import OPERATIONS, ROLES, role_allows
from tests.images import png
from tests.security.routes import fill, make_world, methods_of, routes, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC = "PUBLIC"  # no login needed
SELF = "SELF"  # any signed-in caller; answers about the caller only
OTHERS_KEY = "OTHERS_KEY"  # someone else's API key: 404 for everyone, a key is its holder's alone
OWN_ASSIGNMENT = "OWN_ASSIGNMENT"  # the caller's own assignment only: 403 for a member without one
ABSENT = "ABSENT"  # names something the fixture lacks (no instructions, no version…)

_V = "annotator view: answers only the methods it has (405 for the others)"
RULES: dict[tuple[str, str], str] = {
    ("token", "POST"): PUBLIC,
    ("healthz", "GET"): PUBLIC,
    ("api/schema/", "GET"): PUBLIC,
    ("api/docs/", "GET"): PUBLIC,
    ("login/", "GET"): PUBLIC,
    ("login/", "POST"): PUBLIC,
    ("login/", "PUT"): PUBLIC,
    ("logout/", "GET"): SELF,
    ("logout/", "POST"): SELF,
    ("api/v1/users/me", "GET"): SELF,
    ("api/v1/users/me/apikeys", "GET"): SELF,
    ("api/v1/users/me/apikeys", "POST"): SELF,
    ("api/v1/users/me/apikeys/<str:key_id>", "DELETE"): OTHERS_KEY,
    ("api/v1/users/me/assignments", "GET"): SELF,
    ("api/v1/projects", "GET"): SELF,
    ("api/v1/projects", "POST"): SELF,  # creates a project of one's own
    ("api/v1/projects/<str:name>/name", "GET"): "project.view",
    ("api/v1/projects/<str:project_id>", "GET"): "project.view",
    ("api/v1/projects/<str:project_id>", "PUT"): "project.update",
    ("api/v1/projects/<str:project_id>", "PATCH"): "project.update",
    ("api/v1/projects/<str:project_id>", "DELETE"): "project.delete",
    ("api/v1/projects/<str:project_id>/members", "GET"): "member.view",
    ("api/v1/projects/<str:project_id>/members", "POST"): "member.manage_annotators",
    ("api/v1/projects/<str:project_id>/members/<str:email>", "POST"): "member.manage_annotators",
    ("api/v1/projects/<str:project_id>/members/<str:email>", "PATCH"): "member.manage_annotators",
    ("api/v1/projects/<str:project_id>/members/<str:email>", "DELETE"): "member.manage_annotators",
    ("api/v1/commands/<str:command_id>", "GET"): "project.view",
    ("api/v1/datasets", "GET"): SELF,
    ("api/v1/datasets", "POST"): "dataset.create",
    ("api/v1/datasets/query", "POST"): SELF,
    ("api/v1/datasets/merge", "POST"): "dataset.create",
    ("api/v1/datasets/<str:dataset_id>", "GET"): "dataset.view",
    ("api/v1/datasets/<str:dataset_id>", "PUT"): "dataset.update",
    ("api/v1/datasets/<str:dataset_id>", "PATCH"): "dataset.update",
    ("api/v1/datasets/<str:dataset_id>", "DELETE"): "dataset.delete",
    ("api/v1/datasets/<str:dataset_id>/items", "POST"): "item.create",
    ("api/v1/datasets/<str:dataset_id>/manifest", "POST"): "item.create",
    ("api/v1/datasets/<str:dataset_id>/archive", "POST"): "item.create",
    ("api/v1/datasets/<str:dataset_id>/query", "POST"): "item.view",
    ("api/v1/datasets/<str:dataset_id>/clone", "POST"): "dataset.create",
    ("api/v1/datasets/<str:dataset_id>/export", "POST"): "export.create",
    ("api/v1/datasets/<str:dataset_id>/exports", "GET"): "dataset.view",
    ("api/v1/datasets/<str:dataset_id>/import", "POST"): "import.create",
    ("api/v1/items/<str:item_id>", "GET"): "item.view",
    ("api/v1/items/<str:item_id>", "PUT"): "item.update",
    ("api/v1/items/<str:item_id>", "PATCH"): "item.update",
    ("api/v1/items/<str:item_id>", "DELETE"): "item.delete",
    ("api/v1/items/<str:item_id>/stream", "GET"): "item.view",
    ("api/v1/items/<str:item_id>/thumbnail", "GET"): "item.view",
    ("api/v1/items/<str:item_id>/annotations", "GET"): "annotation.view",
    ("api/v1/items/<str:item_id>/annotations", "POST"): "annotation.create",
    ("api/v1/items/<str:item_id>/annotations/batch", "POST"): "annotation.update",
    ("api/v1/items/<str:item_id>/annotations/history", "GET"): "annotation.view",
    ("api/v1/items/<str:item_id>/annotations/completion", "GET"): "annotation.view",
    ("api/v1/ontologies", "GET"): SELF,
    ("api/v1/ontologies", "POST"): "recipe.create",
    ("api/v1/ontologies/<str:ontology_id>", "GET"): "recipe.view",
    ("api/v1/ontologies/<str:ontology_id>", "PUT"): "ontology.update",
    ("api/v1/ontologies/<str:ontology_id>", "PATCH"): "ontology.update",
    ("api/v1/ontologies/<str:ontology_id>", "DELETE"): "recipe.delete",
    ("api/v1/ontologies/<str:ontology_id>/attributes", "DELETE"): "ontology.update",
    ("api/v1/ontologies/<str:ontology_id>/labels", "PATCH"): "ontology.update",
    ("api/v1/ontologies/<str:ontology_id>/addLabels", "PATCH"): "ontology.update",
    ("api/v1/ontologies/<str:ontology_id>/attributes", "PATCH"): "ontology.update",
    ("api/v1/recipes", "GET"): SELF,
    ("api/v1/recipes", "POST"): "recipe.create",
    ("api/v1/recipes/<str:recipe_id>", "GET"): "recipe.view",
    ("api/v1/recipes/<str:recipe_id>", "PUT"): "recipe.update",
    ("api/v1/recipes/<str:recipe_id>", "PATCH"): "recipe.update",
    ("api/v1/recipes/<str:recipe_id>", "DELETE"): "recipe.delete",
    ("api/v1/recipes/<str:recipe_id>/instructions", "GET"): ABSENT,
    ("api/v1/recipes/<str:recipe_id>/instructions", "POST"): "recipe.update",
    ("api/v1/annotations/<str:annotation_id>", "GET"): "annotation.view",
    ("api/v1/annotations/<str:annotation_id>", "PUT"): "annotation.update",
    ("api/v1/annotations/<str:annotation_id>", "PATCH"): "annotation.update",
    ("api/v1/annotations/<str:annotation_id>", "DELETE"): "annotation.delete",
    ("api/v1/annotations/<str:annotation_id>/history", "GET"): "annotation.view",
    ("api/v1/annotations/<str:annotation_id>/restore", "POST"): ABSENT,
    ("api/v1/annotations/<str:annotation_id>/status", "POST"): "annotation.update",
    ("api/v1/annotations/<str:annotation_id>/messages", "POST"): "annotation.update",
    ("api/v1/annotationtasks", "POST"): ABSENT,  # the empty body names no dataset
    ("api/v1/annotationtasks/query", "POST"): SELF,
    ("api/v1/annotationtasks/<str:task_id>", "GET"): "task.view",
    ("api/v1/annotationtasks/<str:task_id>", "PUT"): "task.update",
    ("api/v1/annotationtasks/<str:task_id>", "PATCH"): "task.update",
    ("api/v1/annotationtasks/<str:task_id>", "DELETE"): "task.delete",
    ("api/v1/annotationtasks/<str:task_id>/stats", "GET"): "task.view",
    ("api/v1/annotationtasks/<str:task_id>/addToTask", "POST"): "task.update",
    ("api/v1/annotationtasks/<str:task_id>/removeFromTask", "POST"): "task.update",
    ("api/v1/annotationtasks/<str:task_id>/annotators", "POST"): "task.assign",
    ("api/v1/annotationtasks/<str:task_id>/annotators/<str:assignment_id>", "DELETE"): "task.assign",
    ("api/v1/annotationtasks/<str:task_id>/pull", "POST"): "assignment.work",
    ("api/v1/annotationtasks/<str:task_id>/next", "GET"): OWN_ASSIGNMENT,
    ("api/v1/assignments", "GET"): SELF,
    ("api/v1/assignments/items/tasks/<str:task_id>/status", "POST"): "item.status.set",
    ("api/v1/assignments/<str:assignment_id>", "GET"): "task.view",
    ("api/v1/assignments/<str:assignment_id>", "PATCH"): "task.view",  # read back: nothing is editable
    ("api/v1/assignments/<str:assignment_id>/queue", "GET"): "task.update",  # or its own annotator
    ("api/v1/assignments/<str:assignment_id>/reassign", "POST"): "assignment.reassign",
    ("api/v1/assignments/<str:assignment_id>/redistribute", "POST"): "assignment.redistribute",
    ("api/v1/assignments/<str:assignment_id>/items/<str:item_id>/status", "POST"): "item.status.set",
    # pages
    ("", "GET"): SELF,
    ("work/", "GET"): SELF,
    ("account/api-keys/", "GET"): SELF,
    ("account/api-keys/", "POST"): SELF,
    ("account/api-keys/<str:key_id>/revoke", "POST"): OTHERS_KEY,
    ("projects/<str:project_id>/", "GET"): "project.view",
    ("projects/<str:project_id>/", "POST"): "member.manage_annotators",  # adds a member
    ("projects/<str:project_id>/datasets/new", "POST"): "dataset.create",
    ("projects/<str:project_id>/tasks/new", "GET"): "task.create",
    ("projects/<str:project_id>/tasks/new", "POST"): "task.create",
    ("projects/<str:project_id>/rename", "POST"): "project.update",
    ("projects/<str:project_id>/delete", "POST"): "project.delete",
    ("projects/<str:project_id>/members/<str:email>/role", "POST"): "member.manage_annotators",
    ("projects/<str:project_id>/members/<str:email>/remove", "POST"): "member.manage_annotators",
    ("datasets/<str:dataset_id>/", "GET"): "dataset.view",
    ("studio/<str:item_id>", "GET"): "item.view",
    ("recipes/<str:recipe_id>/", "GET"): "recipe.view",
    ("tasks/<str:task_id>/", "GET"): "task.view",
}

# A minimal valid body where the empty one would be refused (400/415) before the permission check
# could show: with it, a denied role must get 403 and an allowed one gets past validation too.
BODIES: dict[tuple[str, str], Callable[[dict], tuple[dict, str]]] = {
    ("api/v1/projects/<str:project_id>", "PUT"): lambda ids: ({"name": "Renamed"}, "json"),
    ("api/v1/projects/<str:project_id>", "PATCH"): lambda ids: ({"name": "Renamed again"}, "json"),
    ("api/v1/projects/<str:project_id>/members", "POST"): lambda ids: (
        {"email": ids["spare_email"], "role": "annotator"},
        "json",
    ),
    ("api/v1/projects/<str:project_id>/members/<str:email>", "POST"): lambda ids: ({"role": "reviewer"}, "json"),
    ("api/v1/projects/<str:project_id>/members/<str:email>", "PATCH"): lambda ids: ({"role": "reviewer"}, "json"),
    ("api/v1/datasets", "POST"): lambda ids: ({"name": "New", "projects": [ids["project_id"]]}, "json"),
    ("api/v1/datasets/merge", "POST"): lambda ids: (
        {"name": "Merged", "datasetsIds": [ids["dataset_id"], ids["dataset_id"]], "mergeDatasetParams": {}},
        "json",
    ),
    ("api/v1/datasets/<str:dataset_id>/items", "POST"): lambda ids: (
        {"file": _png_file(), "path": "/more"},
        "multipart",
    ),
    ("api/v1/datasets/<str:dataset_id>/manifest", "POST"): lambda ids: ({"file": _png_file()}, "multipart"),
    ("api/v1/datasets/<str:dataset_id>/archive", "POST"): lambda ids: ({"file": _png_file()}, "multipart"),
    ("api/v1/datasets/<str:dataset_id>/import", "POST"): lambda ids: (
        {"format": "dataloop", "file": _png_file()},
        "multipart",
    ),
    ("api/v1/ontologies", "POST"): lambda ids: ({"roots": [], "projectIds": [ids["project_id"]]}, "json"),
    ("api/v1/ontologies/<str:ontology_id>/labels", "PATCH"): lambda ids: (
        {"labelsNode": [{"tag": "dog"}], "upsert": True},
        "json",
    ),
    ("api/v1/ontologies/<str:ontology_id>/addLabels", "PATCH"): lambda ids: ({"labelsNode": [{"tag": "fox"}]}, "json"),
    ("api/v1/ontologies/<str:ontology_id>/attributes", "PATCH"): lambda ids: (
        {"items": [{"title": "Color", "key": "color", "type": "options", "multi": False, "values": ["red"]}]},
        "json",
    ),
    ("api/v1/ontologies/<str:ontology_id>/attributes", "DELETE"): lambda ids: ({"keys": ["color"]}, "json"),
    ("api/v1/recipes", "POST"): lambda ids: ({"title": "New", "projectIds": [ids["project_id"]]}, "json"),
    ("api/v1/recipes/<str:recipe_id>/instructions", "POST"): lambda ids: ({"file": _png_file()}, "multipart"),
}

# Page forms, filled in: an allowed role does the thing, a denied one is sent back (302) or refused.
PAGE_FORMS: dict[tuple[str, str], Callable[[dict], dict]] = {
    ("projects/<str:project_id>/", "POST"): lambda ids: {"email": ids["spare_email"], "role": "annotator"},
    ("projects/<str:project_id>/datasets/new", "POST"): lambda ids: {"name": "From the page"},
    ("projects/<str:project_id>/rename", "POST"): lambda ids: {"name": "Renamed by page"},
    ("projects/<str:project_id>/members/<str:email>/role", "POST"): lambda ids: {"role": "reviewer"},
}

# Calls that would undo one another (both delete the project): each runs in a world of its own.
ALONE = {("projects/<str:project_id>/delete", "POST")}


def _png_file():
    upload = io.BytesIO(png())
    upload.name = "x.png"
    return upload


# Calls that remove what later calls need run last, the narrowest first, the project at the very end.
_REMOVAL_ORDER = ("annotation_id", "key_id", "email", "assignment_id", "task_id", "item_id", "ontology_id")
_REMOVAL_ORDER += ("recipe_id", "dataset_id", "project_id")


def served() -> list[tuple[str, str]]:
    """(route, METHOD) for every method a class view has, and every method a function view answers."""
    return [(route, method.upper()) for route, callback in routes() for method in methods_of(callback)]


def removes(route: str, method: str) -> bool:
    if (route, method) not in RULES:
        return False  # a function view's method it lacks
    return method == "DELETE" or route.endswith(("/delete", "/remove", "/revoke")) or route == "logout/"


def call_order(pair: tuple[str, str]) -> tuple[int, ...]:
    route, method = pair
    if not removes(route, method):
        return (0,)
    ranks = [i for i, name in enumerate(_REMOVAL_ORDER) if f":{name}>" in route]
    return (1, ranks[0] if ranks else -1, -len(route))  # within a kind, the deeper route first


def test_every_route_method_has_a_rule():
    pairs = {(r, m) for r, m in served() if r in CLASS_VIEWS or not any(k[0] == r for k in RULES)}
    unlisted = sorted(pairs - set(RULES))
    assert unlisted == [], f"name the operation each of these requires in RULES: {unlisted}"
    gone = sorted(set(RULES) - set(served()))
    assert gone == [], f"listed but no longer served: {gone}"
    unknown = sorted({op for op in RULES.values() if op.islower() and op not in OPERATIONS})
    assert unknown == [], f"not operations of annotator/core/permissions.py: {unknown}"


CLASS_VIEWS = {route for route, callback in routes() if hasattr(callback, "view_class")}


def rule_of(route: str, method: str) -> str | None:
    """A function view's other methods answer 405 or as its GET does: they get the GET rule."""
    return RULES.get((route, method)) or (None if route in CLASS_VIEWS else RULES.get((route, "GET")))


def check_calls(role: str, pairs: list[tuple[str, str]]) -> list[str]:
    """Calls each (route, METHOD) as a member with `role` in a fresh world; returns what went wrong."""
    world = make_world(caller_role=role)
    ids, caller = world["ids"], world["caller"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=caller, name='matrix')[1]}")
    pages = Client(HTTP_HOST="127.0.0.1")
    failures = []
    for route, method in sorted(pairs, key=call_order):
        rule = rule_of(route, method)
        if rule is None:
            continue  # a method a class view lacks: the coverage test asks for its rule
        before = snapshot()
        if route.startswith("api/") or route == "token":
            data, form = BODIES[(route, method)](ids) if (route, method) in BODIES else ({}, "json")
            response = getattr(api, method.lower())(fill(route, ids), data=data, format=form)
        else:
            pages.force_login(caller)
            form = PAGE_FORMS[(route, method)](ids) if (route, method) in PAGE_FORMS else {}
            response = getattr(pages, method.lower())(fill(route, ids), data=form)
        status, where = response.status_code, f"{role}: {method} /{route} -> {response.status_code} ({rule})"
        if status >= 500 and not (route == "healthz" and status == 503):  # 503: a dependency is down
            failures.append(f"{where}: server error")
        elif status == 405 and route not in CLASS_VIEWS:
            continue  # a function view refusing a method it lacks
        elif rule in (ABSENT, OTHERS_KEY):
            if status != 404:
                failures.append(f"{where}: expected 404")
        elif rule == OWN_ASSIGNMENT:
            if status != 403:
                failures.append(f"{where}: expected 403")
        elif rule in (PUBLIC, SELF) or role_allows(role, rule):
            if status in (401, 403, 404):
                failures.append(f"{where}: expected to get past the permission check")
        else:
            form_back = route not in CLASS_VIEWS and status == 302  # a page form sends back with a message
            if status != 403 and not form_back:
                failures.append(f"{where}: expected 403")
            if snapshot() != before:
                failures.append(f"{where}: denied, yet the database changed")
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_what_the_table_allows_and_nothing_else(role):
    failures = check_calls(role, [pair for pair in served() if pair not in ALONE])
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pair", sorted(ALONE))
def test_calls_that_undo_others_follow_the_table_too(role, pair):
    failures = check_calls(role, [pair])
    assert failures == [], "\n".join(failures)
