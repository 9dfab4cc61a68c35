"""One sync of a connection at a time, across every worker.

A Redis lock when there is Redis, else a lock in this process (the zero-setup mode runs a
single process).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

import redis
from django.conf import settings

from missionos.redis_clients import shared_redis

logger = logging.getLogger(__name__)


class SyncBusy(Exception):
    """Another sync of this connection is queued or running."""


_local_locks: dict[int, threading.Lock] = {}


def lock_is_held(connection_id: int) -> bool:
    """Whether some worker (or this process) is syncing the connection right now."""
    client = shared_redis()
    if client is not None:
        return bool(client.exists(f"missionos:sync-lock:{connection_id}"))
    lock = _local_locks.get(connection_id)
    return bool(lock and lock.locked())


@contextmanager
def connection_lock(connection_id: int):
    """Hold the connection's lock while a run executes, or raise SyncBusy at once. Yields
    `extend(seconds, replace_ttl=True)`, which a long run calls to keep the Redis lock."""
    client = shared_redis()
    if client is not None:
        lock = client.lock(
            f"missionos:sync-lock:{connection_id}", timeout=settings.SYNC_LOCK_TIMEOUT_SECONDS
        )
        if not lock.acquire(blocking=False):
            raise SyncBusy("Another worker is syncing this connection right now.")
        try:
            yield lock.extend
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("sync lock of connection %s had expired", connection_id)
        return
    lock = _local_locks.setdefault(connection_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncBusy("Another sync of this connection is running in this process.")
    try:
        yield lambda _seconds, replace_ttl=True: None
    finally:
        lock.release()


# An organization's unique values (a person's email) are shared by all its connections: a run
# reads who holds each once, before writing its first page of that table, so two connections of
# one organization must not write such a table at the same time, or both insert the same email
# and one run dies on the unique constraint (bench/fleet.py found it: 1-3 bases per
# organization, the same team in each, synced side by side). Held only while that table is
# written (people are a small table), waited for, never skipped.
_local_unique_locks: dict[int, threading.Lock] = {}
_local_unique_guard = threading.Lock()


@contextmanager
def organization_unique_lock(organization_id: int):
    """Wait for (up to SYNC_LOCK_TIMEOUT_SECONDS) and hold the organization's lock on its
    unique values. Yields `keep()`, to call while a long table is written. Raises SyncError
    if another run keeps it longer than that."""
    from sync.airtable.client import SyncError

    timeout = settings.SYNC_LOCK_TIMEOUT_SECONDS
    busy = "Another sync of this organization kept writing its people too long; try again."
    client = shared_redis()
    if client is not None:
        lock = client.lock(f"missionos:unique-lock:{organization_id}", timeout=timeout)
        if not lock.acquire(blocking=True, blocking_timeout=timeout):
            raise SyncError(busy)
        try:
            yield lambda: lock.extend(timeout, replace_ttl=True)
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("unique lock of organization %s had expired", organization_id)
        return
    with _local_unique_guard:
        lock = _local_unique_locks.setdefault(organization_id, threading.Lock())
    if not lock.acquire(timeout=timeout):
        raise SyncError(busy)
    try:
        yield lambda: None
    finally:
        lock.release()


_local_push_locks: dict[int, threading.Lock] = {}


@contextmanager
def push_lock(connection_id: int):
    """One push (write-back drain) of a connection at a time; separate from the sync's lock,
    so a person's edit is written while a full sync runs. Raises SyncBusy at once if held.
    Yields `keep()`, which the push calls after each request: the Redis lock lapses
    SYNC_LOCK_TIMEOUT_SECONDS after the last one, so a killed worker's push is taken over."""
    client = shared_redis()
    if client is not None:
        timeout = settings.SYNC_LOCK_TIMEOUT_SECONDS
        lock = client.lock(f"missionos:push-lock:{connection_id}", timeout=timeout)
        if not lock.acquire(blocking=False):
            raise SyncBusy("Another worker is writing this connection's changes to Airtable.")
        try:
            yield lambda: lock.extend(timeout, replace_ttl=True)
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("push lock of connection %s had expired", connection_id)
        return
    lock = _local_push_locks.setdefault(connection_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncBusy("Another push of this connection is running in this process.")
    try:
        yield lambda: None
    finally:
        lock.release()


# The change feed's own lock: one poll of a connection's payloads at a time, so two polls never
# apply the same payloads twice; never the run lock above, so a batch of live changes neither
# waits for nor holds up a full or incremental run. A poll that finds it taken leaves a note
# for the holder to poll once more before letting go: a ping that arrives while a batch is
# being applied is not left for the next scheduled poll.
_local_feed_locks: dict[int, threading.Lock] = {}
_local_feed_again: set[int] = set()


@contextmanager
def feed_lock(connection_id: int):
    """Yield `(acquired, extend)`; when not acquired, the holder is told to poll again."""
    client = shared_redis()
    if client is not None:
        lock = client.lock(
            f"missionos:feed-lock:{connection_id}", timeout=settings.SYNC_LOCK_TIMEOUT_SECONDS
        )
        if not lock.acquire(blocking=False):
            client.set(f"missionos:feed-again:{connection_id}", 1, ex=60)
            yield False, None
            return
        try:
            yield True, lock.extend
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("feed lock of connection %s had expired", connection_id)
        return
    lock = _local_feed_locks.setdefault(connection_id, threading.Lock())
    if not lock.acquire(blocking=False):
        _local_feed_again.add(connection_id)
        yield False, None
        return
    try:
        yield True, lambda _seconds, replace_ttl=True: None
    finally:
        lock.release()


def feed_poll_again(connection_id: int) -> bool:
    """Whether a poll came while the lock was held (and forget it): poll once more."""
    client = shared_redis()
    if client is not None:
        return bool(client.getdel(f"missionos:feed-again:{connection_id}"))
    if connection_id in _local_feed_again:
        _local_feed_again.discard(connection_id)
        return True
    return False
