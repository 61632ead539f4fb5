"""DRF's exception handler, reshaping every API error into the one shape of core.errors."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from annotator.core.errors import ApiError, Forbidden, NotFound, error_body


def _flatten_validation(detail: Any) -> str:
    """A one-line summary of a DRF validation error, naming the first field."""
    if isinstance(detail, dict):
        for field, value in detail.items():
            inner = _flatten_validation(value)
            return inner if field == "non_field_errors" else f"{field}: {inner}"
    if isinstance(detail, list) and detail:
        return _flatten_validation(detail[0])
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]):
    if isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = Forbidden()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ApiError):
        message, details, code = str(exc.detail), exc.details, exc.default_code
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else code
    elif isinstance(exc, exceptions.ValidationError):
        message, details, code = _flatten_validation(exc.detail), exc.detail, "validation_error"
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail)
        details = None
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
    response.data = error_body(response.status_code, code, message, details)
    return response
