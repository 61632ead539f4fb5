"""The scale-out mode's channel layer (core/channel_layer.py), on a Redis of the test's own."""

import asyncio

import pytest
import redis

from annotator.core.channel_layer import RedisChannelLayer
from tests.faults.conftest import PrivateRedis


@pytest.fixture
def private_redis(tmp_path):
    instance = PrivateRedis(tmp_path)
    yield instance
    instance.stop()


_CONNECTION_COMMANDS = {"config|resetstat", "hello", "client|setinfo", "select", "ping"}


def _data_commands(client: redis.Redis) -> dict[str, int]:
    """The commands Redis ran since its statistics were reset, but for connecting and resetting."""
    counted = {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in client.info("commandstats").items()}
    return {name: calls for name, calls in counted.items() if name not in _CONNECTION_COMMANDS}


def test_a_group_member_gets_the_message_and_an_empty_group_costs_one_round_trip(private_redis):
    layer = RedisChannelLayer(hosts=[{"address": private_redis.url}], prefix="test")
    client = redis.Redis(port=private_redis.port)

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("item.watched", channel)
        await layer.group_send("item.watched", {"type": "event.message", "event": "annotations.changed"})
        received = await asyncio.wait_for(layer.receive(channel), timeout=5)

        client.config_resetstat()
        await layer.group_send("item.nobody", {"type": "event.message", "event": "annotations.changed"})
        empty_group_commands = _data_commands(client)
        await layer.flush()
        return received, empty_group_commands

    received, empty_group_commands = asyncio.run(scenario())

    assert received["event"] == "annotations.changed"
    # One pipeline: expire the group's stale members and ask whether any are left; the group's
    # members are never read, and nothing is sent.
    assert empty_group_commands == {"zremrangebyscore": 1, "exists": 1}
