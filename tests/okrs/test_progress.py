"""The progress rules, as pure functions (no database)."""

from datetime import date
from decimal import Decimal

import pytest

from okrs import progress
from okrs.progress import Health


@pytest.mark.parametrize(
    ("start", "current", "target", "expected"),
    [
        (0, 50, 100, 0.5),
        (0, 150, 100, 1.0),  # beyond target caps at done
        (0, -10, 100, 0.0),  # moving backwards floors at nothing
        (8, 6.5, 5, 0.5),  # decreasing metric: 8% -> 5% churn, halfway at 6.5%
        (8, 9, 5, 0.0),  # decreasing metric moving the wrong way
        (0, 1, 1, 1.0),  # yes/no done
        (0, 0, 1, 0.0),  # yes/no not done
        (0, 3, 4, 0.75),  # 3 of 4 milestones
        (Decimal("10.5"), Decimal("12.6"), Decimal("14.7"), 0.5),
    ],
)
def test_key_result_progress(start, current, target, expected):
    assert progress.key_result_progress(start, current, target) == pytest.approx(expected)


def test_target_equal_to_start_has_no_progress():
    assert progress.key_result_progress(5, 7, 5) is None


def test_weighted_mean_skips_unknown_and_zero_weights():
    assert progress.weighted_mean([(0.5, 1), (0.6, 3)]) == pytest.approx(0.575)
    assert progress.weighted_mean([(None, 5), (0.2, 1), (0.9, 0)]) == pytest.approx(0.2)


def test_empty_objective_has_no_progress():
    assert progress.weighted_mean([]) is None
    assert progress.mean([None, None]) is None


def test_completion():
    assert progress.completion(3, 4) == 0.75
    assert progress.completion(0, 0) is None


def test_elapsed_fraction_clamps():
    start, end = date(2026, 10, 1), date(2026, 12, 31)
    assert progress.elapsed_fraction(start, end, date(2026, 9, 1)) == 0.0
    assert progress.elapsed_fraction(start, end, date(2027, 1, 5)) == 1.0
    assert progress.elapsed_fraction(start, end, date(2026, 11, 15)) == pytest.approx(45 / 91)


@pytest.mark.parametrize(
    ("value", "elapsed", "confidence", "expected"),
    [
        (0.5, 0.5, 7, Health.ON_TRACK),
        (0.3, 0.5, 7, Health.AT_RISK),
        (0.1, 0.5, 7, Health.OFF_TRACK),
        (0.9, 0.5, 3, Health.AT_RISK),
        (0.9, 0.5, 1, Health.OFF_TRACK),
        (None, 0.5, 7, Health.UNKNOWN),
        (0.5, 0.5, None, Health.ON_TRACK),
    ],
)
def test_health(value, elapsed, confidence, expected):
    assert progress.health(value, elapsed, confidence) is expected


def test_an_objective_is_not_started_until_a_key_result_has_a_value():
    # (progress, weight, has a value)
    assert progress.objective_progress([(0.0, 1, False), (0.0, 2, False)]) is None
    assert progress.objective_progress([]) is None
    # One with a value: the others count as where they stand (0) in the mean.
    assert progress.objective_progress([(0.6, 1, True), (0.0, 1, False)]) == pytest.approx(0.3)
    # A zero-weight or unmeasurable key result with a value does not start it.
    assert progress.objective_progress([(0.5, 0, True), (0.0, 1, False)]) is None
    assert progress.objective_progress([(None, 1, True), (0.0, 1, False)]) is None


def test_no_progress_is_not_started_when_there_are_key_results_else_unknown():
    assert progress.health(None, 0.9, None, measurable=True) == progress.Health.NOT_STARTED
    assert progress.health(None, 0.9, 1, measurable=True) == progress.Health.NOT_STARTED
    assert progress.health(None, 0.9, None) == progress.Health.UNKNOWN
    assert progress.Health.NOT_STARTED.label == "Not started"
    assert progress.health(0.0, 0.9, None, measurable=True) == progress.Health.OFF_TRACK
