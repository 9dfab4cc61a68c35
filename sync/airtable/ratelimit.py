"""Pace requests to one Airtable base across every worker process.

Airtable allows 5 requests per second per base, as a strict sliding window, and locks the base
out for 30 seconds after a 6th. The limiter keeps the same rule the server does, with a margin:
at most ``ceil(rate)`` sends in any ``ceil(rate) / rate`` seconds (5 in any 1.03 s at 4.85/s),
and never two sends closer than ``1 / ceil(rate)`` (200 ms), so requests go evenly, never in a
burst of 5.

Each request reserves the earliest slot that keeps both rules and waits for it. A request that
wakes late (a busy machine) records its actual send time, so later requests are measured from
when it really went out; because the window holds a little slack over five even gaps, the
requests after a late one catch up within a second or two instead of losing the time for good.

With Redis the recent send times live in one sorted set per base, shared by every process (one
atomic script per reservation); without Redis, in this process.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from typing import Protocol

import redis

from missionos.connections import shared_redis

# KEYS[1]: the base's recent sends (sorted set, score = send time in microseconds).
# ARGV: allowed, window_us, gap_us, token. Returns how long the caller must wait, in microseconds.
_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local allowed = tonumber(ARGV[1])
local recent = redis.call('ZRANGE', KEYS[1], -allowed, -1, 'WITHSCORES')
local slot = now_us
local count = #recent / 2
if count > 0 then
  slot = math.max(slot, tonumber(recent[count * 2]) + tonumber(ARGV[3]))
end
if count >= allowed then
  slot = math.max(slot, tonumber(recent[2]) + tonumber(ARGV[2]))
end
redis.call('ZADD', KEYS[1], slot, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(allowed + 1))
redis.call('PEXPIRE', KEYS[1], 60000)
return slot - now_us
"""

# After sleeping: the reservation's time becomes the actual send time, if that is later.
_SENT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local reserved = redis.call('ZSCORE', KEYS[1], ARGV[1])
if reserved and now_us > tonumber(reserved) then
  redis.call('ZADD', KEYS[1], 'XX', now_us, ARGV[1])
end
return 0
"""


class RateLimiter(Protocol):
    def wait(self, base_id: str) -> float:
        """Block until a request to the base may be sent; return the seconds waited."""


class _Pace:
    """The rule for one request rate: ``allowed`` sends per ``window`` seconds, ``gap`` apart."""

    def __init__(self, requests_per_second: float) -> None:
        self.allowed = max(1, math.ceil(requests_per_second))
        self.window = self.allowed / requests_per_second
        self.gap = 1.0 / self.allowed

    def next_slot(self, now: float, recent: list[float]) -> float:
        """The earliest send time after `recent` (the latest sends, oldest first)."""
        slot = now
        if recent:
            slot = max(slot, recent[-1] + self.gap)
        if len(recent) >= self.allowed:
            slot = max(slot, recent[-self.allowed] + self.window)
        return slot


class LocalRateLimiter:
    def __init__(self, requests_per_second: float) -> None:
        self.pace = _Pace(requests_per_second)
        self._sends: dict[str, list[list[float]]] = {}  # per base: [send time] cells, in order
        self._lock = threading.Lock()

    def wait(self, base_id: str) -> float:
        with self._lock:
            now = time.monotonic()
            sends = self._sends.setdefault(base_id, [])
            cell = [self.pace.next_slot(now, [sent for (sent,) in sends])]
            sends.append(cell)
            del sends[: -self.pace.allowed]
        delay = cell[0] - now
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            cell[0] = max(cell[0], time.monotonic())
        return max(delay, 0.0)


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, requests_per_second: float) -> None:
        pace = _Pace(requests_per_second)
        self._args = [pace.allowed, int(pace.window * 1_000_000), int(pace.gap * 1_000_000)]
        self._reserve = client.register_script(_RESERVE)
        self._sent = client.register_script(_SENT)

    def wait(self, base_id: str) -> float:
        key = f"missionos:airtable-sends:{base_id}"
        token = uuid.uuid4().hex
        delay = int(self._reserve(keys=[key], args=[*self._args, token])) / 1_000_000
        if delay > 0:
            time.sleep(delay)
        self._sent(keys=[key], args=[token])
        return delay


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
