"""Live updates: tell every open page of an organization that something changed.

An event is only a kind, never data: "plan" (a check-in, a task moved, a record edited or
synced) or "sync" (a run started, advanced or ended). A page that hears one fetches its
fragments again through the ordinary views, so each member sees only what they may see.

Events are published after the transaction commits, never for rolled-back work, on Redis
pub/sub, so events raised in any web process or Celery worker reach every stream. Pub/sub keeps
nothing: a page that (re)connects renders the current state first, then listens. Without Redis
(the SQLite demo) nothing is published, and without Redis or without an ASGI server pages poll
the same fragments instead.

Comments carry one detail, the objective whose page shows them ("comments:<objective id>",
published by `publish_comments`): a page hears it as the event "comments-<objective id>", so
only the pages of that objective fetch their comment threads again, not every open page.

One more kind never reaches a page: a membership notice ("membership:<user id>", published by
`publish_membership` when a member's role changes or they leave), on which that user's open
streams check again whether they may still listen (orgs/live.py), and end if not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import redis
import redis.asyncio
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import transaction
from django.http import HttpRequest

from missionos.plan_cache import plan_changed
from missionos.redis_clients import shared_redis

logger = logging.getLogger(__name__)

PLAN = "plan"
SYNC = "sync"
KINDS = (PLAN, SYNC)
COMMENTS = "comments"  # with the objective's id: see publish_comments
MEMBERSHIP = "membership"  # for the streams themselves, not pages: see publish_membership
KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from closing an idle stream
RECONNECT_MS = 2000  # how soon a browser reconnects a dropped stream
QUEUE_SIZE = 16  # events waiting for one slow page; more are dropped (a page refetches anyway)
_CHANNEL_PREFIX = "missionos:org-events:"


def live_updates_enabled(request: HttpRequest) -> bool:
    """Whether pages can listen to a stream or must poll: a stream needs Redis to hear events
    and an ASGI server to hold it open. Under WSGI (`runserver`, Django's live test server) an
    endless response would pin a worker thread for good."""
    return bool(settings.REDIS_URL) and isinstance(request, ASGIRequest)


def _channel(organization_id: int) -> str:
    return f"{_CHANNEL_PREFIX}{organization_id}"


def publish(organization_id: int, kind: str) -> None:
    """Announce a change once the current transaction commits (at once outside one). A plan
    change also retires what was cached from the organization's plan (`plan_version`); a sync
    run's progress retires it through the save of the run (orgs/apps.py)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if kind == PLAN:
        plan_changed(organization_id)
    transaction.on_commit(lambda: _send(organization_id, kind))


def comments_event(objective_id: int) -> str:
    """The event name an objective's page listens to for its comments (and its key results')."""
    return f"{COMMENTS}-{objective_id}"


def publish_comments(organization_id: int, objective_id: int | None) -> None:
    """Once the transaction commits, tell the objective's open pages that a comment on it or
    on one of its key results was added, edited or deleted. A key result without an objective
    has no page to tell (None: nothing is sent)."""
    if objective_id is None:
        return
    transaction.on_commit(lambda: _send(organization_id, f"{COMMENTS}:{objective_id}"))


def publish_membership(organization_id: int, user_id: int) -> None:
    """Once the transaction commits, tell the user's open streams of the organization that
    their membership changed (a new role, or none): they check again and end if the viewer
    may no longer listen as before. Only the streams hear it, never a page."""
    transaction.on_commit(lambda: _send(organization_id, f"{MEMBERSHIP}:{user_id}"))


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


def _frame(kind: str) -> str:
    return f"event: {kind}\ndata: {kind}\n\n"


class _Hub:
    """One Redis subscription per process (per event loop), fanned out to every stream open in
    it: a thousand dashboards cost one Redis connection, and an event is read once."""

    def __init__(self) -> None:
        self.listeners: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self.reader: asyncio.Task | None = None
        self.ready: asyncio.Event | None = None

    async def join(self, organization_id: int) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.listeners[organization_id].add(queue)
        if self.reader is None or self.reader.done():
            self.ready = asyncio.Event()
            self.reader = asyncio.create_task(self._read(self.ready))
        try:
            await self.ready.wait()  # subscribed before the page is told it is live
        except BaseException:
            # Left while joining (the browser went away): let go of the queue here, since the
            # stream's own `finally` is not reached; else the subscription outlives everyone.
            self.leave(organization_id, queue)
            raise
        return queue

    def leave(self, organization_id: int, queue: asyncio.Queue) -> None:
        streams = self.listeners.get(organization_id)
        if streams is not None:
            streams.discard(queue)
            if not streams:
                del self.listeners[organization_id]
        if not self.listeners and self.reader is not None:
            self.reader.cancel()  # nobody listening: let the subscription go
            self.reader = None

    async def _read(self, ready: asyncio.Event) -> None:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(_CHANNEL_PREFIX + "*")
            ready.set()
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                item = _item(_decode(message.get("data")))
                organization_id = _decode(message.get("channel")).removeprefix(_CHANNEL_PREFIX)
                if item is None or not organization_id.isdigit():
                    continue
                for queue in list(self.listeners.get(int(organization_id), ())):
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(item)
        except (redis.RedisError, OSError):
            logger.warning("lost the Redis subscription for live events", exc_info=True)
        finally:
            ready.set()
            # Streams end, and browsers reconnect (and re-render) once Redis is back.
            for streams in self.listeners.values():
                for queue in streams:
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()


def _item(data: str) -> str | tuple[str, int] | None:
    """What a message puts on the streams' queues: a page's event name, (MEMBERSHIP, user id),
    or None for anything else."""
    if data in KINDS:
        return data
    kind, _, number = data.partition(":")
    if not number.isdigit():
        return None
    if kind == COMMENTS:
        return comments_event(int(number))
    if kind == MEMBERSHIP:
        return (MEMBERSHIP, int(number))
    return None


def _decode(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Hub] = weakref.WeakKeyDictionary()


def _hub() -> _Hub:
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = _Hub()
    return _hubs[loop]


Recheck = Callable[[], Awaitable[bool]]


async def stream(
    organization_id: int, *, user_id: int | None = None, recheck: Recheck | None = None
) -> AsyncIterator[str]:
    """The organization's events as server-sent events, until the browser goes away (or the
    Redis subscription is lost: the browser then reconnects by itself).

    With `recheck` (whether the viewer may still listen), the stream also ends once it answers
    False: asked on every membership notice about `user_id`, and every
    settings.EVENT_STREAM_RECHECK_SECONDS in case a notice was lost or the change was made
    without one (the admin, the shell, a logout elsewhere)."""
    hub = _hub()
    queue = await hub.join(organization_id)
    loop = asyncio.get_running_loop()
    every = settings.EVENT_STREAM_RECHECK_SECONDS
    # The first check at a random point of the interval: streams opened together (after a
    # restart) do not all check in the same instant ever after.
    next_check = loop.time() + every * random.uniform(0.5, 1.0) if recheck else float("inf")
    next_keepalive = loop.time() + KEEPALIVE_SECONDS
    try:
        yield f"retry: {RECONNECT_MS}\n\n"
        while True:
            wait = max(0.0, min(next_check, next_keepalive) - loop.time())
            try:
                item = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                now = loop.time()
                if now >= next_check:
                    if not await recheck():
                        return
                    next_check = loop.time() + every
                if now >= next_keepalive:
                    yield ": keepalive\n\n"
                    next_keepalive = now + KEEPALIVE_SECONDS
                continue
            if item is None:
                return
            if isinstance(item, tuple):  # a membership notice: not for the page
                if recheck and item[1] == user_id:
                    if not await recheck():
                        return
                    next_check = loop.time() + every
                continue
            yield _frame(item)
            next_keepalive = loop.time() + KEEPALIVE_SECONDS
    finally:  # also when the browser leaves and the stream is cancelled
        hub.leave(organization_id, queue)
