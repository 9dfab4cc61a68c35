"""The process's Redis client for live events, locks and the rate limiter (the cache has its
own pool: django-redis, settings.CACHES)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    # redis-py clients are thread-safe and their pools reset themselves after a fork.
    return redis.Redis.from_url(url)


def shared_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment runs without Redis."""
    return _client_for(settings.REDIS_URL) if settings.REDIS_URL else None
