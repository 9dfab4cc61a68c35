"""The rules of `okrs.progress`, compiled to SQL so that rollups happen in the database.

Each function returns an expression to annotate a queryset with; none of them loops over rows.
`tests/okrs/test_rollups.py` checks that these agree with the pure functions.
"""

from __future__ import annotations

from django.db.models import (
    Avg,
    Case,
    Count,
    F,
    FloatField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Greatest, Least

from okrs.models import Cycle, KeyResult, Objective, TaskStatus


def _float(field: str):
    return Cast(F(field), FloatField())


def key_result_progress() -> Case:
    """(current - start) / (target - start), clamped to [0, 1]; NULL when target == start."""
    fraction = (_float("current_value") - _float("start_value")) / (
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
        KeyResult.objects.filter(objective=OuterRef("pk"), archived_at__isnull=True, weight__gt=0)
        .exclude(target_value=F("start_value"))
        .values("objective")
    )


def objective_progress() -> Subquery:
    """Weighted mean of the objective's key results; NULL when it has none that count."""
    weighted = _counted_key_results().annotate(
        progress=Sum(_float("weight") * key_result_progress()) / Sum(_float("weight"))
    )
    return Subquery(weighted.values("progress"), output_field=FloatField())


def objective_min_confidence() -> Subquery:
    lowest = (
        KeyResult.objects.filter(objective=OuterRef("pk"), archived_at__isnull=True)
        .values("objective")
        .annotate(lowest=Min("confidence"))
    )
    return Subquery(lowest.values("lowest"))


def pathway_progress(*, cycle: Cycle | None) -> Subquery:
    """Plain mean of the progress of the pathway's objectives (in `cycle`) that have one."""
    objectives = Objective.objects.filter(pathway=OuterRef("pk"), archived_at__isnull=True)
    if cycle is not None:
        objectives = objectives.filter(cycle=cycle)
    means = (
        objectives.annotate(progress=objective_progress())
        .values("pathway")
        .annotate(mean=Avg("progress"))
    )
    return Subquery(means.values("mean"), output_field=FloatField())


def project_task_counts() -> dict:
    """Annotations for a Project queryset: live task count, done task count."""
    live = Q(tasks__archived_at__isnull=True)
    return {
        "task_total": Count("tasks", filter=live),
        "task_done": Count("tasks", filter=live & Q(tasks__status=TaskStatus.DONE)),
    }


def project_completion() -> Case:
    """Done over total; to be used after `project_task_counts()` annotations."""
    return Case(
        When(task_total=0, then=Value(None)),
        default=Cast(F("task_done"), FloatField()) / Cast(F("task_total"), FloatField()),
        output_field=FloatField(),
    )
