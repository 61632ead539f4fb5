"""Every route, every method, as an anonymous caller and as a stranger (a member of another
project, holding a valid API key): nothing of the project is shown or changed.

The routes come from the URL conf itself, so a new route cannot slip past: one that is not
listed in ROUTES below fails `test_every_route_is_in_the_matrix` until someone decides how it
may answer a stranger.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotator.accounts.models import ApiToken, Project
from annotator.accounts.services import api_key_create
from tests.security.routes import fill, make_world, methods_of, routes, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

# How a route may answer a stranger: "hidden" (404 for everything of the project, whatever the
# method and body: annotator/accounts/visibility.py checks the URL's ids before any handler),
# "own" (answers about the caller only: 2xx allowed, but nothing of the project in it),
# "public" (no login needed: health, schema, the login and token endpoints).
ROUTES = {
    "token": "public",
    "healthz": "public",
    "api/schema/": "public",
    "api/docs/": "public",
    "login/": "public",
    "logout/": "own",
    "api/v1/users/me": "own",
    "api/v1/users/me/apikeys": "own",
    "api/v1/users/me/apikeys/<str:key_id>": "hidden",
    "api/v1/users/me/assignments": "own",
    "api/v1/projects": "own",
    "api/v1/projects/<str:name>/name": "hidden",
    "api/v1/projects/<str:project_id>": "hidden",
    "api/v1/projects/<str:project_id>/members": "hidden",
    "api/v1/projects/<str:project_id>/members/<str:email>": "hidden",
    "api/v1/commands/<str:command_id>": "hidden",
    "api/v1/datasets": "own",
    "api/v1/datasets/query": "own",
    "api/v1/datasets/merge": "own",  # names its datasets in the body
    "api/v1/datasets/<str:dataset_id>": "hidden",
    "api/v1/datasets/<str:dataset_id>/items": "hidden",
    "api/v1/datasets/<str:dataset_id>/manifest": "hidden",
    "api/v1/datasets/<str:dataset_id>/archive": "hidden",
    "api/v1/datasets/<str:dataset_id>/query": "hidden",
    "api/v1/datasets/<str:dataset_id>/clone": "hidden",
    "api/v1/datasets/<str:dataset_id>/export": "hidden",
    "api/v1/datasets/<str:dataset_id>/exports": "hidden",
    "api/v1/datasets/<str:dataset_id>/import": "hidden",
    "api/v1/items/<str:item_id>": "hidden",
    "api/v1/items/<str:item_id>/stream": "hidden",
    "api/v1/items/<str:item_id>/thumbnail": "hidden",
    "api/v1/items/<str:item_id>/annotations": "hidden",
    "api/v1/items/<str:item_id>/annotations/batch": "hidden",
    "api/v1/items/<str:item_id>/annotations/history": "hidden",
    "api/v1/items/<str:item_id>/annotations/completion": "hidden",
    "api/v1/ontologies": "own",
    "api/v1/ontologies/<str:ontology_id>": "hidden",
    "api/v1/ontologies/<str:ontology_id>/labels": "hidden",
    "api/v1/ontologies/<str:ontology_id>/addLabels": "hidden",
    "api/v1/ontologies/<str:ontology_id>/attributes": "hidden",
    "api/v1/recipes": "own",
    "api/v1/recipes/<str:recipe_id>": "hidden",
    "api/v1/recipes/<str:recipe_id>/instructions": "hidden",
    "api/v1/annotations/<str:annotation_id>": "hidden",
    "api/v1/annotations/<str:annotation_id>/history": "hidden",
    "api/v1/annotations/<str:annotation_id>/restore": "hidden",
    "api/v1/annotations/<str:annotation_id>/status": "hidden",
    "api/v1/annotations/<str:annotation_id>/messages": "hidden",
    "api/v1/annotationtasks": "own",
    "api/v1/annotationtasks/query": "own",
    "api/v1/annotationtasks/<str:task_id>": "hidden",
    "api/v1/annotationtasks/<str:task_id>/stats": "hidden",
    "api/v1/annotationtasks/<str:task_id>/addToTask": "hidden",
    "api/v1/annotationtasks/<str:task_id>/removeFromTask": "hidden",
    "api/v1/annotationtasks/<str:task_id>/annotators": "hidden",
    "api/v1/annotationtasks/<str:task_id>/annotators/<str:assignment_id>": "hidden",
    "api/v1/annotationtasks/<str:task_id>/pull": "hidden",
    "api/v1/annotationtasks/<str:task_id>/next": "hidden",
    "api/v1/assignments": "own",
    "api/v1/assignments/items/tasks/<str:task_id>/status": "hidden",
    "api/v1/assignments/<str:assignment_id>": "hidden",
    "api/v1/assignments/<str:assignment_id>/queue": "hidden",
    "api/v1/assignments/<str:assignment_id>/reassign": "hidden",
    "api/v1/assignments/<str:assignment_id>/redistribute": "hidden",
    "api/v1/assignments/<str:assignment_id>/items/<str:item_id>/status": "hidden",
    # pages
    "": "own",
    "work/": "own",
    "account/api-keys/": "own",
    "account/api-keys/<str:key_id>/revoke": "hidden",
    "projects/<str:project_id>/": "hidden",
    "projects/<str:project_id>/datasets/new": "hidden",
    "projects/<str:project_id>/tasks/new": "hidden",
    "projects/<str:project_id>/rename": "hidden",
    "projects/<str:project_id>/delete": "hidden",
    "projects/<str:project_id>/members/<str:email>/role": "hidden",
    "projects/<str:project_id>/members/<str:email>/remove": "hidden",
    "datasets/<str:dataset_id>/": "hidden",
    "studio/<str:item_id>": "hidden",
    "recipes/<str:recipe_id>/": "hidden",
    "tasks/<str:task_id>/": "hidden",
}


@pytest.fixture
def world():
    return make_world()


def test_every_route_is_in_the_matrix():
    unlisted = sorted(route for route, _ in routes() if route not in ROUTES)
    assert unlisted == [], f"decide how these answer a stranger and list them in ROUTES: {unlisted}"
    gone = sorted(set(ROUTES) - {route for route, _ in routes()})
    assert gone == [], f"listed but no longer routed: {gone}"


def test_a_stranger_sees_and_changes_nothing_of_the_project(world):
    ids, stranger = world["ids"], world["stranger"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=stranger, name='probe')[1]}")
    pages = Client(HTTP_HOST="127.0.0.1")
    pages.force_login(stranger)
    before = snapshot()
    secrets = [ids[k] for k in ("project_id", "dataset_id", "item_id", "annotation_id", "task_id", "assignment_id")]
    failures = []
    for route, callback in routes():
        kind = ROUTES[route]
        via_api = route.startswith("api/") or route == "token"
        for method in methods_of(callback):
            if via_api:
                response = getattr(api, method)(fill(route, ids), data={}, format="json")
            else:
                pages.force_login(stranger)  # again: one of the routes is logout
                response = getattr(pages, method)(fill(route, ids))
            status = response.status_code
            body = b"" if response.streaming else response.content
            where = f"{method.upper()} /{route}: {status}"
            if status >= 500 and not (route == "healthz" and status == 503):  # 503: a dependency is down
                failures.append(f"{where} (server error)")
            elif kind == "hidden" and status not in (404, 405):
                failures.append(f"{where} (expected 404)")
            elif any(secret.encode() in body for secret in secrets):
                failures.append(f"{where} (shows the project's ids)")
    assert failures == [], "\n".join(failures)
    assert snapshot() == before


def test_an_anonymous_caller_gets_nothing_but_the_public_routes(world):
    ids = world["ids"]
    api, pages = APIClient(), Client(HTTP_HOST="127.0.0.1")
    before = snapshot()
    failures = []
    for route, callback in routes():
        if ROUTES[route] == "public":
            continue
        for method in methods_of(callback):
            if route.startswith("api/"):
                status = getattr(api, method)(fill(route, ids), data={}, format="json").status_code
                if status not in (401, 405):
                    failures.append(f"{method.upper()} /{route}: {status} (expected 401)")
            else:
                response = getattr(pages, method)(fill(route, ids))
                sent_to_login = response.status_code == 302 and response["Location"].startswith("/login/")
                if not sent_to_login and response.status_code not in (403, 405):
                    failures.append(f"{method.upper()} /{route}: {response.status_code} (expected the login page)")
    assert failures == [], "\n".join(failures)
    assert snapshot() == before


def test_a_revoked_or_expired_key_opens_nothing(world):
    owner_project = Project.objects.get(pk=world["ids"]["project_id"])
    record, raw = api_key_create(user=owner_project.creator, name="soon gone")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(f"/api/v1/projects/{owner_project.id}").status_code == 200  # the key works until…

    ApiToken.objects.filter(pk=record.pk).update(revoked_at=record.created_at)
    assert api.get(f"/api/v1/projects/{owner_project.id}").status_code == 401

    ApiToken.objects.filter(pk=record.pk).update(revoked_at=None, expires_at=record.created_at)
    assert api.get(f"/api/v1/projects/{owner_project.id}").status_code == 401
