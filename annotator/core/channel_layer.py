"""The embedded default's channel layer: channels' in-memory layer, made thread-safe.

Channels' InMemoryChannelLayer keeps asyncio queues that belong to the event loop of
the ASGI server. A Celery job running on the embedded worker's thread broadcasts from
a loop of its own; putting into the server's queues from there would not wake the
waiting consumers. So sends made off the home loop hop onto it.
"""

import asyncio

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
