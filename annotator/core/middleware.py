"""Request plumbing shared by every view."""

import os


class ChunkedBodyMiddleware:
    """Give chunked request bodies a Content-Length so that Django parses them.

    dtlpy streams uploads with `Transfer-Encoding: chunked` and no Content-Length.
    Django's multipart parser reads nothing without a length; under ASGI the whole body
    is already spooled to a file, so its size is known and we can set it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.META.get("CONTENT_LENGTH") and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", ""):
            stream = getattr(request, "_stream", None)
            if stream is not None and hasattr(stream, "seek"):
                size = stream.seek(0, os.SEEK_END)
                stream.seek(0)
                request.META["CONTENT_LENGTH"] = str(size)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY with every response that has no policy of its own.

    The pages load scripts and styles from our origin only (the Vite build) and carry no
    inline script, style or handler, so the policy needs no 'unsafe-inline'. Views that serve
    user content (item streams, exports) set a stricter policy of their own first.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
