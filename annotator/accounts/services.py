"""Every write to users, tokens, projects and memberships."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotator.accounts import throttling
from annotator.accounts.access import project_require
from annotator.accounts.models import ApiToken, Membership, Project, User
from annotator.accounts.serializers import member_json, project_json
from annotator.accounts.tokens import (
    BEARER_TYPES,
    InvalidToken,
    TokenType,
    decode_token,
    encode_token,
)
from annotator.core.compiled import CompiledLookup
from annotator.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
)
from annotator.core.events import broadcast, project_group, user_group
from annotator.core.ids import new_id
from annotator.core.permissions import ANNOTATOR_ROLES, ROLES, Role, role_allows

# How stale `last_used_at` may get before a request refreshes it; avoids a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=5)
PROJECT_NAME_MAX = 200


# --- users --------------------------------------------------------------------------------
def user_create(*, email: str, password: str, first_name: str = "", last_name: str = "") -> User:
    email = User.objects.normalize_email(email).strip().lower()
    if not email or "@" not in email:
        raise BadRequest("A valid email is required.", details={"email": "invalid"})
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password, first_name=first_name, last_name=last_name)
    except IntegrityError as exc:
        raise Conflict("A user with this email already exists.") from exc


# --- login and tokens ------------------------------------------------------------------------
def auth_password_check(*, email: str, password: str, address: str) -> User:
    """The user with these credentials, counting failures toward the login throttle."""
    throttling.login_attempt_check(email=email, address=address)
    user = authenticate(username=(email or "").strip().lower(), password=password or "")
    if user is None:
        throttling.login_failure_record(email=email, address=address)
        raise Unauthorized("Wrong email or password.", code="invalid_credentials")
    throttling.login_failures_clear(email=email, address=address)
    return user


def _issue(record: ApiToken, *, typ: str, expires_at: datetime) -> str:
    return encode_token(
        token_id=record.id,
        user_id=record.user_id,
        email=record.user.email,
        typ=typ,
        issued_at=timezone.now(),
        expires_at=expires_at,
    )


@transaction.atomic
def session_token_create(*, user: User) -> tuple[str, str]:
    """A new login session: (id_token, refresh_token), both revocable through one record."""
    now = timezone.now()
    record = ApiToken.objects.create(
        user=user,
        kind=ApiToken.Kind.SESSION,
        name="login",
        expires_at=now + settings.JWT_REFRESH_TOKEN_LIFETIME,
    )
    id_token = _issue(record, typ=TokenType.ID, expires_at=min(now + settings.JWT_ID_TOKEN_LIFETIME, record.expires_at))
    refresh_token = _issue(record, typ=TokenType.REFRESH, expires_at=record.expires_at)
    return id_token, refresh_token


def session_token_refresh(*, refresh_token: str) -> str:
    """A fresh id token for a live refresh token."""
    try:
        claims = decode_token(refresh_token, allowed_types=frozenset({TokenType.REFRESH}))
    except InvalidToken as exc:
        raise Unauthorized(str(exc), code="invalid_token") from exc
    record = _active_record(claims.token_id, claims.user_id)
    now = timezone.now()
    return _issue(record, typ=TokenType.ID, expires_at=min(now + settings.JWT_ID_TOKEN_LIFETIME, record.expires_at))


# Every API request reads its key: compiled once (core/compiled.py).
_TOKEN_WITH_USER = CompiledLookup(
    lambda token_id, user_id: ApiToken.objects.select_related("user").filter(pk=token_id, user_id=user_id)[:1]
)


def _active_record(token_id: str, user_id: str) -> ApiToken:
    record = _TOKEN_WITH_USER.first(token_id, user_id)
    if record is None or not record.is_active or not record.user.is_active:
        raise Unauthorized("Token has been revoked or has expired.", code="invalid_token")
    return record


def bearer_authenticate(*, raw_token: str) -> tuple[User, ApiToken]:
    """The user behind an API key or id token; 401 for anything expired, tampered or revoked."""
    try:
        claims = decode_token(raw_token, allowed_types=BEARER_TYPES)
    except InvalidToken as exc:
        raise Unauthorized(str(exc), code="invalid_token") from exc
    record = _active_record(claims.token_id, claims.user_id)
    now = timezone.now()
    if record.last_used_at is None or record.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user, record


@transaction.atomic
def api_key_create(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new API key; the raw JWT is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise BadRequest("An API key needs a name of 1 to 100 characters.", details={"name": "invalid"})
    days = settings.API_KEY_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= 3650:
        raise BadRequest("An API key lives between 1 and 3650 days.", details={"days": "out of range"})
    record = ApiToken.objects.create(
        user=user, kind=ApiToken.Kind.API_KEY, name=name, expires_at=timezone.now() + timedelta(days=days)
    )
    return record, _issue(record, typ=TokenType.API_KEY, expires_at=record.expires_at)


@transaction.atomic
def api_key_revoke(*, user: User, token_id: str) -> ApiToken:
    record = ApiToken.objects.select_for_update().filter(pk=token_id, user=user, kind=ApiToken.Kind.API_KEY).first()
    if record is None:
        raise NotFound("API key not found.")
    if record.revoked_at is None:
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])
    return record


# --- projects ---------------------------------------------------------------------------------
def _clean_project_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > PROJECT_NAME_MAX:
        raise BadRequest(f"A project name has 1 to {PROJECT_NAME_MAX} characters.", details={"name": "invalid"})
    if "/" in name or any(ord(ch) < 32 for ch in name):
        raise BadRequest("A project name may not contain '/' or control characters.", details={"name": "invalid"})
    return name


def _ensure_name_free(*, user: User, name: str, exclude_id: str | None = None) -> None:
    """Names are unique among the projects a user belongs to: the SDK gets projects by name."""
    clash = Project.objects.filter(memberships__user=user, name__iexact=name)
    if exclude_id:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise Conflict(f"You already have a project named {name!r}.")


@transaction.atomic
def project_create(*, user: User, name: str) -> Project:
    name = _clean_project_name(name)
    _ensure_name_free(user=user, name=name)
    project = Project.objects.create(id=new_id(), name=name, creator=user)
    Membership.objects.create(project=project, user=user, role=Role.OWNER)
    project.viewer_role = Role.OWNER
    broadcast(user_group(user.id), "project.created", project_json(project))
    return project


@transaction.atomic
def project_update(*, user: User, project_id: str, name: str) -> Project:
    project = project_require(user=user, project_id=project_id, operation="project.update", for_update=True)
    name = _clean_project_name(name)
    _ensure_name_free(user=user, name=name, exclude_id=project.id)
    project.name = name
    project.save(update_fields=["name", "updated_at"])
    broadcast(project_group(project.id), "project.updated", project_json(project))
    return project


@transaction.atomic
def project_delete(*, user: User, project_id: str) -> None:
    project = project_require(user=user, project_id=project_id, operation="project.delete", for_update=True)
    data = project_json(project)
    project.delete()
    broadcast(project_group(project_id), "project.deleted", data)


# --- members ---------------------------------------------------------------------------------
def _check_role_value(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.", details={"role": "invalid"})


def _require_member_change(project: Project, *roles: str) -> None:
    """Owners manage every role; annotation managers only annotators and reviewers."""
    if role_allows(project.viewer_role, "member.manage"):
        return
    if role_allows(project.viewer_role, "member.manage_annotators") and all(r in ANNOTATOR_ROLES for r in roles):
        return
    raise Forbidden(
        f"Your role ({project.viewer_role}) may not manage members with role {', '.join(sorted(set(roles)))}."
    )


def _member_operation(project_id: str, user: User) -> Project:
    project = project_require(user=user, project_id=project_id, operation="member.view", for_update=True)
    if not (
        role_allows(project.viewer_role, "member.manage")
        or role_allows(project.viewer_role, "member.manage_annotators")
    ):
        raise Forbidden(f"Your role ({project.viewer_role}) may not manage members.")
    return project


def _membership(project: Project, email: str) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(project=project, user__email=(email or "").strip().lower())
        .first()
    )
    if membership is None:
        raise NotFound("No such member in this project.")
    return membership


def _ensure_owner_remains(project: Project, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.filter(project=project, role=Role.OWNER).count()
    if owners <= 1:
        raise Conflict("A project must keep at least one owner.")


@transaction.atomic
def member_add(*, user: User, project_id: str, email: str, role: str) -> Membership:
    project = _member_operation(project_id, user)
    _check_role_value(role)
    _require_member_change(project, role)
    target = User.objects.filter(email=(email or "").strip().lower(), is_active=True).first()
    if target is None:
        raise BadRequest("No user has this email.", details={"email": "unknown"})
    if Membership.objects.filter(project=project, user=target).exists():
        raise Conflict("This user is already a member; change their role instead.")
    membership = Membership.objects.create(project=project, user=target, role=role)
    data = member_json(membership)
    broadcast(project_group(project.id), "member.added", data)
    broadcast(user_group(target.id), "project.joined", project_json(project))
    return membership


@transaction.atomic
def member_update(*, user: User, project_id: str, email: str, role: str) -> Membership:
    project = _member_operation(project_id, user)
    _check_role_value(role)
    membership = _membership(project, email)
    _require_member_change(project, membership.role, role)
    if membership.role == role:
        return membership
    if role != Role.OWNER:
        _ensure_owner_remains(project, membership)
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    broadcast(project_group(project.id), "member.updated", member_json(membership))
    return membership


@transaction.atomic
def member_remove(*, user: User, project_id: str, email: str) -> None:
    project = project_require(user=user, project_id=project_id, operation="member.view", for_update=True)
    membership = _membership(project, email)
    if membership.user_id != user.id:  # anyone may leave; removing others needs a manager
        _member_operation(project_id, user)
        _require_member_change(project, membership.role)
    _ensure_owner_remains(project, membership)
    data = member_json(membership)
    membership.delete()
    broadcast(project_group(project.id), "member.removed", data)
    broadcast(user_group(membership.user_id), "project.left", project_json(project))
