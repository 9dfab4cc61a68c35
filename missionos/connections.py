"""Clients for the services around the database, one per process and URL."""

from __future__ import annotations

import threading
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
    """Django's Redis cache client, with one connection pool and one client per process.

    Django builds a cache backend per thread and the stock client a pool per backend, and under
    ASGI every request runs in a thread of its own: each request opened, handshook and dropped
    Redis connections, and each cache call also built a new `redis.Redis` (hundreds of
    response callbacks). redis-py pools and clients are thread-safe and pools reset themselves
    after a fork, so one of each per server URL serves the whole process.
    """

    _clients: dict[tuple[str, tuple], redis.Redis] = {}
    _lock = threading.Lock()

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._options_key = tuple(sorted(self._pool_options.items(), key=lambda item: item[0]))

    def get_client(self, key=None, *, write=False) -> redis.Redis:
        server = self._servers[self._get_connection_pool_index(write)]
        client = self._clients.get((server, self._options_key))
        if client is None:
            with self._lock:
                client = self._clients.get((server, self._options_key))
                if client is None:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    client = self._clients[server, self._options_key] = self._client(
                        connection_pool=pool
                    )
        return client


class ProcessRedisCache(RedisCache):
    """settings.CACHES backend: RedisCache sharing its connections across threads."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ProcessRedisCacheClient
