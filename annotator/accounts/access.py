"""Project access checks: the bridge between users, memberships and the operations table."""

from annotator.accounts.models import Membership, Project, User
from annotator.core.errors import Forbidden, NotFound
from annotator.core.ids import is_valid_id
from annotator.core.permissions import role_allows


def project_role(*, user: User, project_id: str) -> str | None:
    if not user.is_authenticated or not is_valid_id(project_id):
        return None
    remembered = getattr(user, "request_roles", None)
    if remembered and project_id in remembered:
        return remembered[project_id]
    return Membership.objects.filter(project_id=project_id, user=user).values_list("role", flat=True).first()


def role_remember(*, user: User, project_id: str, role: str) -> None:
    """Note the role the request's access gate just read, for this request's later checks.

    `user` is the object authentication loaded for one request (a bearer key's, or the
    session's), so the note lives as long as the request.
    """
    vars(user).setdefault("request_roles", {})[project_id] = role


def role_require(*, user: User, project_id: str, operation: str) -> str:
    """The user's role in the project if it allows `operation`: 404 for non-members, else 403."""
    role = project_role(user=user, project_id=project_id)
    if role is None:
        raise NotFound("Project not found.")
    if not role_allows(role, operation):
        raise Forbidden(f"Your role ({role}) does not allow {operation}.")
    return role


def project_require(*, user: User, project_id: str, operation: str, for_update: bool = False) -> Project:
    """The project, with `viewer_role` set, if `user` may perform `operation` in it.

    A project the user is not a member of gives the same 404 as one that does not
    exist; a member whose role lacks the operation gets 403.
    """
    role = role_require(user=user, project_id=project_id, operation=operation)
    queryset = Project.objects.select_related("creator")
    if for_update:
        queryset = queryset.select_for_update()
    project = queryset.filter(pk=project_id).first()
    if project is None:
        raise NotFound("Project not found.")
    project.viewer_role = role
    return project
