"""Clients for the services around the database, one per process and URL."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def shared_redis() -> redis.Redis | None:
    """The process's Redis client, or None when the deployment runs without Redis."""
    return _redis_client(settings.REDIS_URL) if settings.REDIS_URL else None
