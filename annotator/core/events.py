"""Live events: the one place that names websocket groups and broadcasts to them.

Only services call `broadcast`, inside their transaction; the send happens after
commit, so a rolled-back write never announces itself. The socket that caused a change
(named by the `X-Socket-Id` request header) does not receive its own echo.

Sends leave the request: after commit the message goes to one sender thread per process,
which delivers in order on an event loop of its own. A request therefore never waits for
the channel layer (a fan-out to a thousand sockets cost the request ~0.8 s). Events that
only say "this changed, refetch" may be `coalesce`d: while one is still waiting to go out,
a newer one with the same key replaces its data instead of queueing behind it.
"""

import asyncio
import contextvars
import logging
import queue
import threading
from typing import Any

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


class _Sender:
    """One thread that sends queued messages to the channel layer in the order they came."""

    BATCH = 64  # messages sent in one turn of the sender's event loop, at most

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._pending: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}  # coalesce key: latest message
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)
        self._unsent = 0

    def submit(self, group: str, message: dict[str, Any], coalesce_key: tuple[Any, ...] | None) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="event-sender", daemon=True)
                self._thread.start()
            if coalesce_key is not None:
                waiting = coalesce_key in self._pending
                self._pending[coalesce_key] = (group, message)
                if waiting:
                    return
                entry: tuple[Any, ...] = ("coalesced", coalesce_key)
            else:
                entry = ("message", group, message)
            self._unsent += 1
        self._queue.put(entry)

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted so far has gone out (tests and shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unsent == 0, timeout=timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        while True:
            # What has queued up meanwhile goes out in the same turn of the loop: starting and
            # stopping the loop for each message cost as much as the message's own send.
            entries = [self._queue.get()]
            while len(entries) < self.BATCH:
                try:
                    entries.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            messages = []
            for entry in entries:
                if entry[0] == "coalesced":
                    with self._lock:
                        messages.append(self._pending.pop(entry[1]))
                else:
                    messages.append((entry[1], entry[2]))
            loop.run_until_complete(self._send(messages))
            with self._idle:
                self._unsent -= len(entries)
                self._idle.notify_all()

    @staticmethod
    async def _send(messages: list[tuple[str, dict[str, Any]]]) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        for group, message in messages:  # in order
            try:
                await layer.group_send(group, message)
            except Exception:  # a lost event must not stop the ones after it
                logger.exception("broadcast of %s to %s failed", message.get("event"), group)


_sender = _Sender()


def broadcast(group: str, event: str, data: dict[str, Any], *, coalesce: bool = False) -> None:
    """Send `event` with `data` (entity JSON) to `group` once the transaction commits.

    `coalesce`: a newer event for the same group, event and entity id replaces this one
    while it still waits to be sent (for "refetch" signals and progress, where only the
    latest matters).
    """
    origin = _origin_socket.get()
    message = {"type": "event.message", "event": event, "group": group, "data": data, "origin": origin}
    key = (group, event, data.get("id"), origin) if coalesce else None
    transaction.on_commit(lambda: _sender.submit(group, message, key))


def broadcasts_drain(timeout: float = 5.0) -> bool:
    """Block until every event committed so far has been handed to the channel layer."""
    return _sender.drain(timeout)


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
