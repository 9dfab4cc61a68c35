"""The data health score, 0 to 100 (README: "Data health score").

Each kind of finding is measured against what it could affect (its population: open tasks for
tasks held by people who left, objectives for duplicate objectives...): the share of that
population it does affect. The score, to one decimal, is 100 times the weighted mean, over the
kinds whose population is not empty, of the share *not* affected; the weights follow severity
(3 high, 2 medium, 1 low). A duplicate cluster of n records affects n - 1 of them (one is the
real one). Findings marked "not a problem" count as fine. So 100 is a clean plan, a kind that
affects everything it could costs its whole weight, and the score does not fall just because
the organization grows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import Count, Q

from health.detect import OPEN_PROJECT
from health.kinds import FIELD_KINDS, KINDS, Kind
from okrs.models import KeyResult, Objective, Project, Task, TaskStatus
from orgs.models import Organization, Person
from sync.reconcile.adapters import ENTITY_MODELS

DUPLICATE_KINDS = {Kind.DUPLICATE_OBJECTIVES, Kind.DUPLICATE_PROJECTS, Kind.DUPLICATE_PEOPLE}


def populations(
    organization: Organization, *, current_key_results: int, fields: int
) -> dict[str, int]:
    """What each kind is measured against (KINDS[kind].population), counted."""
    tasks = Task.objects.for_org(organization).aggregate(
        all=Count("pk"),
        open=Count("pk", filter=~Q(status=TaskStatus.DONE)),
        open_due=Count("pk", filter=~Q(status=TaskStatus.DONE) & Q(due_on__isnull=False)),
    )
    projects = Project.objects.for_org(organization).aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_PROJECT)),
        open_due=Count("pk", filter=Q(status__in=OPEN_PROJECT) & Q(ends_on__isnull=False)),
    )
    checked_in = (
        KeyResult.objects.for_org(organization).filter(check_ins__isnull=False).distinct().count()
    )
    synced = sum(
        model.objects.for_org(organization).filter(source_record_id__isnull=False).count()
        for model in ENTITY_MODELS.values()
    )
    return {
        "open projects": projects["open"],
        "open tasks": tasks["open"],
        "tasks": tasks["all"],
        "synced records": synced,
        "current key results": current_key_results,
        "key results checked in on": checked_in,
        "open work with a due date": tasks["open_due"] + projects["open_due"],
        "objectives": Objective.objects.for_org(organization).count(),
        "people": Person.objects.for_org(organization).count(),
        "fields of the synced tables": fields,
    }


def affected(kind: str, record_counts: Iterable[int]) -> int:
    """How many records of the population the findings of a kind affect."""
    if kind in DUPLICATE_KINDS:
        return sum(max(0, count - 1) for count in record_counts)
    if kind in FIELD_KINDS:
        return sum(record_counts)
    return sum(1 for _ in record_counts)


def health_score(counts: Mapping[str, int], populations: Mapping[str, int]) -> float:
    """`counts`: kind -> records affected by its open findings."""
    total_weight = 0
    kept = 0.0
    for kind, info in KINDS.items():
        population = populations.get(info.population, 0)
        if population <= 0:
            continue
        share = min(1.0, counts.get(kind, 0) / population)
        total_weight += info.weight
        kept += info.weight * (1.0 - share)
    if not total_weight:
        return 100.0
    return round(100 * kept / total_weight, 1)
