"""Reads of projects, members and keys, already limited to what the user may see."""

from django.apps import apps
from django.db.models import OuterRef, QuerySet, Subquery

from annotator.accounts.access import project_require, project_role
from annotator.accounts.models import ApiToken, Membership, Project, User
from annotator.core.events import parse_group
from annotator.core.ids import is_valid_id


def _with_viewer_role(queryset: QuerySet[Project], user: User) -> QuerySet[Project]:
    role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return queryset.filter(memberships__user=user).annotate(viewer_role=Subquery(role)).select_related("creator")


def project_list(*, user: User) -> QuerySet[Project]:
    return _with_viewer_role(Project.objects.all(), user).order_by("id")


def project_list_by_name(*, user: User, name: str) -> list[Project]:
    return list(_with_viewer_role(Project.objects.filter(name__iexact=name.strip()), user).order_by("id"))


def project_get(*, user: User, project_id: str) -> Project:
    return project_require(user=user, project_id=project_id, operation="project.view")


def member_list(*, user: User, project_id: str) -> list[Membership]:
    project = project_require(user=user, project_id=project_id, operation="member.view")
    return list(Membership.objects.filter(project=project).select_related("user").order_by("created_at", "id"))


def api_key_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, kind=ApiToken.Kind.API_KEY).order_by("-id")


def can_watch_group(*, user: User, group: str) -> bool:
    """Whether `user` may subscribe a socket to `group`: their own, a project they are in, or an
    item of such a project."""
    parsed = parse_group(group)
    if parsed is None or not user.is_authenticated:
        return False
    kind, entity_id = parsed
    if kind == "user":
        return entity_id == user.id
    if kind == "item":
        # Looked up by name: datasets builds on accounts, not the other way round.
        item_model = apps.get_model("datasets", "Item")
        project_id = (
            item_model.objects.filter(pk=entity_id).values_list("dataset__project_id", flat=True).first()
            if is_valid_id(entity_id)
            else None
        )
        return project_id is not None and project_role(user=user, project_id=project_id) is not None
    return project_role(user=user, project_id=entity_id) is not None
