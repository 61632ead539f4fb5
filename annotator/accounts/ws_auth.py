"""Websocket authentication: an API key or id token, else the session cookie.

A cookie-authenticated socket must come from an allowed Origin, which stops other
sites from opening sockets with a visitor's session; a token is proof on its own.
"""

from urllib.parse import urlsplit

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.sessions import SessionMiddlewareStack
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from annotator.accounts.services import bearer_authenticate
from annotator.core.errors import Unauthorized


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@database_sync_to_async
def _user_for_token(raw: str):
    try:
        user, _record = bearer_authenticate(raw_token=raw)
    except Unauthorized:
        return AnonymousUser()
    return user


def _origin_allowed(scope) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    host = urlsplit(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


class WebsocketAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        authorization = _header(scope, b"authorization") or ""
        scheme, _, raw = authorization.partition(" ")
        if scheme.lower() == "bearer" and raw.strip():
            scope["user"] = await _user_for_token(raw.strip())
        elif _origin_allowed(scope):
            scope["user"] = await get_user(scope)
        else:
            scope["user"] = AnonymousUser()
        return await super().__call__(scope, receive, send)


def WebsocketAuthStack(inner):
    return SessionMiddlewareStack(WebsocketAuthMiddleware(inner))
