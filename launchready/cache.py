"""The shared cache, tolerant of a Redis that is down.

The cache holds rate-limit counters and page fragments: nothing that is not also in the
database. So when Redis is unreachable a read is a miss, a write is dropped and a warning
is logged, and every page is still served, drawn from the database. Counters (``incr``,
``decr``) still raise: ``launchready.ratelimit`` decides per limit whether to fail open.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _warn(operation: str) -> None:
    logger.warning("cache %s skipped: Redis is unreachable", operation, exc_info=True)


class TolerantRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE:
            _warn("read")
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE:
            _warn("read")
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE:
            _warn("read")
            return False

    def set(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().set(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")

    def add(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().add(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")
            return False

    def set_many(self, *args: Any, **kwargs: Any) -> list:
        try:
            return super().set_many(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")
            return []

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().touch(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")
            return False

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        try:
            return super().delete(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")
            return False

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().delete_many(*args, **kwargs)
        except UNREACHABLE:
            _warn("write")
