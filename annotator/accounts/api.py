"""REST views for tokens, the current user, API keys, projects and members.

Thin by rule: parse, call one service or selector, serialize. Shapes follow what
dtlpy sends and expects (see shared/API-COMPAT.md).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.accounts import selectors, services
from annotator.accounts.serializers import (
    ApiKeyCreatedSchema,
    ApiKeyCreateInput,
    ApiKeySchema,
    MemberAddInput,
    MemberRoleInput,
    ProjectCreateInput,
    ProjectSchema,
    ProjectUpdateInput,
    TokenRequestInput,
    TokenResponseSchema,
    UserSchema,
    api_key_json,
    member_json,
    project_json,
    user_json,
)
from annotator.core.errors import BadRequest, NotFound


def client_address(request: Request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class TokenView(APIView):
    """POST /token?default: password login and token refresh, as dtlpy calls them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'  # keeps failed logins 401 (DRF makes them 403 without a challenge)

    @extend_schema(request=TokenRequestInput, responses={200: TokenResponseSchema}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = validated(TokenRequestInput, request.data)
        if data["type"] == "refresh_token":
            if not data.get("refresh_token"):
                raise BadRequest("refresh_token is required.", details={"refresh_token": "required"})
            return Response({"id_token": services.session_token_refresh(refresh_token=data["refresh_token"])})
        user = services.auth_password_check(
            email=data.get("username", ""), password=data.get("password", ""), address=client_address(request)
        )
        id_token, refresh_token = services.session_token_create(user=user)
        return Response({"id_token": id_token, "refresh_token": refresh_token})


class MeView(APIView):
    @extend_schema(responses={200: UserSchema}, tags=["users"])
    def get(self, request: Request) -> Response:
        return Response(user_json(request.user))


class ApiKeyListView(APIView):
    @extend_schema(responses={200: ApiKeySchema(many=True)}, tags=["users"])
    def get(self, request: Request) -> Response:
        return Response([api_key_json(record) for record in selectors.api_key_list(user=request.user)])

    @extend_schema(request=ApiKeyCreateInput, responses={201: ApiKeyCreatedSchema}, tags=["users"])
    def post(self, request: Request) -> Response:
        data = validated(ApiKeyCreateInput, request.data)
        record, token = services.api_key_create(user=request.user, name=data["name"], days=data.get("days"))
        return Response({**api_key_json(record), "token": token}, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(responses={200: ApiKeySchema}, tags=["users"])
    def delete(self, request: Request, key_id: str) -> Response:
        return Response(api_key_json(services.api_key_revoke(user=request.user, token_id=key_id)))


class ProjectListView(APIView):
    @extend_schema(responses={200: ProjectSchema(many=True)}, tags=["projects"])
    def get(self, request: Request) -> Response:
        return Response([project_json(project) for project in selectors.project_list(user=request.user)])

    @extend_schema(request=ProjectCreateInput, responses={201: ProjectSchema}, tags=["projects"])
    def post(self, request: Request) -> Response:
        data = validated(ProjectCreateInput, request.data)
        project = services.project_create(user=request.user, name=data["name"])
        return Response(project_json(project), status=status.HTTP_201_CREATED)


class ProjectByNameView(APIView):
    @extend_schema(responses={200: ProjectSchema(many=True)}, tags=["projects"])
    def get(self, request: Request, name: str) -> Response:
        projects = selectors.project_list_by_name(user=request.user, name=name)
        if not projects:
            raise NotFound("Project not found.")
        return Response([project_json(project) for project in projects])


class ProjectDetailView(APIView):
    @extend_schema(responses={200: ProjectSchema}, tags=["projects"])
    def get(self, request: Request, project_id: str) -> Response:
        return Response(project_json(selectors.project_get(user=request.user, project_id=project_id)))

    @extend_schema(request=ProjectUpdateInput, responses={200: ProjectSchema}, tags=["projects"])
    def patch(self, request: Request, project_id: str) -> Response:
        data = validated(ProjectUpdateInput, request.data)
        project = services.project_update(user=request.user, project_id=project_id, name=data["name"])
        return Response(project_json(project))

    put = patch

    @extend_schema(responses={200: OpenApiResponse(description="Deleted.")}, tags=["projects"])
    def delete(self, request: Request, project_id: str) -> Response:
        services.project_delete(user=request.user, project_id=project_id)
        return Response(True)


MEMBER_FIELDS = {"id": serializers.CharField(), "email": serializers.EmailField(), "role": serializers.CharField()}
MemberSchema = inline_serializer("Member", MEMBER_FIELDS)
MemberListSchema = inline_serializer("Member", MEMBER_FIELDS, many=True)


class MemberListView(APIView):
    @extend_schema(responses={200: MemberListSchema}, tags=["projects"])
    def get(self, request: Request, project_id: str) -> Response:
        return Response([member_json(m) for m in selectors.member_list(user=request.user, project_id=project_id)])

    @extend_schema(request=MemberAddInput, responses={201: MemberSchema}, tags=["projects"])
    def post(self, request: Request, project_id: str) -> Response:
        data = validated(MemberAddInput, request.data)
        membership = services.member_add(
            user=request.user, project_id=project_id, email=data["email"], role=data["role"]
        )
        return Response(member_json(membership), status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    """Members by email, as dtlpy's add_member, update_member and remove_member call them."""

    @extend_schema(
        request=MemberRoleInput,
        responses={201: MemberSchema},
        tags=["projects"],
        operation_id="project_member_add_by_email",
    )
    def post(self, request: Request, project_id: str, email: str) -> Response:
        data = validated(MemberRoleInput, request.data)
        membership = services.member_add(user=request.user, project_id=project_id, email=email, role=data["role"])
        return Response(member_json(membership), status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleInput, responses={200: MemberSchema}, tags=["projects"])
    def patch(self, request: Request, project_id: str, email: str) -> Response:
        data = validated(MemberRoleInput, request.data)
        membership = services.member_update(user=request.user, project_id=project_id, email=email, role=data["role"])
        return Response(member_json(membership))

    @extend_schema(responses={200: OpenApiResponse(description="Removed.")}, tags=["projects"])
    def delete(self, request: Request, project_id: str, email: str) -> Response:
        services.member_remove(user=request.user, project_id=project_id, email=email)
        return Response(True)
