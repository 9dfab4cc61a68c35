"""Requests to one base are spaced evenly, across threads and (with Redis) across processes."""

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

RATE = 20.0  # fast enough for a quick test; the spacing logic is the same at 4.8/s


def fire(limiters, base_id: str, per_thread: int) -> list[float]:
    """Each limiter in its own thread sends `per_thread` requests; return all send times."""
    times: list[float] = []
    lock = threading.Lock()

    def worker(limiter):
        for _ in range(per_thread):
            limiter.wait(base_id)
            with lock:
                times.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(times)


def min_gap(times: list[float]) -> float:
    return min(b - a for a, b in itertools.pairwise(times))


def test_local_limiter_spaces_requests_across_threads():
    limiter = LocalRateLimiter(RATE)
    times = fire([limiter] * 4, "appAAAAAAAAAAAAAA", per_thread=5)
    assert len(times) == 20
    assert min_gap(times) >= (1 / RATE) * 0.9  # evenly spaced, never a burst
    assert times[-1] - times[0] == pytest.approx(19 / RATE, abs=0.05)


def test_local_limiter_keeps_bases_apart():
    limiter = LocalRateLimiter(RATE)
    started = time.monotonic()
    for _ in range(5):
        limiter.wait("appAAAAAAAAAAAAAA")
        limiter.wait("appBBBBBBBBBBBBBB")
    assert time.monotonic() - started < 5 / RATE + 0.05  # two bases pace in parallel


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)")
def test_redis_limiter_is_shared_by_separate_clients():
    """Limiters with their own Redis connections stand for separate worker processes."""
    url = os.environ["REDIS_URL"]
    limiters = [RedisRateLimiter(redis.Redis.from_url(url), RATE) for _ in range(3)]
    times = fire(limiters, f"app{uuid.uuid4().hex[:14]}", per_thread=6)
    assert len(times) == 18
    assert min_gap(times) >= (1 / RATE) * 0.9
    assert times[-1] - times[0] == pytest.approx(17 / RATE, abs=0.08)


def _late_at(monkeypatch, index: int, late_by: float) -> None:
    """Sleep number `index` overshoots, as on a busy machine; time itself stays real."""
    real_sleep = time.sleep
    calls = itertools.count()

    def sleep(seconds: float) -> None:
        real_sleep(seconds + (late_by if next(calls) == index else 0))

    monkeypatch.setattr(ratelimit.time, "sleep", sleep)


def sequential_sends(limiter, base_id: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.wait(base_id)
        times.append(time.monotonic())
    return times


def test_a_late_request_does_not_let_the_next_ones_catch_up(monkeypatch):
    """Found in the paced benchmark on a busy machine: after one late send the next requests
    went at their old slots, six landed within a second and Airtable locked the base out."""
    _late_at(monkeypatch, index=1, late_by=3 / RATE)
    times = sequential_sends(LocalRateLimiter(RATE), "appAAAAAAAAAAAAAA", count=8)
    assert min_gap(times) >= (1 / RATE) * 0.9


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)")
def test_a_late_request_does_not_let_the_next_ones_catch_up_with_redis(monkeypatch):
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    _late_at(monkeypatch, index=1, late_by=3 / RATE)
    base_id = f"app{uuid.uuid4().hex[:14]}"
    times = sequential_sends(RedisRateLimiter(client, RATE), base_id, count=8)
    assert min_gap(times) >= (1 / RATE) * 0.9


def _limiters() -> list:
    made = [LocalRateLimiter]
    if os.environ.get("REDIS_URL"):
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        made.append(lambda rate: RedisRateLimiter(client, rate))
    return made


FRACTIONAL_RATE = 9.5  # 10 sends per 1.053 s, 100 ms apart: 53 ms of slack in each window


@pytest.mark.parametrize("make", _limiters())
def test_requests_after_a_slightly_late_one_catch_up(monkeypatch, make):
    """The paced benchmark lost 0.6 s in 42 s when every few-millisecond-late send pushed all
    later ones back; the window's slack absorbs it instead."""
    _late_at(monkeypatch, index=1, late_by=0.03)
    times = sequential_sends(make(FRACTIONAL_RATE), f"app{uuid.uuid4().hex[:14]}", count=13)
    window = 10 / FRACTIONAL_RATE
    # On time, send 12 goes at window + 2 gaps; pushed back it would be 30 ms later.
    assert times[-1] - times[0] <= window + 0.2 + 0.02
    # The late send took its 30 ms out of the slack; never out of Airtable's one second.
    assert (
        min(b - a for a, b in zip(times, times[10:], strict=False))
        >= 1.0 + ratelimit.JITTER_MARGIN - 0.005
    )


@pytest.mark.parametrize("make", _limiters())
def test_a_very_late_request_never_lets_eleven_sends_into_the_hard_window(monkeypatch, make):
    _late_at(monkeypatch, index=2, late_by=0.2)
    times = sequential_sends(make(FRACTIONAL_RATE), f"app{uuid.uuid4().hex[:14]}", count=13)
    assert (
        min(b - a for a, b in zip(times, times[10:], strict=False))
        >= 1.0 + ratelimit.JITTER_MARGIN - 0.005
    )
    assert min_gap(times) >= 0.1 - 0.005
