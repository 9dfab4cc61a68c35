"""Clients for the services around the database, one per process and URL."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def shared_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment runs without Redis."""
    return _redis_client(settings.REDIS_URL) if settings.REDIS_URL else None


class _ProcessRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, on the process's one client per URL (`_redis_client`).

    Django builds a cache backend per thread and the stock client a pool per backend, and under
    ASGI every request runs in a thread of its own: each request opened, handshook and dropped
    Redis connections, and each cache call also built a new `redis.Redis` (hundreds of
    response callbacks). redis-py clients are thread-safe and their pools reset themselves
    after a fork. Pool OPTIONS in settings.CACHES are therefore not used (none are set)."""

    def get_client(self, key=None, *, write=False) -> redis.Redis:
        return _redis_client(self._servers[self._get_connection_pool_index(write)])


class ProcessRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache sharing its connections across threads."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ProcessRedisCacheClient
