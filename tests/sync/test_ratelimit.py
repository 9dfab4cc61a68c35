"""Requests to one base are paced under Airtable's limit, across threads and (with Redis) across
processes.

The assertions read the send times the limiter recorded when it let each request go (its
`recent_sends`), not the test's own clock after `wait()` returns: on a busy machine the test
thread can be descheduled between the two, which would show gaps that never happened.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid

import pytest
import redis

from sync.airtable import ratelimit
from sync.airtable.ratelimit import LocalRateLimiter, RedisRateLimiter

RATE = 20.0  # fast enough for a quick test; the spacing logic is the same at 4.85/s
FRACTIONAL_RATE = 9.5  # 10 sends per 1.053 s, 100 ms apart: 53 ms of slack in each window
HARD_WINDOW = 1.0 + ratelimit.JITTER_MARGIN
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"
)


def redis_limiter(rate: float) -> RedisRateLimiter:
    return RedisRateLimiter(redis.Redis.from_url(os.environ["REDIS_URL"]), rate)


LIMITERS = [
    pytest.param(LocalRateLimiter, id="local"),
    pytest.param(redis_limiter, id="redis", marks=needs_redis),
]


def new_base() -> str:
    return f"app{uuid.uuid4().hex[:14]}"


def fire(limiters, base_id: str, per_thread: int) -> None:
    """Each limiter in its own thread sends `per_thread` requests."""

    def worker(limiter):
        for _ in range(per_thread):
            limiter.wait(base_id)

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def sequential_sends(limiter, base_id: str, count: int) -> list[float]:
    """Send `count` requests one after another; the recorded send time of each."""
    times = []
    for _ in range(count):
        limiter.wait(base_id)
        times.append(limiter.recent_sends(base_id)[-1])
    return times


def min_gap(times: list[float]) -> float:
    return min(b - a for a, b in itertools.pairwise(times))


def min_span(times: list[float], sends: int) -> float:
    """The shortest time in which `sends` consecutive requests went out."""
    return min(b - a for a, b in zip(times, times[sends - 1 :], strict=False))


def late_at(monkeypatch, index: int, late_by: float) -> None:
    """Sleep number `index` overshoots, as on a busy machine; time itself stays real."""
    real_sleep = time.sleep
    calls = itertools.count()

    def sleep(seconds: float) -> None:
        real_sleep(seconds + (late_by if next(calls) == index else 0))

    monkeypatch.setattr(ratelimit.time, "sleep", sleep)


def test_local_limiter_spaces_requests_across_threads():
    limiter = LocalRateLimiter(RATE)
    base_id = new_base()
    fire([limiter] * 4, base_id, per_thread=5)
    times = limiter.recent_sends(base_id)
    assert len(times) == 20
    assert min_gap(times) >= 1 / RATE  # evenly spaced, never a burst
    assert times[-1] - times[0] == pytest.approx(19 / RATE, abs=0.05)


def test_local_limiter_keeps_bases_apart():
    limiter = LocalRateLimiter(RATE)
    started = time.monotonic()
    for _ in range(5):
        limiter.wait("appAAAAAAAAAAAAAA")
        limiter.wait("appBBBBBBBBBBBBBB")
    assert time.monotonic() - started < 5 / RATE + 0.05  # two bases pace in parallel


@needs_redis
def test_redis_limiter_is_shared_by_separate_clients():
    """Limiters with their own Redis connections stand for separate worker processes."""
    limiters = [redis_limiter(RATE) for _ in range(3)]
    base_id = new_base()
    fire(limiters, base_id, per_thread=6)
    times = limiters[0].recent_sends(base_id)
    assert len(times) == 18
    assert min_gap(times) >= 1 / RATE
    assert times[-1] - times[0] == pytest.approx(17 / RATE, abs=0.08)


@pytest.mark.parametrize("make", LIMITERS)
def test_a_late_request_does_not_let_the_next_ones_catch_up(monkeypatch, make):
    """Found in the paced benchmark on a busy machine: after one late send the next requests
    went at their old slots, six landed within a second and Airtable locked the base out."""
    late_at(monkeypatch, index=1, late_by=3 / RATE)
    times = sequential_sends(make(RATE), new_base(), count=8)
    assert min_gap(times) >= 1 / RATE


@pytest.mark.parametrize("make", LIMITERS)
def test_requests_after_a_slightly_late_one_catch_up(monkeypatch, make):
    """The paced benchmark lost 0.6 s in 42 s when every few-millisecond-late send pushed all
    later ones back; the window's slack absorbs it instead."""
    late_at(monkeypatch, index=1, late_by=0.045)
    times = sequential_sends(make(FRACTIONAL_RATE), new_base(), count=13)
    window = 10 / FRACTIONAL_RATE
    # On time, send 12 goes at window + 2 gaps; pushed back it would be 45 ms later.
    assert times[-1] - times[0] <= window + 0.2 + 0.03
    # The late send took its 45 ms out of the slack; never out of Airtable's one second.
    assert min_span(times, 11) >= HARD_WINDOW


@pytest.mark.parametrize("make", LIMITERS)
def test_a_very_late_request_never_lets_eleven_sends_into_the_hard_window(monkeypatch, make):
    late_at(monkeypatch, index=2, late_by=0.2)
    times = sequential_sends(make(FRACTIONAL_RATE), new_base(), count=13)
    assert min_span(times, 11) >= HARD_WINDOW
    assert min_gap(times) >= 0.1
