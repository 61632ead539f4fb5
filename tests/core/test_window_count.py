"""The rate limiter's counter: one per window, expiring with it, on whichever cache is configured
(Redis in the scale-out pass, the local-memory cache in the embedded one)."""

import time

from django.core.cache import cache

from annotator.core.cache import window_count


def _expires_within(key: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while cache.get(key) is not None:  # expiry is the cache's own clock
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_counts_up_from_one_and_expires_with_its_window():
    assert [window_count("window-test", timeout=1) for _ in range(3)] == [1, 2, 3]
    assert cache.get("window-test") == 3
    assert _expires_within("window-test", 5), "the counter never expired"
    assert window_count("window-test", timeout=1) == 1


def test_a_later_count_does_not_push_the_expiry_back():
    """The window ends when its first count said: later counts carry a long timeout that must not apply."""
    window_count("window-ttl", timeout=1)
    assert window_count("window-ttl", timeout=100) == 2
    assert _expires_within("window-ttl", 5), "a later count moved the window's end"
