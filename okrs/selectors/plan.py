"""The plan's building blocks that several pages read: objectives with progress and health,
pathways with progress, open and overdue tasks, recent check-ins."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q, QuerySet

from okrs import progress, rollups
from okrs.models import (
    CheckIn,
    Cycle,
    Objective,
    Pathway,
    Task,
    TaskStatus,
)
from orgs.models import Organization
from orgs.tenancy import live_q

RECENT_LIMIT = 8


CHECK_IN_DUE_AFTER = datetime.timedelta(days=7)


def objectives_with_progress(
    *, organization: Organization, as_of: datetime.datetime | None = None
) -> QuerySet[Objective]:
    return (
        Objective.objects.for_org(organization)
        .select_related("owner", "pathway", "cycle")
        .annotate(
            progress=rollups.objective_progress(as_of),
            min_confidence=rollups.objective_min_confidence(as_of),
            measurable=rollups.objective_measurable(),
            key_result_count=Count("key_results", filter=live_q("key_results")),
        )
    )


def attach_health(objectives: list[Objective], elapsed: float) -> list[Objective]:
    for objective in objectives:
        objective.health = progress.health(
            objective.progress, elapsed, objective.min_confidence, measurable=objective.measurable
        )
    return objectives


def pathways_with_progress(
    *,
    organization: Organization,
    cycle: Cycle | None,
    as_of: datetime.datetime | None = None,
) -> QuerySet[Pathway]:
    in_cycle = live_q("objectives")
    if cycle is not None:
        in_cycle &= Q(objectives__cycle=cycle)
    return Pathway.objects.for_org(organization).annotate(
        progress=rollups.pathway_progress(cycle=cycle, as_of=as_of),
        objective_count=Count("objectives", filter=in_cycle, distinct=True),
    )


def open_tasks(
    *, organization: Organization, as_of: datetime.datetime | None = None
) -> QuerySet[Task]:
    return Task.objects.for_org(organization).filter(open_task_q(as_of)).filter(live_q("project"))


def overdue_tasks(
    *, organization: Organization, today: datetime.date, as_of: datetime.datetime | None = None
) -> QuerySet[Task]:
    return (
        open_tasks(organization=organization, as_of=as_of)
        .filter(due_on__lt=today)
        .select_related("project", "assignee")
        .order_by("due_on", "id")
    )


def recent_check_ins(*, organization: Organization) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.for_org(organization)
        # Neither the key result nor its objective archived (the sync archives an objective
        # gone from Airtable without its key results).
        .filter(live_q("key_result"), live_q("key_result__objective"), key_result__isnull=False)
        .select_related("key_result__objective", "author")
        .order_by("-checked_in_at")
    )


def open_task_q(moment: datetime.datetime | None, via: str = "") -> Q:
    """Tasks not done, now or at `moment` (`via`: the relation from another model, "tasks__").
    A task done with no completion time recorded counts as done all along (no history)."""
    not_done = ~Q(**{f"{via}status": TaskStatus.DONE})
    if moment is None:
        return not_done
    return Q(**{f"{via}completed_at__gt": moment}) | (
        Q(**{f"{via}completed_at__isnull": True}) & not_done
    )
