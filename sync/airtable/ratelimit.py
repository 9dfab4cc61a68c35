"""Pace requests to one Airtable base across every worker process.

Airtable allows 5 requests per second per base, as a strict sliding window, and locks the base
out for 30 seconds after a 6th. So requests are not sent in bursts of 5: each one reserves the
next free slot on an evenly spaced schedule (one every 1/rate seconds) and waits for it. With
Redis the schedule is shared by every process (one atomic script per request); without Redis,
by the threads of this process.

A request that wakes late (a busy machine) must not let the next ones catch up: a late send
followed by punctual ones packs six requests into one second. So once awake, a request pushes
the next free slot to a full interval after its actual send time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis

from missionos.connections import shared_redis

# Reserve the next slot for a base: returns how long the caller must wait, in microseconds.
_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local next_us = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, next_us)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 60000)
return slot - now_us
"""


# After sleeping: the next slot is at least one interval after now.
_SENT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local next_us = tonumber(redis.call('GET', KEYS[1]) or '0')
redis.call('SET', KEYS[1], tostring(math.max(next_us, now_us + tonumber(ARGV[1]))), 'PX', 60000)
return 0
"""


class RateLimiter(Protocol):
    def wait(self, base_id: str) -> float:
        """Block until a request to the base may be sent; return the seconds waited."""


class LocalRateLimiter:
    def __init__(self, requests_per_second: float) -> None:
        self.interval = 1.0 / requests_per_second
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, base_id: str) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(base_id, 0.0))
            self._next[base_id] = slot + self.interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            sent = time.monotonic()
            self._next[base_id] = max(self._next[base_id], sent + self.interval)
        return delay


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, requests_per_second: float) -> None:
        self.interval_us = int(1_000_000 / requests_per_second)
        self._reserve = client.register_script(_RESERVE)
        self._sent = client.register_script(_SENT)

    def wait(self, base_id: str) -> float:
        key = f"missionos:airtable-pace:{base_id}"
        delay = int(self._reserve(keys=[key], args=[self.interval_us]))
        seconds = delay / 1_000_000
        if seconds > 0:
            time.sleep(seconds)
        self._sent(keys=[key], args=[self.interval_us])
        return seconds


class NoRateLimiter:
    """For benchmarks against a fake with no limit."""

    def wait(self, base_id: str) -> float:
        return 0.0


_local_limiters: dict[float, LocalRateLimiter] = {}


def shared_rate_limiter(requests_per_second: float) -> RateLimiter:
    """The limiter every client of this deployment shares: Redis-backed when there is Redis."""
    client = shared_redis()
    if client is not None:
        return RedisRateLimiter(client, requests_per_second)
    return _local_limiters.setdefault(requests_per_second, LocalRateLimiter(requests_per_second))
