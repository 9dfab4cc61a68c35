"""The process's Redis clients: one for live events, locks and the rate limiter, and one per
URL for the cache (django-redis, through `ProcessClientConnectionFactory`)."""

from __future__ import annotations

import threading
from functools import lru_cache

import redis
from django.conf import settings
from django_redis.pool import ConnectionFactory


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    # redis-py clients are thread-safe and their pools reset themselves after a fork.
    return redis.Redis.from_url(url)


def shared_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment runs without Redis."""
    return _client_for(settings.REDIS_URL) if settings.REDIS_URL else None


class ProcessClientConnectionFactory(ConnectionFactory):
    """django-redis's connection factory (settings.CACHES OPTIONS["CONNECTION_FACTORY"]),
    keeping one client per URL for the whole process.

    Django builds a cache backend per thread, and under ASGI every request runs in a thread of
    its own: django-redis shares its pool between them but builds a new `redis.Redis` for each
    backend, which registers some 170 response callbacks, a tenth of a cached dashboard's
    time. redis-py clients are thread-safe, so one per URL serves every thread."""

    _clients: dict[str, redis.Redis] = {}
    _lock = threading.Lock()

    def connect(self, url: str) -> redis.Redis:
        with self._lock:  # once per cache backend, i.e. per request thread: never contended long
            if url not in self._clients:
                self._clients[url] = super().connect(url)
            return self._clients[url]
