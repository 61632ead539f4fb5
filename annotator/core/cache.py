"""The Redis cache, made to degrade instead of fail while Redis is unreachable.

The cache only holds what can be recomputed or forgotten (login failure counts, rate-limit
windows): while Redis is down a read misses and a write is dropped, so pages and the API keep
serving instead of answering 500 for every request that touches the cache.
"""

import logging

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


def _tolerant(method, fallback):
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            logger.warning("cache unreachable (%s): %s", method.__name__, exc)
            return fallback(*args) if callable(fallback) else fallback

    call.__name__ = method.__name__
    return call


def _missing_key(key, delta):
    raise ValueError(f"Key '{key}' not found (the cache is unreachable).")


class TolerantRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept_clients = {}  # by connection pool

    def get_client(self, key=None, *, write=False):
        """One Redis client per connection pool, kept: Django makes a new one for every call,
        which cost the rate limiter (a call on every API request) a third of its time. A client
        is safe to share between threads; each command takes a connection from the pool."""
        pool = self._get_connection_pool(write)
        client = self._kept_clients.get(pool)
        if client is None:
            client = self._kept_clients[pool] = self._client(connection_pool=pool)
        return client

    add = _tolerant(RedisCacheClient.add, False)
    get = _tolerant(RedisCacheClient.get, lambda key, default: default)
    set = _tolerant(RedisCacheClient.set, None)
    touch = _tolerant(RedisCacheClient.touch, False)
    delete = _tolerant(RedisCacheClient.delete, False)
    get_many = _tolerant(RedisCacheClient.get_many, lambda keys: {})
    has_key = _tolerant(RedisCacheClient.has_key, False)
    incr = _tolerant(RedisCacheClient.incr, _missing_key)
    set_many = _tolerant(RedisCacheClient.set_many, lambda data, timeout: [])
    delete_many = _tolerant(RedisCacheClient.delete_many, None)
    clear = _tolerant(RedisCacheClient.clear, False)


class TolerantRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = TolerantRedisCacheClient


def window_count(key: str, *, timeout: int) -> int:
    """Add one to the counter `key`, created to expire in `timeout` seconds; the new count.

    On Redis one round trip (INCR and EXPIRE NX pipelined): Django's incr asks EXISTS first,
    and a rate limiter pays this on every API request. Other backends: add, else incr.
    Raises what the cache raises when unreachable.
    """
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        pipeline = backend._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipeline.incr(full_key)
        pipeline.expire(full_key, timeout, nx=True)
        count, _expiry_set = pipeline.execute()
        return count
    try:
        return backend.incr(key)
    except ValueError:  # the window's first request
        return 1 if backend.add(key, 1, timeout=timeout) else backend.incr(key)
