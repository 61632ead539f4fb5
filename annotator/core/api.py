from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.core.commands import command_get, command_json


class CommandDetailView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="A Command")}, tags=["commands"])
    def get(self, request: Request, command_id: str) -> Response:
        return Response(command_json(command_get(user=request.user, command_id=command_id)))
