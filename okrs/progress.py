"""Progress math, pure: no ORM here, so it is tested without a database.

What the numbers mean (the same rules are compiled to SQL in `okrs.rollups`):

- A key result's progress is how far its current value has moved from start towards target,
  as a fraction clamped to [0, 1]: (current - start) / (target - start).
- A **decreasing** metric (target below start, e.g. "cut churn from 8% to 5%") uses the same
  formula: moving down is progress, moving up is negative progress and clamps to 0; going
  beyond the target clamps to 1.
- A **yes/no** key result is start 0, target 1: not done is 0, done is 1, nothing between.
- **Milestones** count milestones reached: start 0, target N, current the number reached.
- A key result whose target equals its start measures nothing; forms refuse it and, should
  one arrive through a sync, its progress is unknown (None) rather than a division by zero.
- A key result **has a value** once it has a live check-in (by the moment read), or, with no
  check-ins at all, once its current value differs from its start (a value synced from
  Airtable or typed by hand). Until then it is **not started**.
- An objective's progress is the weighted mean of its live key results' progress, once any of
  them has a value (those without one count as 0 then). An objective whose key results have no
  value yet is **not started**: no progress (None), not "off track", and it is left out of its
  pathway's mean. An objective with **no key results** (or only zero weights) has no progress
  either: None, shown as "no key results yet", and left out of its pathway's mean too.
- A pathway's progress is the plain mean of the progress of its objectives that have one;
  a pathway with none has no progress (None).
- A project's completion is its done tasks over all its live tasks; no tasks is None.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum

Number = Decimal | float | int

# How far behind the cycle's elapsed time an objective may be before it is at risk, and
# before it is off track; and the confidence (0-10) at or below which it is at risk anyway.
AT_RISK_LAG = 0.15
OFF_TRACK_LAG = 0.35
AT_RISK_CONFIDENCE = 4
OFF_TRACK_CONFIDENCE = 2


def key_result_progress(start: Number, current: Number, target: Number) -> float | None:
    span = float(target) - float(start)
    if span == 0:
        return None
    return min(1.0, max(0.0, (float(current) - float(start)) / span))


def weighted_mean(pairs: Iterable[tuple[float | None, Number]]) -> float | None:
    """Mean of (progress, weight) pairs, skipping unknown progress; None if nothing counts."""
    total = weight_sum = 0.0
    for progress, weight in pairs:
        if progress is None or float(weight) <= 0:
            continue
        total += progress * float(weight)
        weight_sum += float(weight)
    return total / weight_sum if weight_sum else None


def objective_progress(
    key_results: Iterable[tuple[float | None, Number, bool]],
) -> float | None:
    """An objective's progress from its key results' (progress, weight, has a value): their
    weighted mean, or None while none of those that count has a value (not started)."""
    counted = [
        (value, weight, started)
        for value, weight, started in key_results
        if value is not None and float(weight) > 0
    ]
    if not any(started for _, _, started in counted):
        return None
    return weighted_mean((value, weight) for value, weight, _ in counted)


def mean(values: Iterable[float | None]) -> float | None:
    return weighted_mean((value, 1) for value in values)


def completion(done: int, total: int) -> float | None:
    return done / total if total else None


def elapsed_fraction(starts_on: date, ends_on: date, today: date) -> float:
    """How much of a cycle has gone by, in [0, 1]."""
    length = (ends_on - starts_on).days
    if length <= 0:
        return 1.0
    return min(1.0, max(0.0, (today - starts_on).days / length))


class Health(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.replace("_", " ").capitalize()


def health(
    progress: float | None,
    elapsed: float,
    confidence: int | None,
    *,
    measurable: bool = False,
) -> Health:
    """On track / at risk / off track from progress against time elapsed, and confidence.
    No progress is "not started" for an objective that has key results that count
    (`measurable`: none has a value yet), and unknown for one that has none."""
    if progress is None:
        return Health.NOT_STARTED if measurable else Health.UNKNOWN
    lag = elapsed - progress
    if lag >= OFF_TRACK_LAG or (confidence is not None and confidence <= OFF_TRACK_CONFIDENCE):
        return Health.OFF_TRACK
    if lag >= AT_RISK_LAG or (confidence is not None and confidence <= AT_RISK_CONFIDENCE):
        return Health.AT_RISK
    return Health.ON_TRACK
