"""The SQL rollups agree with the pure progress rules, on varied data and on both databases."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from okrs import progress, rollups
from okrs.models import KeyResult, Objective, Pathway, Project
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def test_sql_rollups_match_the_pure_rules(org):
    rng = random.Random(20261123)
    cycle = CycleFactory(organization=org)
    other_cycle = CycleFactory(organization=org, name="Last quarter")
    pathways = [PathwayFactory(organization=org) for _ in range(3)]
    objectives = [
        ObjectiveFactory(
            organization=org,
            pathway=rng.choice(pathways),
            cycle=cycle if i % 5 else other_cycle,
        )
        for i in range(15)
    ]
    for objective in objectives[:-2]:  # the last two objectives stay empty
        for _ in range(rng.randint(1, 4)):
            start = Decimal(rng.choice([0, 10, 40, 100]))
            target = start + Decimal(rng.choice([-30, -5, 0, 5, 50]))  # 0: target == start
            KeyResultFactory(
                organization=org,
                objective=objective,
                start_value=start,
                target_value=target,
                current_value=start + Decimal(rng.randint(-20, 60)),
                weight=Decimal(rng.choice([0, 1, 1, 2, 3])),
                archived_at=None if rng.random() > 0.1 else "2026-01-01T00:00Z",
            )

    def pure_objective(objective: Objective) -> float | None:
        live = KeyResult.objects.unscoped(include_archived=True).filter(
            objective=objective, archived_at__isnull=True
        )
        return progress.weighted_mean(
            (
                progress.key_result_progress(kr.start_value, kr.current_value, kr.target_value),
                kr.weight,
            )
            for kr in live
        )

    annotated = Objective.objects.for_org(org).annotate(p=rollups.objective_progress())
    for objective in annotated:
        assert objective.p == pytest.approx(pure_objective(objective)), objective

    for pathway in Pathway.objects.for_org(org).annotate(p=rollups.pathway_progress(cycle=cycle)):
        in_cycle = Objective.objects.unscoped(include_archived=True).filter(
            pathway=pathway, cycle=cycle
        )
        assert pathway.p == pytest.approx(progress.mean(pure_objective(o) for o in in_cycle))

    key_results = KeyResult.objects.for_org(org).annotate(p=rollups.key_result_progress())
    for kr in key_results:
        expected = progress.key_result_progress(kr.start_value, kr.current_value, kr.target_value)
        assert kr.p == pytest.approx(expected)


def test_project_completion_counts_live_tasks(org):
    project = ProjectFactory(organization=org)
    TaskFactory(organization=org, project=project, status="done")
    TaskFactory(organization=org, project=project, status="todo")
    TaskFactory(organization=org, project=project, status="done", archived_at="2026-01-01T00:00Z")
    empty = ProjectFactory(organization=org)
    annotated = {
        p.pk: p
        for p in Project.objects.for_org(org)
        .annotate(**rollups.project_task_counts())
        .annotate(completion=rollups.project_completion())
    }
    assert annotated[project.pk].completion == pytest.approx(progress.completion(1, 2))
    assert annotated[empty.pk].completion is None and progress.completion(0, 0) is None
