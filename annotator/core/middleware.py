"""Request plumbing shared by every view."""


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
