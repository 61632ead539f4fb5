"""The channel layers: channels' in-memory layer made thread-safe (the embedded default), and
channels-redis's with a cheaper send to an empty group (the scale-out mode).

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the event loop of
the ASGI server. A Celery job running on the embedded worker's thread broadcasts from
a loop of its own; putting into the server's queues from there would not wake the
waiting consumers. So sends made off the home loop hop onto it.
"""

import asyncio
import time

import channels_redis.core
from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    _home_loop: asyncio.AbstractEventLoop | None = None

    async def receive(self, channel):
        self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    def _foreign_home(self) -> asyncio.AbstractEventLoop | None:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return None
        return None if home is asyncio.get_running_loop() else home

    async def send(self, channel, message):
        home = self._foreign_home()
        if home is None:
            return await super().send(channel, message)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().send(channel, message), home))

    async def group_send(self, group, message):
        home = self._foreign_home()
        if home is None:
            return await super().group_send(group, message)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(super().group_send(group, message), home))


class RedisChannelLayer(channels_redis.core.RedisChannelLayer):
    """The scale-out mode's layer: channels-redis's, but a send to a group nobody is in costs
    one round trip to Redis instead of two (it expired the group's stale members, then read
    the rest, in two commands). Most annotation saves go to such a group: an item no studio
    has open, as every write of an API script. A group with members pays one round trip more."""

    async def group_send(self, group, message):
        key = self._group_key(group)
        pipe = self.connection(self.consistent_hash(group)).pipeline(transaction=False)
        pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
        pipe.exists(key)
        _expired, members = await pipe.execute()
        if members:
            await super().group_send(group, message)
