"""Live events: the one place that names websocket groups and broadcasts to them.

Only services call `broadcast`, inside their transaction; the send happens after
commit, so a rolled-back write never announces itself. The socket that caused a change
(named by the `X-Socket-Id` request header) does not receive its own echo.
"""

import contextvars
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

SOCKET_ID_HEADER = "HTTP_X_SOCKET_ID"
_origin_socket: contextvars.ContextVar[str | None] = contextvars.ContextVar("origin_socket", default=None)


def user_group(user_id: str) -> str:
    return f"user.{user_id}"


def project_group(project_id: str) -> str:
    return f"project.{project_id}"


def item_group(item_id: str) -> str:
    """Whoever has the item open (the studio): its annotations' changes."""
    return f"item.{item_id}"


def parse_group(group: str) -> tuple[str, str] | None:
    """("user" | "project" | "item", id) for a group name a client asked for, or None."""
    kind, _, entity_id = (group or "").partition(".")
    if kind in {"user", "project", "item"} and entity_id:
        return kind, entity_id
    return None


def broadcast(group: str, event: str, data: dict[str, Any]) -> None:
    """Send `event` with `data` (entity JSON) to `group` once the transaction commits."""
    message = {"type": "event.message", "event": event, "group": group, "data": data, "origin": _origin_socket.get()}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # a lost event must not fail the write that already committed
            logger.exception("broadcast of %s to %s failed", event, group)

    transaction.on_commit(send)


class SocketOriginMiddleware:
    """Remembers which websocket (if any) the current request came from."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _origin_socket.set(request.META.get(SOCKET_ID_HEADER) or None)
        try:
            return self.get_response(request)
        finally:
            _origin_socket.reset(token)
