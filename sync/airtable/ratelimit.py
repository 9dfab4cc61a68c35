"""Pace requests to one Airtable base across every worker process.

Airtable allows 5 requests per second per base, as a strict sliding window, and locks the base
out for 30 seconds after a 6th. The limiter keeps the server's rule with a margin, at
``rate`` requests per second (AIRTABLE_REQUESTS_PER_SECOND):

- at most ``ceil(rate)`` slots in any ``ceil(rate) / rate`` seconds (5 in 1.02 s at 4.9/s);
- never two actual sends closer than ``1 / ceil(rate)`` (200 ms): even pacing, no bursts;
- never ``ceil(rate) + 1`` actual sends within ``1 s + JITTER_MARGIN``, where each earlier
  request counts from when its answer came back (``done``), once it has.

A request reserves the earliest slot that keeps the first rule and the gap, and sleeps until
then. Awake, it checks the other two against the requests that have actually gone out, and
waits longer if an earlier one went late (a busy machine, another worker); only then is it
recorded as sent. The window counts from reserved slots, so requests that wake a few
milliseconds late do not push every later one back (the window's slack over five gaps absorbs
it), while the check on actual sends means no lateness, in any process, can pack two requests
closer than the gap or six into a second.

Why from the answer: Airtable counts a request when it arrives, which is some time after the
limiter let it go (the worker building it, a busy machine, the network) and before its answer
is back. The fleet benchmark (bench/fleet.py: 4 workers and beat on 2 busy cores) saw six
arrivals within 0.89 s, and lockouts, while the limiter's own send times were 1.015 s apart:
the first of the six had arrived over 100 ms after it was let go. Counted from its answer, the
sixth cannot go until a second after the first has certainly arrived, however late it went.

With Redis the recent sends live in Redis, shared by every process (one atomic script per
reservation); without Redis, in this process.

Both limiters read the time and sleep through functions they are given (the real ones by
default), so a test can run them on a clock it moves itself and assert on exact send times.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import redis

from missionos.redis_clients import shared_redis

# How far apart, beyond 1 s, six actual sends must be: covers the difference in how long two
# requests take from here to Airtable's clock.
JITTER_MARGIN = 0.015

# KEYS[1]: reserved slots (sorted set, score = microseconds); KEYS[2]: actual sends (the same).
# ARGV: allowed, window_us, gap_us, token[, now_us: the time, when not Redis's own clock].
# Returns the wait in microseconds.
_RESERVE = """
local now_us = tonumber(ARGV[5])
if not now_us then
  local now = redis.call('TIME')
  now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
end
local allowed = tonumber(ARGV[1])
local recent = redis.call('ZRANGE', KEYS[1], -allowed, -1, 'WITHSCORES')
local count = #recent / 2
local slot = now_us
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

# Once awake: may the request go now, given what has actually been sent? If so, record it
# and return 0; if not (an earlier request went late), return how much longer to wait.
# KEYS[3]: the same sends, each moved to when its answer came back once it has (_DONE); the
# one-second rule counts from these. ARGV: allowed, hard_window_us, gap_us, token[, now_us].
_SEND = """
local now_us = tonumber(ARGV[5])
if not now_us then
  local now = redis.call('TIME')
  now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
end
local allowed = tonumber(ARGV[1])
local sent = redis.call('ZREVRANGE', KEYS[2], 0, allowed - 1, 'WITHSCORES')
local earliest = now_us
if #sent > 0 then
  earliest = math.max(earliest, tonumber(sent[2]) + tonumber(ARGV[3]))
end
local answered = redis.call('ZREVRANGE', KEYS[3], 0, allowed - 1, 'WITHSCORES')
if #answered >= allowed * 2 then
  earliest = math.max(earliest, tonumber(answered[allowed * 2]) + tonumber(ARGV[2]))
end
if earliest > now_us then
  return earliest - now_us
end
redis.call('ZADD', KEYS[2], now_us, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(allowed + 1))
redis.call('PEXPIRE', KEYS[2], 60000)
redis.call('ZADD', KEYS[3], now_us, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(allowed + 1))
redis.call('PEXPIRE', KEYS[3], 60000)
return 0
"""

# The answer to the send `token` came back: it counts from now (if still among the latest).
# KEYS[1]: the answered sends. ARGV: token[, now_us].
_DONE = """
local now_us = tonumber(ARGV[2])
if not now_us then
  local now = redis.call('TIME')
  now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
end
redis.call('ZADD', KEYS[1], 'XX', 'GT', now_us, ARGV[1])
return 0
"""


class RateLimiter(Protocol):
    def wait(self, base_id: str) -> float:
        """Block until a request to the base may be sent; return the seconds waited."""

    def done(self, base_id: str) -> None:
        """The answer to this thread's latest request to the base came back (or it failed)."""


class _Pace:
    """The three rules for one request rate (see the module docstring)."""

    def __init__(self, requests_per_second: float) -> None:
        self.allowed = max(1, math.ceil(requests_per_second))
        self.window = self.allowed / requests_per_second
        self.hard_window = min(self.window, 1.0 + JITTER_MARGIN)
        self.gap = 1.0 / self.allowed

    def slot(self, now: float, reserved: Sequence[float]) -> float:
        """The slot to reserve after the latest `reserved` slots (oldest first)."""
        slot = now
        if reserved:
            slot = max(slot, reserved[-1] + self.gap)
        if len(reserved) >= self.allowed:
            slot = max(slot, reserved[-self.allowed] + self.window)
        return slot

    def earliest_send(
        self, now: float, sent: Sequence[float], answered: Sequence[float] | None = None
    ) -> float:
        """When a request may go, given the latest actual sends (oldest first) and the same
        sends moved to when their answers came back (any order; `sent` when not given)."""
        earliest = now
        if sent:
            earliest = max(earliest, sent[-1] + self.gap)
        answered = sorted(sent if answered is None else answered)
        if len(answered) >= self.allowed:
            earliest = max(earliest, answered[-self.allowed] + self.hard_window)
        return earliest


class LocalRateLimiter:
    def __init__(
        self,
        requests_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.pace = _Pace(requests_per_second)
        self._clock = clock
        self._sleep = sleep
        # Per base: the latest reserved slots and the latest actual sends, oldest first.
        self._reserved: dict[str, deque[float]] = {}
        self._sent: dict[str, deque[float]] = {}
        # The same sends as one-item lists, moved to when their answers came back (done).
        self._answered: dict[str, deque[list[float]]] = {}
        self._mine = threading.local()  # this thread's latest send, per base
        self._lock = threading.Lock()

    def wait(self, base_id: str) -> float:
        with self._lock:
            now = self._clock()
            reserved = self._reserved.setdefault(base_id, deque(maxlen=self.pace.allowed))
            slot = self.pace.slot(now, reserved)
            reserved.append(slot)
        delay, waited = slot - now, 0.0
        while True:
            if delay > 0:
                self._sleep(delay)
                waited += delay
            with self._lock:
                now = self._clock()
                sent = self._sent.setdefault(base_id, deque(maxlen=self.pace.allowed))
                answered = self._answered.setdefault(base_id, deque(maxlen=self.pace.allowed))
                delay = self.pace.earliest_send(now, sent, [a[0] for a in answered]) - now
                if delay <= 0:
                    sent.append(now)
                    entry = [now]
                    answered.append(entry)
                    self._mine.__dict__[base_id] = entry
                    return waited

    def done(self, base_id: str) -> None:
        entry = self._mine.__dict__.pop(base_id, None)
        if entry is not None:
            with self._lock:
                entry[0] = max(entry[0], self._clock())

    def recent_sends(self, base_id: str) -> list[float]:
        """When the latest requests to the base went out (seconds on the limiter's clock,
        oldest first)."""
        with self._lock:
            return list(self._sent.get(base_id, ()))


class RedisRateLimiter:
    def __init__(
        self,
        client: redis.Redis,
        requests_per_second: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`clock`: None for Redis's own clock, the one every process shares (another clock
        is for tests, whose limiters share it)."""
        pace = _Pace(requests_per_second)
        self._clock = clock
        self._sleep = sleep
        self._reserve_args = [pace.allowed, _us(pace.window), _us(pace.gap)]
        self._send_args = [pace.allowed, _us(pace.hard_window), _us(pace.gap)]
        self._client = client
        self._reserve = client.register_script(_RESERVE)
        self._send = client.register_script(_SEND)
        self._done = client.register_script(_DONE)
        self._mine = threading.local()  # this thread's latest send token, per base

    def wait(self, base_id: str) -> float:
        keys = self._keys(base_id)
        token = uuid.uuid4().hex
        reserve_args = [*self._reserve_args, token, *self._now_us()]
        delay = int(self._reserve(keys=keys, args=reserve_args)) / 1_000_000
        waited = 0.0
        while True:
            if delay > 0:
                self._sleep(delay)
                waited += delay
            send_args = [*self._send_args, token, *self._now_us()]
            delay = int(self._send(keys=keys, args=send_args)) / 1_000_000
            if delay <= 0:
                self._mine.__dict__[base_id] = token
                return waited

    def done(self, base_id: str) -> None:
        token = self._mine.__dict__.pop(base_id, None)
        if token is not None:
            self._done(keys=[self._keys(base_id)[2]], args=[token, *self._now_us()])

    def _now_us(self) -> list[int]:
        """The time to pass the scripts: none when they read Redis's clock."""
        return [] if self._clock is None else [round(self._clock() * 1_000_000)]

    def recent_sends(self, base_id: str) -> list[float]:
        """When the latest requests to the base went out (seconds on the limiter's clock,
        Redis's by default; oldest first), as every process sees them."""
        sent = self._client.zrange(self._keys(base_id)[1], 0, -1, withscores=True)
        return [score / 1_000_000 for _, score in sent]

    @staticmethod
    def _keys(base_id: str) -> list[str]:
        return [
            f"missionos:airtable-slots:{base_id}",
            f"missionos:airtable-sent:{base_id}",
            f"missionos:airtable-answered:{base_id}",
        ]


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


class NoRateLimiter:
    """For benchmarks against a fake with no limit."""

    def wait(self, base_id: str) -> float:
        return 0.0

    def done(self, base_id: str) -> None:
        pass


_local_limiters: dict[float, LocalRateLimiter] = {}


def shared_rate_limiter(requests_per_second: float) -> RateLimiter:
    """The limiter every client of this deployment shares: Redis-backed when there is Redis."""
    client = shared_redis()
    if client is not None:
        return RedisRateLimiter(client, requests_per_second)
    return _local_limiters.setdefault(requests_per_second, LocalRateLimiter(requests_per_second))
