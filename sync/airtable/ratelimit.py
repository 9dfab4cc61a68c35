"""Pace requests to one Airtable base across every worker process.

Airtable allows 5 requests per second per base, as a strict sliding window, and locks the base
out for 30 seconds after a 6th. The limiter keeps the server's rule with a margin, at
``rate`` requests per second (AIRTABLE_REQUESTS_PER_SECOND):

- at most ``ceil(rate)`` slots in any ``ceil(rate) / rate`` seconds (5 in 1.03 s at 4.85/s);
- never two actual sends closer than ``1 / ceil(rate)`` (200 ms): even pacing, no bursts;
- never ``ceil(rate) + 1`` actual sends within ``1 s + JITTER_MARGIN``.

A request reserves the earliest slot that keeps all three, waits for it, then records when it
really went out. The first rule counts from reserved slots, so requests that wake a few
milliseconds late (a busy machine) do not push every later one back: the window's slack over
five gaps absorbs it. The other two count from actual sends, so a request that wakes very late
cannot let the next ones catch up into a burst or pack six into a second.

With Redis the recent sends live in Redis, shared by every process (one atomic script per
reservation); without Redis, in this process.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from typing import Protocol

import redis

from missionos.connections import shared_redis

# How far apart, beyond 1 s, six actual sends must be: covers the difference in how long two
# requests take from here to Airtable's clock.
JITTER_MARGIN = 0.015

# KEYS[1]: reserved slots (sorted set, score = microseconds), KEYS[2]: actual send times (hash).
# ARGV: allowed, window_us, hard_window_us, gap_us, token. Returns the wait in microseconds.
_RESERVE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local allowed = tonumber(ARGV[1])
local recent = redis.call('ZRANGE', KEYS[1], -allowed, -1, 'WITHSCORES')
local count = #recent / 2
local slot = now_us
if count > 0 then
  local last = redis.call('HGET', KEYS[2], recent[count * 2 - 1]) or recent[count * 2]
  slot = math.max(slot, tonumber(last) + tonumber(ARGV[4]))
end
if count >= allowed then
  local sent = tonumber(redis.call('HGET', KEYS[2], recent[1]) or recent[2])
  slot = math.max(slot, tonumber(recent[2]) + tonumber(ARGV[2]), sent + tonumber(ARGV[3]))
end
redis.call('ZADD', KEYS[1], slot, ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], slot)
local old = redis.call('ZRANGE', KEYS[1], 0, -(allowed + 1))
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  redis.call('HDEL', KEYS[2], unpack(old))
end
redis.call('PEXPIRE', KEYS[1], 60000)
redis.call('PEXPIRE', KEYS[2], 60000)
return slot - now_us
"""

# After sleeping: record the actual send time, if later than the reserved slot.
_SENT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local reserved = redis.call('HGET', KEYS[2], ARGV[1])
if reserved and now_us > tonumber(reserved) then
  redis.call('HSET', KEYS[2], ARGV[1], now_us)
end
return 0
"""


class RateLimiter(Protocol):
    def wait(self, base_id: str) -> float:
        """Block until a request to the base may be sent; return the seconds waited."""


class _Pace:
    """The three rules for one request rate (see the module docstring)."""

    def __init__(self, requests_per_second: float) -> None:
        self.allowed = max(1, math.ceil(requests_per_second))
        self.window = self.allowed / requests_per_second
        self.hard_window = min(self.window, 1.0 + JITTER_MARGIN)
        self.gap = 1.0 / self.allowed

    def next_slot(self, now: float, recent: list[list[float]]) -> float:
        """The earliest send time after `recent`: [reserved, sent] of the latest, oldest first."""
        slot = now
        if recent:
            slot = max(slot, recent[-1][1] + self.gap)
        if len(recent) >= self.allowed:
            reserved, sent = recent[-self.allowed]
            slot = max(slot, reserved + self.window, sent + self.hard_window)
        return slot


class LocalRateLimiter:
    def __init__(self, requests_per_second: float) -> None:
        self.pace = _Pace(requests_per_second)
        self._sends: dict[str, list[list[float]]] = {}  # per base: [reserved, sent], in order
        self._lock = threading.Lock()

    def wait(self, base_id: str) -> float:
        with self._lock:
            now = time.monotonic()
            sends = self._sends.setdefault(base_id, [])
            slot = self.pace.next_slot(now, sends)
            send = [slot, slot]
            sends.append(send)
            del sends[: -self.pace.allowed]
        delay = slot - now
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            send[1] = max(slot, time.monotonic())
        return max(delay, 0.0)


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, requests_per_second: float) -> None:
        pace = _Pace(requests_per_second)
        self._args = [
            pace.allowed,
            *(int(seconds * 1_000_000) for seconds in (pace.window, pace.hard_window, pace.gap)),
        ]
        self._reserve = client.register_script(_RESERVE)
        self._sent = client.register_script(_SENT)

    def wait(self, base_id: str) -> float:
        keys = [f"missionos:airtable-slots:{base_id}", f"missionos:airtable-sent:{base_id}"]
        token = uuid.uuid4().hex
        delay = int(self._reserve(keys=keys, args=[*self._args, token])) / 1_000_000
        if delay > 0:
            time.sleep(delay)
        self._sent(keys=keys, args=[token])
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
