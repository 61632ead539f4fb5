"""The rate limiter's counter: one per window, expiring with it, on whichever cache is configured."""

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from annotator.core.cache import window_count


def test_counts_up_from_one_and_expires_with_its_window():
    assert [window_count("window-test", timeout=1) for _ in range(3)] == [1, 2, 3]
    assert cache.get("window-test") == 3
    deadline = time.monotonic() + 5
    while cache.get("window-test") is not None:  # expiry is the cache's own clock
        assert time.monotonic() < deadline, "the counter never expired"
        time.sleep(0.05)
    assert window_count("window-test", timeout=1) == 1


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis path; CI runs it in the REDIS_URL pass")
def test_a_later_count_does_not_push_the_expiry_back():
    from django.core.cache import caches

    backend = caches["default"]
    key = backend.make_and_validate_key("window-ttl")
    window_count("window-ttl", timeout=100)
    client = backend._cache.get_client(key, write=True)
    client.expire(key, 3)
    window_count("window-ttl", timeout=100)
    assert 0 < client.ttl(key) <= 3
