"""The rows of the downloads that no list page pages through: objectives, key results,
check-ins and tasks, each filtered as the page it is downloaded from (the dashboard and a
pathway's page for objectives; an objective's page for its key results and check-ins; a
project's page and the overdue tasks for tasks). Each reads a fixed number of queries,
whatever the number of rows (pinned by tests at two data sizes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from okrs import progress, rollups
from okrs.models import CheckIn, KeyResult, Objective, Task
from okrs.selectors.cycles import cycle_elapsed, end_of_day
from okrs.selectors.plan import objectives_with_progress, overdue_tasks
from orgs.models import Organization


@dataclass(frozen=True)
class PlanFilters:
    """Filters of the objective, key result and check-in downloads; None: any."""

    cycle_id: int | None = None
    pathway_id: int | None = None
    objective_id: int | None = None
    owner_id: int | None = None
    health: str = ""  # one of okrs.progress.Health, for objectives


def objective_export(*, organization: Organization, filters: PlanFilters) -> list[Objective]:
    """The objectives with progress and health (each against its own cycle's time gone),
    by pathway and title. One query."""
    objectives = objectives_with_progress(organization=organization)
    if filters.cycle_id:
        objectives = objectives.filter(cycle_id=filters.cycle_id)
    if filters.pathway_id:
        objectives = objectives.filter(pathway_id=filters.pathway_id)
    if filters.objective_id:
        objectives = objectives.filter(pk=filters.objective_id)
    if filters.owner_id:
        objectives = objectives.filter(owner_id=filters.owner_id)
    rows = list(objectives.order_by("pathway__position", "pathway__name", "title", "pk"))
    for objective in rows:
        objective.health = progress.health(
            objective.progress, cycle_elapsed(objective.cycle), objective.min_confidence
        )
    if filters.health:
        rows = [objective for objective in rows if objective.health == filters.health]
    return rows


def _in_plan(queryset: QuerySet, filters: PlanFilters, objective: str) -> QuerySet:
    """`queryset` narrowed to the filters, `objective` being the path to the objective."""
    if filters.cycle_id:
        queryset = queryset.filter(**{f"{objective}__cycle_id": filters.cycle_id})
    if filters.pathway_id:
        queryset = queryset.filter(**{f"{objective}__pathway_id": filters.pathway_id})
    if filters.objective_id:
        queryset = queryset.filter(**{f"{objective}_id": filters.objective_id})
    return queryset


def key_result_export(*, organization: Organization, filters: PlanFilters) -> QuerySet[KeyResult]:
    """The key results with progress, by objective. One query."""
    key_results = (
        KeyResult.objects.for_org(organization)
        .select_related("objective__pathway", "objective__cycle", "owner")
        .annotate(progress=rollups.key_result_progress())
    )
    if filters.owner_id:
        key_results = key_results.filter(owner_id=filters.owner_id)
    return _in_plan(key_results, filters, "objective").order_by(
        "objective__pathway__position", "objective__title", "pk"
    )


def check_in_export(
    *, organization: Organization, filters: PlanFilters, as_of: datetime.date | None = None
) -> QuerySet[CheckIn]:
    """The check-ins (to the end of `as_of`, if given), newest first. One query."""
    check_ins = CheckIn.objects.for_org(organization).select_related(
        "key_result__objective__pathway", "author"
    )
    if as_of is not None:
        check_ins = check_ins.filter(checked_in_at__lte=end_of_day(as_of))
    return _in_plan(check_ins, filters, "key_result__objective").order_by("-checked_in_at", "-pk")


@dataclass(frozen=True)
class TaskFilters:
    project_id: int | None = None
    assignee_id: int | None = None
    status: str = ""
    overdue: bool = False
    as_of: datetime.date | None = None  # with `overdue`: overdue at the end of that day


def task_export(*, organization: Organization, filters: TaskFilters) -> QuerySet[Task]:
    """The tasks, by project and due date; only the overdue ones (as the overdue list, oldest
    due first) with `filters.overdue`. One query."""
    if filters.overdue:
        today = filters.as_of or timezone.localdate()
        as_of = end_of_day(filters.as_of) if filters.as_of else None
        tasks = overdue_tasks(organization=organization, today=today, as_of=as_of)
    else:
        tasks = (
            Task.objects.for_org(organization)
            .select_related("project", "assignee")
            .order_by("project__name", "due_on", "pk")
        )
    if filters.project_id:
        tasks = tasks.filter(project_id=filters.project_id)
    if filters.assignee_id:
        tasks = tasks.filter(assignee_id=filters.assignee_id)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    return tasks.select_related("project", "assignee")
