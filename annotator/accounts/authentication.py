from rest_framework.authentication import BaseAuthentication, get_authorization_header

from annotator.accounts.services import bearer_authenticate
from annotator.core.errors import Unauthorized


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <jwt>` with an API key or a login id token."""

    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise Unauthorized("Malformed Authorization header.", code="invalid_token")
        return bearer_authenticate(raw_token=parts[1].decode("latin-1"))

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
