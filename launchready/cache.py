"""The shared cache, tolerant of a Redis that is down.

The cache holds rate-limit counters and page fragments: nothing that is not also in the
database. So when Redis is unreachable a read is a miss, a write is dropped and a warning
is logged, and every page is still served, drawn from the database. Counters (``incr``,
``decr``) still raise: ``launchready.ratelimit`` decides per limit whether to fail open.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _tolerant(operation: str, fallback: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the cache call; if Redis is unreachable, log it and answer ``fallback``."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE:
                logger.warning("cache %s skipped: Redis is unreachable", operation, exc_info=True)
                return fallback() if callable(fallback) else fallback

        return call

    return wrap


class OneClientPerPool(RedisCacheClient):
    """Django's Redis client builds a ``redis.Redis`` for every cache call, and each copies the
    library's table of response callbacks: three calls of a page kept in the cache spent a
    millisecond there. One client per connection pool is enough (clients are thread-safe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TolerantRedisCache(RedisCache):
    """Reads answer their miss value and writes do nothing while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = OneClientPerPool

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE:
            logger.warning("cache read skipped: Redis is unreachable", exc_info=True)
            return default

    get_many = _tolerant("read", dict)(RedisCache.get_many)
    has_key = _tolerant("read", False)(RedisCache.has_key)
    set = _tolerant("write")(RedisCache.set)
    add = _tolerant("write", False)(RedisCache.add)
    set_many = _tolerant("write", list)(RedisCache.set_many)
    touch = _tolerant("write", False)(RedisCache.touch)
    delete = _tolerant("write", False)(RedisCache.delete)
    delete_many = _tolerant("write")(RedisCache.delete_many)

    @_tolerant("write")
    def clear(self) -> None:
        """With a ``KEY_PREFIX``, only the keys under it: a Redis database shared with others
        (the test run's parallel workers each have a prefix) keeps theirs. Without one, the
        whole database, as Django's RedisCache does."""
        if not self.key_prefix:
            return super().clear()
        client = self._cache.get_client(None, write=True)
        keys = list(client.scan_iter(match=f"{glob_escape(self.key_prefix)}:*"))
        if keys:
            client.delete(*keys)
        return None


def glob_escape(text: str) -> str:
    """``text`` matched literally in a Redis SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
