"""Error handlers: JSON in the one error shape for API paths, HTML pages elsewhere."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from annotator.core.errors import ApiError, error_response

API_PREFIXES = ("/api/", "/token", "/healthz")


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIXES)


def _handle(request, status: int, code: str, message: str):
    if _is_api(request):
        return error_response(status, code, message)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _handle(request, 400, "bad_request", "Bad request.")


def permission_denied(request, exception=None):
    return _handle(request, 403, "forbidden", "You do not have permission to see this page.")


def page_not_found(request, exception=None):
    return _handle(request, 404, "not_found", "Not found.")


DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable right now; please try again in a moment."
# How long clients are asked to wait before retrying after a 503.
RETRY_AFTER_SECONDS = 5


def _database_unavailable(exception: BaseException | None) -> bool:
    """Whether the request failed because the database could not be reached: a lost or
    refused connection (or a pool with none to give) is OperationalError/InterfaceError,
    and may be wrapped by whatever was running the query."""
    while exception is not None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


def server_error(request):
    # Django calls this inside its `except` block, so the exception is still in sys.exc_info().
    if _database_unavailable(sys.exc_info()[1]):
        if _is_api(request):
            response = error_response(503, "service_unavailable", DATABASE_UNAVAILABLE_MESSAGE)
        else:  # rendered without the request: its context processors would query the database
            page = render_to_string("unavailable.html", {"message": DATABASE_UNAVAILABLE_MESSAGE})
            response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return _handle(request, 500, "server_error", "Something went wrong on our side.")


class ServiceErrorPageMiddleware:
    """Pages call the same services as the API; show their 4xx errors as HTML pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ApiError) and not _is_api(request):
            status = exception.status_code
            return render(request, "error.html", {"status": status, "message": str(exception.detail)}, status=status)
        return None


class NulCharacterMiddleware:
    """A NUL character in the path or the query string is a 400 before any view runs.

    Path and query values reach database filters (project names, emails, id lists); PostgreSQL
    text cannot hold NUL and fails the query (a 500), where SQLite silently matches nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.GET.lists()
        if "\x00" in request.path or any("\x00" in key or any("\x00" in v for v in values) for key, values in query):
            return _handle(request, 400, "bad_request", "The URL may not contain NUL characters.")
        return self.get_response(request)
