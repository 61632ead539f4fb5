"""The Redis cache degrades while Redis is unreachable: reads miss, writes are dropped, nothing
raises (login throttling and rate limits live in it, and must not turn an outage into 500s)."""

import pytest

from annotator.core.cache import TolerantRedisCache
from tests.conftest import _free_port


@pytest.fixture
def unreachable_cache():
    """A cache on a port where nothing listens."""
    return TolerantRedisCache(f"redis://127.0.0.1:{_free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 1}})


def test_reads_miss_and_writes_are_dropped(unreachable_cache):
    cache = unreachable_cache

    assert cache.get("failures", default="none") == "none"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("a", 1) is False
    assert cache.has_key("a") is False
    cache.set("a", 1)
    cache.set_many({"a": 1, "b": 2})
    cache.delete("a")
    cache.delete_many(["a", "b"])
    with pytest.raises(ValueError, match="not found"):  # as for a missing key: callers then set() it
        cache.incr("a")
