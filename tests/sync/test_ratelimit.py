"""Requests to one base are paced under Airtable's limit, across threads and (with Redis) across
processes.

The limiters run on a clock the test moves: time passes only when a limiter sleeps, so the send
times they record (their `recent_sends`) are exact, and the assertions are about the schedule
the limiter chose, never about how long this machine took. A busy machine is played by sleeps
that overshoot.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
import uuid

import pytest
import redis

from sync.airtable import ratelimit
from sync.airtable.ratelimit import LocalRateLimiter, RedisRateLimiter

RATE = 20.0  # 20 sends per 1 s, 50 ms apart; the spacing logic is the same at 4.85/s
FRACTIONAL_RATE = 9.5  # 10 sends per 1.053 s, 100 ms apart: 53 ms of slack in each window
HARD_WINDOW = 1.0 + ratelimit.JITTER_MARGIN
# Redis keeps times and durations in whole microseconds (rounded down): schedules are exact to
# a few of them.
MICROSECONDS = 1e-5
needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"
)


class ManualClock:
    """Seconds that pass only when someone sleeps on them; shared by threads. `late[n]` makes
    the n-th sleep overshoot by that much, as on a busy machine."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.start = self.now = start
        self.late: dict[int, float] = {}
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds + self.late.get(len(self.sleeps), 0.0)
            self.sleeps.append(seconds)
        time.sleep(0)  # give the other threads their turn, as a real sleep would

    def elapsed(self) -> float:
        return self.now - self.start


def local_limiter(rate: float, clock: ManualClock) -> LocalRateLimiter:
    return LocalRateLimiter(rate, clock=clock, sleep=clock.sleep)


def redis_limiter(rate: float, clock: ManualClock) -> RedisRateLimiter:
    """A limiter with its own Redis connection: one stands for each worker process."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return RedisRateLimiter(client, rate, clock=clock, sleep=clock.sleep)


LIMITERS = [
    pytest.param(local_limiter, id="local"),
    pytest.param(redis_limiter, id="redis", marks=needs_redis),
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


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


def on_time(rate: float, count: int, start: float) -> list[float]:
    """When `count` requests go with nothing late (the module docstring's rules): `ceil(rate)`
    of them `1 / ceil(rate)` apart, then the next as many `ceil(rate) / rate` after those."""
    allowed = math.ceil(rate)
    window, gap = allowed / rate, 1 / allowed
    return [start + (k // allowed) * window + (k % allowed) * gap for k in range(count)]


@pytest.mark.parametrize("make", LIMITERS)
@pytest.mark.parametrize("rate", [RATE, FRACTIONAL_RATE])
def test_requests_go_out_evenly_and_lose_no_time(clock, make, rate):
    times = sequential_sends(make(rate, clock), new_base(), count=25)
    assert times == pytest.approx(on_time(rate, 25, clock.start), abs=MICROSECONDS)


@pytest.mark.parametrize("make", LIMITERS)
def test_two_bases_are_paced_side_by_side(clock, make):
    limiter = make(RATE, clock)
    sends: dict[str, list[float]] = {new_base(): [], new_base(): []}
    for _ in range(5):
        for base_id, times in sends.items():
            limiter.wait(base_id)
            times.append(limiter.recent_sends(base_id)[-1])
    for times in sends.values():
        assert times == pytest.approx(on_time(RATE, 5, clock.start), abs=MICROSECONDS)
    assert clock.elapsed() == pytest.approx(4 / RATE, abs=MICROSECONDS)  # not 9 gaps: in parallel


def test_local_limiter_spaces_requests_across_threads(clock):
    limiter = local_limiter(RATE, clock)
    base_id = new_base()
    fire([limiter] * 4, base_id, per_thread=5)
    times = limiter.recent_sends(base_id)
    assert len(times) == 20
    assert min_gap(times) >= 1 / RATE - MICROSECONDS  # evenly spaced, never a burst


@needs_redis
def test_redis_limiter_is_shared_by_separate_clients(clock):
    """Limiters with their own Redis connections stand for separate worker processes."""
    limiters = [redis_limiter(RATE, clock) for _ in range(3)]
    base_id = new_base()
    fire(limiters, base_id, per_thread=6)
    times = limiters[0].recent_sends(base_id)
    assert len(times) == 18
    assert min_gap(times) >= 1 / RATE - MICROSECONDS


@needs_redis
def test_the_redis_limiter_keeps_redis_time_by_default():
    """Without a clock of its own, the time is Redis's, the one clock every process shares."""
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    limiter = RedisRateLimiter(client, RATE)
    base_id = new_base()
    limiter.wait(base_id)
    seconds, microseconds = client.time()
    redis_now = seconds + microseconds / 1_000_000
    (sent,) = limiter.recent_sends(base_id)
    assert redis_now - 60 < sent <= redis_now  # a reading of Redis's clock, not a test's


@pytest.mark.parametrize("make", LIMITERS)
def test_a_late_request_does_not_let_the_next_ones_catch_up(clock, make):
    """Found in the paced benchmark on a busy machine: after one late send the next requests
    went at their old slots, six landed within a second and Airtable locked the base out."""
    clock.late[1] = 3 / RATE  # the third request goes 150 ms late
    times = sequential_sends(make(RATE, clock), new_base(), count=8)
    assert times[2] - times[1] == pytest.approx(4 / RATE, abs=MICROSECONDS)
    # The ones after it went a gap apart from it, not at their old slots.
    assert times[2:] == pytest.approx([times[2] + k / RATE for k in range(6)], abs=MICROSECONDS)
    assert min_gap(times) >= 1 / RATE - MICROSECONDS


@pytest.mark.parametrize("make", LIMITERS)
def test_requests_after_a_slightly_late_one_catch_up(clock, make):
    """The paced benchmark lost 0.6 s in 42 s when every few-millisecond-late send pushed all
    later ones back; the window's slack absorbs it instead."""
    clock.late[1] = 0.045  # the third request goes 45 ms late
    times = sequential_sends(make(FRACTIONAL_RATE, clock), new_base(), count=13)
    # Pushed back, send 12 would go 45 ms after its time (a window and two gaps after the
    # first); it goes as soon as Airtable's second since the late send is over: 7 ms after.
    assert on_time(FRACTIONAL_RATE, 13, clock.start)[-1] + 0.045 > times[2] + HARD_WINDOW
    assert times[-1] == pytest.approx(times[2] + HARD_WINDOW, abs=MICROSECONDS)
    # The late send took its 45 ms out of the slack; never out of Airtable's one second.
    assert min_span(times, 11) >= HARD_WINDOW - MICROSECONDS


@pytest.mark.parametrize("make", LIMITERS)
def test_a_very_late_request_never_lets_eleven_sends_into_the_hard_window(clock, make):
    clock.late[2] = 0.2
    times = sequential_sends(make(FRACTIONAL_RATE, clock), new_base(), count=13)
    assert min_span(times, 11) >= HARD_WINDOW - MICROSECONDS
    assert min_gap(times) >= 0.1 - MICROSECONDS


@pytest.mark.parametrize("make", LIMITERS)
def test_the_second_counts_from_when_a_slow_requests_answer_came_back(clock, make):
    """Found by bench/fleet.py (4 workers on 2 busy cores): six requests arrived at the fake
    within 0.89 s, a lockout, though the limiter had let them go 1.015 s apart; the first had
    reached Airtable long after it was let go. Airtable counts a request somewhere between
    then and its answer: the sixth goes a second after the first one's answer."""
    rate = 4.9  # Airtable's pacing: 5 sends in 1.02 s, 200 ms apart
    limiter, base_id = make(rate, clock), new_base()
    limiter.wait(base_id)
    first_sent = limiter.recent_sends(base_id)[-1]
    clock.sleep(0.15)  # the first request's answer takes 150 ms to come back
    first_answered = clock()
    limiter.done(base_id)
    times = [first_sent]
    for _ in range(5):
        limiter.wait(base_id)
        times.append(limiter.recent_sends(base_id)[-1])
        limiter.done(base_id)  # the others are answered at once
    # Wherever in its 150 ms the first arrived, the sixth arrives over a second later ...
    assert times[5] - first_answered >= HARD_WINDOW - MICROSECONDS
    # ... and the ones between kept their even pace.
    assert times[1:5] == pytest.approx(
        [first_sent + k * 0.2 for k in range(1, 5)], abs=MICROSECONDS
    )


def test_the_client_tells_the_limiter_when_each_answer_came_back(settings):
    """Every request the client sends is followed by `done`, the answer an error or not."""
    from devtools.fakeairtable import FakeAirtable
    from sync.airtable.client import AirtableClient, RetryPolicy
    from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN, build_base

    class Counting(LocalRateLimiter):
        calls: list[str] = []

        def wait(self, base_id: str) -> float:
            self.calls.append("wait")
            return super().wait(base_id)

        def done(self, base_id: str) -> None:
            self.calls.append("done")
            super().done(base_id)

    with FakeAirtable(rate_limit=None, seed=3) as fake:
        build_base(fake)
        fake.faults.inject_next("500")
        limiter = Counting(1000.0)
        client = AirtableClient(
            api_url=fake.url,
            token=TOKEN,
            base_id=BASE_ID,
            limiter=limiter,
            policy=RetryPolicy(backoff=0.001),
        )
        records = [r for page in client.pages(T_TASKS) for r in page]
    assert len(records) == 24
    assert limiter.calls == ["wait", "done"] * (len(limiter.calls) // 2)
    assert len(limiter.calls) >= 4  # the failed request and its retry, at least
