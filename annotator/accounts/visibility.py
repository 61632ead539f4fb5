"""One gate before every API handler: an entity named in the URL must belong to a project the
caller is a member of, else 404, whatever the method and body.

Services still check the operation (role rules, 403) themselves; this gate only makes sure a
stranger learns nothing from a route that names another project's entity: without it, a
handler that validated its body (400) or parsed an upload (415) before looking the entity up
answered differently for a stranger than for an unknown id. It runs as a DRF permission, so
before the request body is read. One short query per id in the URL.
"""

from django.db import connection
from django.http import Http404
from rest_framework.permissions import BasePermission

from annotator.accounts.access import role_remember
from annotator.core.errors import NotFound
from annotator.core.ids import is_valid_id

# URL keyword: SQL giving the project of the entity with id %(id)s.
_PROJECT_OF = {
    "project_id": "SELECT %(id)s",
    "dataset_id": "SELECT project_id FROM datasets_dataset WHERE id = %(id)s",
    "item_id": (
        "SELECT d.project_id FROM datasets_item i JOIN datasets_dataset d ON d.id = i.dataset_id WHERE i.id = %(id)s"
    ),
    "ontology_id": "SELECT project_id FROM ontologies_ontology WHERE id = %(id)s",
    "recipe_id": "SELECT project_id FROM ontologies_recipe WHERE id = %(id)s",
    # A deleted annotation (restore, history) is known by its history rows.
    "annotation_id": (
        "SELECT d.project_id FROM annotations_annotation a JOIN datasets_dataset d ON d.id = a.dataset_id "
        "WHERE a.id = %(id)s UNION ALL "
        "SELECT d.project_id FROM annotations_annotationchange c JOIN datasets_item i ON i.id = c.item_id "
        "JOIN datasets_dataset d ON d.id = i.dataset_id WHERE c.annotation_id = %(id)s LIMIT 1"
    ),
    "task_id": "SELECT project_id FROM tasks_task WHERE id = %(id)s",
    "assignment_id": (
        "SELECT t.project_id FROM tasks_assignment a JOIN tasks_task t ON t.id = a.task_id WHERE a.id = %(id)s"
    ),
    "command_id": "SELECT project_id FROM core_command WHERE id = %(id)s",
}
NAMES = {
    "key_id": "API key",
    "project_id": "Project",
    "dataset_id": "Dataset",
    "item_id": "Item",
    "ontology_id": "Ontology",
    "recipe_id": "Recipe",
    "annotation_id": "Annotation",
    "task_id": "Task",
    "assignment_id": "Assignment",
    "command_id": "Command",
}


# URL keyword: SQL that finds (project, role) when user %(user)s may see the entity %(id)s.
_VISIBLE = {
    keyword: (
        f"SELECT project_id, role FROM accounts_membership WHERE user_id = %(user)s AND project_id = ({project_of})"
    )
    for keyword, project_of in _PROJECT_OF.items()
} | {"key_id": "SELECT NULL, NULL FROM accounts_apitoken WHERE id = %(id)s AND user_id = %(user)s"}  # no project


def entity_visible(*, user, keyword: str, entity_id: str) -> bool:
    """Whether the entity exists in a project `user` is a member of (an API key: is theirs).

    The role found is remembered on `user` (loaded for this request), so the service's role
    check that follows costs no second query."""
    if not is_valid_id(entity_id):
        return False
    with connection.cursor() as cursor:
        cursor.execute(_VISIBLE[keyword], {"user": user.id, "id": entity_id})
        row = cursor.fetchone()
    if row is None:
        return False
    if row[0] is not None:
        role_remember(user=user, project_id=row[0], role=row[1])
    return True


class UrlEntitiesVisible(BasePermission):
    """404 unless every entity the URL names is in one of the caller's projects.

    A view may name URL keywords in `entities_checked_by_service`: its service finds that
    entity only through the caller's membership, answering the same 404 first thing, so the
    gate's own read of it would be a second query for the same answer (the studio's save)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return True  # IsAuthenticated (before this) answers anonymous callers; AllowAny views stay open
        checked_later = getattr(view, "entities_checked_by_service", ())
        for keyword, value in (view.kwargs or {}).items():
            if keyword in checked_later:
                continue
            if keyword in _VISIBLE and not entity_visible(user=user, keyword=keyword, entity_id=value):
                raise NotFound(f"{NAMES[keyword]} not found.")
        return True


class UrlEntitiesVisibleMiddleware:
    """The same gate for the pages (signed-in users, before the view runs): a form posted to
    another project's page is a 404, not a redirect with a message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/") or not request.user.is_authenticated:
            return None  # the API has the permission above (bearer tokens are read there)
        for keyword, value in view_kwargs.items():
            if keyword in _VISIBLE and not entity_visible(user=request.user, keyword=keyword, entity_id=value):
                raise Http404(f"{NAMES[keyword]} not found.")
        return None
