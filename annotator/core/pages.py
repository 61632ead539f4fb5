"""Error handlers: JSON in the one error shape for API paths, HTML pages elsewhere."""

from django.shortcuts import render

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


def server_error(request):
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
