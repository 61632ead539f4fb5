"""One JSON error shape for the whole API.

    {"status": 404, "code": "not_found", "message": "Project not found", "details": {...}}

Services raise the exceptions below (they are DRF APIExceptions, so views need no
try/except); core.exception_handler also reshapes DRF's and Django's own errors.
This module must not import rest_framework.views: authentication classes import it
while DRF's settings are still loading.
"""

from typing import Any

from django.http import JsonResponse
from rest_framework import exceptions, status


class ApiError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "Bad request."

    def __init__(self, message: str | None = None, *, details: Any = None, code: str | None = None):
        super().__init__(detail=message or self.default_detail, code=code or self.default_code)
        self.details = details


class BadRequest(ApiError):
    pass


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"
    default_detail = "Not found."


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"
    default_detail = "You do not have permission to perform this action."


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "Conflict."


class Unauthorized(ApiError, exceptions.AuthenticationFailed):
    """401; an AuthenticationFailed so that DRF adds the WWW-Authenticate challenge."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided or are invalid."


class TooManyRequests(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"
    default_detail = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int):
        super().__init__(message, details={"retryAfter": retry_after})
        self.retry_after = retry_after


def error_body(status_code: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if details is not None:
        body["details"] = details
    return body


def error_response(status_code: int, code: str, message: str, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(status_code, code, message, details), status=status_code)
