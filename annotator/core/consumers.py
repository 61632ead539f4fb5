"""The one websocket endpoint, /ws/: subscribe to groups you may watch, receive events."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from annotator.accounts.selectors import can_watch_group
from annotator.core.events import project_group, user_group

CLOSE_UNAUTHENTICATED = 4401
MAX_GROUPS_PER_SOCKET = 200


class EventsConsumer(AsyncJsonWebsocketConsumer):
    """Thin by rule: authenticate, check the watch permission, join groups, forward events."""

    async def connect(self):
        self.user = self.scope.get("user")
        self.watched: set[str] = set()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        await self._join(user_group(self.user.id))
        await self.send_json({"type": "hello", "socketId": self.channel_name, "userId": self.user.id})

    async def disconnect(self, code):
        for group in list(getattr(self, "watched", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self._error("bad_request", "Messages are JSON objects.")
            return
        action, group = content.get("action"), content.get("group")
        if action not in {"subscribe", "unsubscribe"} or not isinstance(group, str):
            await self._error("bad_request", "Send {action: subscribe|unsubscribe, group: 'project.<id>'}.")
            return
        if action == "unsubscribe":
            await self._leave(group)
            await self.send_json({"type": "unsubscribed", "group": group})
            return
        if len(self.watched) >= MAX_GROUPS_PER_SOCKET:
            await self._error("too_many_groups", "This socket watches too many groups.", group)
            return
        if not await database_sync_to_async(can_watch_group)(user=self.user, group=group):
            await self._error("not_found", "No such group, or you may not watch it.", group)
            return
        await self._join(group)
        await self.send_json({"type": "subscribed", "group": group})

    async def event_message(self, message):
        if message.get("origin") == self.channel_name:
            return  # the sender already has this change; no echo
        await self.send_json({k: message[k] for k in ("event", "group", "data")} | {"type": "event"})
        if self._loses_access(message):
            await self._leave(message["group"])
            await self.send_json({"type": "unsubscribed", "group": message["group"]})

    def _loses_access(self, message) -> bool:
        """A removed member or a deleted project stops receiving that project's events."""
        group = message.get("group", "")
        if group not in self.watched or group == user_group(self.user.id):
            return False
        event, data = message.get("event"), message.get("data") or {}
        if event == "project.deleted":
            return group == project_group(data.get("id", ""))
        return event == "member.removed" and data.get("id") == self.user.id

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.watched.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.watched:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.watched.discard(group)

    async def _error(self, code: str, message: str, group: str | None = None) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "group": group})
