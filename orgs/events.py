"""Live updates: tell every open page of an organization that something changed.

An event is only a kind, never data: "plan" (a check-in, a task moved, a record edited or
synced) or "sync" (a run started, advanced or ended). A page that hears one fetches its
fragments again through the ordinary views, so each member sees only what they may see.

Events are published after the transaction commits, never for rolled-back work, on Redis
pub/sub, so events raised in any web process or Celery worker reach every stream. Pub/sub keeps
nothing: a page that (re)connects renders the current state first, then listens. Without Redis
(the SQLite demo) nothing is published, and without Redis or without an ASGI server pages poll
the same fragments instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import redis
import redis.asyncio
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import HttpRequest

from missionos.connections import shared_redis

logger = logging.getLogger(__name__)

PLAN = "plan"
SYNC = "sync"
KINDS = (PLAN, SYNC)
KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
RECONNECT_MS = 2000  # how soon a browser reconnects a dropped stream


def live_updates_enabled(request: HttpRequest) -> bool:
    """Whether pages can listen to a stream or must poll: a stream needs Redis to hear events
    and an ASGI server to hold it open. Under WSGI (`runserver`, Django's live test server) an
    endless response would pin a worker thread for good."""
    return bool(settings.REDIS_URL) and isinstance(request, ASGIRequest)


def _channel(organization_id: int) -> str:
    return f"missionos:org-events:{organization_id}"


def publish(organization_id: int, kind: str) -> None:
    """Announce a change once the current transaction commits (at once outside one)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    transaction.on_commit(lambda: _send(organization_id, kind))


def _send(organization_id: int, kind: str) -> None:
    client = shared_redis()
    if client is None:
        return
    try:
        client.publish(_channel(organization_id), kind)
    except redis.RedisError:
        # Live updates are a courtesy: the change itself is committed and pages catch up when
        # they next render or reconnect.
        logger.warning("could not publish a %s event for organization %s", kind, organization_id)


def _kind(message: dict | None) -> str | None:
    if not message or message.get("type") != "message":
        return None
    data = message.get("data")
    kind = data.decode() if isinstance(data, bytes) else None
    return kind if kind in KINDS else None


def _frame(kind: str) -> str:
    return f"event: {kind}\ndata: {kind}\n\n"


async def stream(organization_id: int) -> AsyncIterator[str]:
    """The organization's events as server-sent events, until the browser goes away."""
    client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(_channel(organization_id))
        yield f"retry: {RECONNECT_MS}\n\n"
        quiet_since = time.monotonic()
        while True:
            # None also comes back early (for an ignored subscribe confirmation), so the
            # keepalive goes by the clock, not by each empty answer.
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=KEEPALIVE_SECONDS
            )
            kind = _kind(message)
            if kind is not None:
                yield _frame(kind)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
                yield ": keepalive\n\n"
                quiet_since = time.monotonic()
    finally:  # also when the browser leaves: Django cancels the stream
        await pubsub.aclose()
        await client.aclose()
