"""The rules of `okrs.progress`, compiled to SQL so that rollups happen in the database.

Each function returns an expression to annotate a queryset with; none of them loops over rows.
`tests/okrs/test_rollups.py` checks that these agree with the pure functions.
"""

from __future__ import annotations

import datetime

from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    Exists,
    Expression,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least

from okrs import progress
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Task, TaskStatus


def _float(field: str):
    return Cast(F(field), FloatField())


def key_result_value(as_of: datetime.datetime | None = None):
    """A key result's value: its current value, or as it stood at `as_of`: the latest live
    check-in by then; its start value if its check-ins all came later; its current value if it
    has no check-ins at all (there is no history to go on)."""
    if as_of is None:
        return F("current_value")
    check_ins = CheckIn.objects.live().filter(key_result=OuterRef("pk"))
    latest = check_ins.filter(checked_in_at__lte=as_of).order_by("-checked_in_at", "-pk")
    return Coalesce(
        Subquery(latest.values("value")[:1]),
        Case(When(Exists(check_ins), then=F("start_value")), default=F("current_value")),
    )


def key_result_started(as_of: datetime.datetime | None = None) -> Q:
    """Whether a key result has a value (`okrs.progress`): a live check-in by `as_of` (or at
    all), or, with no check-ins, a current value that differs from its start."""
    check_ins = CheckIn.objects.live().filter(key_result=OuterRef("pk"))
    by_then = check_ins if as_of is None else check_ins.filter(checked_in_at__lte=as_of)
    return Q(Exists(by_then)) | (~Q(Exists(check_ins)) & ~Q(current_value=F("start_value")))


def key_result_progress(as_of: datetime.datetime | None = None) -> Case:
    """(value - start) / (target - start), clamped to [0, 1]; NULL when target == start."""
    fraction = (Cast(key_result_value(as_of), FloatField()) - _float("start_value")) / (
        _float("target_value") - _float("start_value")
    )
    return Case(
        When(target_value=F("start_value"), then=Value(None)),
        default=Greatest(Value(0.0), Least(Value(1.0), fraction)),
        output_field=FloatField(),
    )


def _counted_key_results():
    """Live key results that take part in their objective's mean."""
    return (
        KeyResult.objects.live()
        .filter(objective=OuterRef("pk"), weight__gt=0)
        .exclude(target_value=F("start_value"))
        .values("objective")
    )


def objective_progress(as_of: datetime.datetime | None = None) -> Case:
    """Weighted mean of the objective's key results; NULL when it has none that count, or
    while none of those has a value (not started)."""
    weighted = _counted_key_results().annotate(
        progress=Sum(_float("weight") * key_result_progress(as_of)) / Sum(_float("weight"))
    )
    started = _counted_key_results().filter(key_result_started(as_of))
    return Case(
        When(Exists(started), then=Subquery(weighted.values("progress"))),
        default=Value(None),
        output_field=FloatField(),
    )


def objective_measurable() -> Exists:
    """Whether the objective has key results that count in its progress: with no progress,
    it is then "not started" rather than unknown."""
    return Exists(_counted_key_results())


def key_result_confidence(as_of: datetime.datetime | None = None):
    """A key result's confidence, now or at `as_of` (the latest check-in by then that gave
    one), on the same fallbacks as `key_result_value`."""
    if as_of is None:
        return F("confidence")
    check_ins = CheckIn.objects.live().filter(key_result=OuterRef("pk"))
    latest = check_ins.filter(checked_in_at__lte=as_of, confidence__isnull=False).order_by(
        "-checked_in_at", "-pk"
    )
    return Case(
        When(Exists(check_ins), then=Subquery(latest.values("confidence")[:1])),
        default=F("confidence"),
    )


def objective_min_confidence(as_of: datetime.datetime | None = None) -> Subquery:
    lowest = (
        KeyResult.objects.live()
        .filter(objective=OuterRef("pk"))
        .values("objective")
        .annotate(lowest=Min(key_result_confidence(as_of)))
    )
    return Subquery(lowest.values("lowest"))


def objective_health(elapsed: float | Expression) -> Case:
    """`progress.health()` in SQL, for a queryset annotated with `progress` and
    `min_confidence`; an unknown confidence (NULL) fails every comparison, as in Python.
    `elapsed` may be an expression: the objective list's, one branch per cycle."""
    return Case(
        When(
            Q(progress__isnull=True) & Q(objective_measurable()),
            then=Value(progress.Health.NOT_STARTED.value),
        ),
        When(progress__isnull=True, then=Value(progress.Health.UNKNOWN.value)),
        When(
            Q(progress__lte=elapsed - progress.OFF_TRACK_LAG)
            | Q(min_confidence__lte=progress.OFF_TRACK_CONFIDENCE),
            then=Value(progress.Health.OFF_TRACK.value),
        ),
        When(
            Q(progress__lte=elapsed - progress.AT_RISK_LAG)
            | Q(min_confidence__lte=progress.AT_RISK_CONFIDENCE),
            then=Value(progress.Health.AT_RISK.value),
        ),
        default=Value(progress.Health.ON_TRACK.value),
        output_field=CharField(),
    )


def pathway_progress(*, cycle: Cycle | None, as_of: datetime.datetime | None = None) -> Subquery:
    """Plain mean of the progress of the pathway's objectives (in `cycle`) that have one."""
    objectives = Objective.objects.live().filter(pathway=OuterRef("pk"))
    if cycle is not None:
        objectives = objectives.filter(cycle=cycle)
    means = (
        objectives.annotate(progress=objective_progress(as_of))
        .values("pathway")
        .annotate(mean=Avg("progress"))
    )
    return Subquery(means.values("mean"), output_field=FloatField())


def project_task_counts() -> dict:
    """Annotations for a Project queryset: live task count, done task count. Subqueries, not
    a join and GROUP BY: a page of 50 projects then counts only its own projects' tasks
    (index task_live_by_project), not every task of the organization before the LIMIT."""
    live_tasks = Task.objects.live().filter(project=OuterRef("pk")).order_by().values("project")
    return {
        "task_total": _count_of(live_tasks),
        "task_done": _count_of(live_tasks.filter(status=TaskStatus.DONE)),
    }


def _count_of(rows: QuerySet) -> Coalesce:
    """The number of `rows` (grouped by one column) as a subquery; 0 when there are none."""
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), Value(0))


def project_completion() -> Case:
    """Done over total; to be used after `project_task_counts()` annotations."""
    return Case(
        When(task_total=0, then=Value(None)),
        default=Cast(F("task_done"), FloatField()) / Cast(F("task_total"), FloatField()),
        output_field=FloatField(),
    )
