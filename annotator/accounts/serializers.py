"""Entity JSON for users, members, projects and API keys (Dataloop's shapes, camelCase).

These plain functions are the one shape per entity: the API, websocket events and
later exports all call them. DRF serializers below only validate input and describe
the shapes for the OpenAPI schema.
"""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from annotator.accounts.models import ApiToken, Membership, Project, User
from annotator.core.json import iso
from annotator.core.params import StrictCharField
from annotator.core.permissions import ROLES


def user_json(user: User, *, role: str | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "avatar": None,
        "type": "user",
        "role": role,
        "org": None,
        "createdAt": iso(user.date_joined),
        "updatedAt": iso(user.date_joined),
    }


def member_json(membership: Membership) -> dict[str, Any]:
    data = user_json(membership.user, role=membership.role)
    data["projectId"] = membership.project_id
    data["updatedAt"] = iso(membership.updated_at)
    return data


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "creator": project.creator.email,
        "createdAt": iso(project.created_at),
        "updatedAt": iso(project.updated_at),
        "role": getattr(project, "viewer_role", None),
        "url": f"{settings.API_BASE_PATH}/projects/{project.id}",
        "org": None,
        "account": None,
        "isBlocked": False,
        "archived": False,
        "systemProject": False,
        "featureConstraints": {},
        "contributors": [],
    }


def api_key_json(record: ApiToken) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "createdAt": iso(record.created_at),
        "expiresAt": iso(record.expires_at),
        "revokedAt": iso(record.revoked_at),
        "lastUsedAt": iso(record.last_used_at),
        "active": record.is_active,
    }


# --- input validation and schema ------------------------------------------------------------
class ProjectCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=200)


class ProjectUpdateInput(serializers.Serializer):
    name = StrictCharField(max_length=200)


class MemberRoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES)


class MemberAddInput(MemberRoleInput):
    email = serializers.EmailField()


class ApiKeyCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=100)
    days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class TokenRequestInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user_credentials", "refresh_token"])
    username = StrictCharField(required=False, allow_blank=True)
    password = StrictCharField(required=False, allow_blank=True, trim_whitespace=False)
    refresh_token = StrictCharField(required=False)


class UserSchema(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.EmailField()
    username = serializers.CharField()
    firstName = serializers.CharField()
    lastName = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()


class ProjectSchema(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    creator = serializers.EmailField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=ROLES)
    url = serializers.CharField()


class ApiKeySchema(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    createdAt = serializers.DateTimeField()
    expiresAt = serializers.DateTimeField()
    revokedAt = serializers.DateTimeField(allow_null=True)
    lastUsedAt = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class ApiKeyCreatedSchema(ApiKeySchema):
    token = serializers.CharField(help_text="The JWT; shown once.")


class TokenResponseSchema(serializers.Serializer):
    id_token = serializers.CharField()
    refresh_token = serializers.CharField(required=False)
