"""The rows of the objective, key result, check-in and task lists. Each list page pages through
them and its download (okrs.exports) holds all of them, so a download is always of what the
filtered list shows. Each reads a fixed number of queries whatever the number of rows (pinned
by tests at two data sizes); a text search ranks names in Python first (okrs.search), one query
more."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from okrs import progress, rollups, search
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from okrs.selectors.cycles import cycle_elapsed, end_of_day
from okrs.selectors.lists import Ranked, ranked
from okrs.selectors.plan import objectives_with_progress, overdue_tasks
from orgs.models import Organization, Person
from orgs.tenancy import live_q

OBJECTIVES_PER_PAGE = 50
KEY_RESULTS_PER_PAGE = 50
CHECK_INS_PER_PAGE = 50
TASKS_PER_PAGE = 50


@dataclass(frozen=True)
class PlanFilters:
    """Filters of the objective, key result and check-in lists; None or "": any. `health` is
    for objectives, `since` and `until` for check-ins, `query` for objectives and key results."""

    cycle_id: int | None = None
    pathway_id: int | None = None
    objective_id: int | None = None
    owner_id: int | None = None
    health: str = ""  # one of okrs.progress.Health
    query: str = ""
    since: datetime.date | None = None  # check-ins made on that day or later
    until: datetime.date | None = None  # check-ins made by the end of that day


def objective_rows(*, organization: Organization, filters: PlanFilters) -> list[Objective]:
    """The objectives with progress and health (each against its own cycle's time gone), by
    pathway and title, or best match first when searching. One query."""
    objectives = objectives_with_progress(organization=organization).filter(
        live_q("pathway"), live_q("cycle")
    )
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
            objective.progress,
            cycle_elapsed(objective.cycle),
            objective.min_confidence,
            measurable=objective.measurable,
        )
    if filters.health:
        rows = [objective for objective in rows if objective.health == filters.health]
    if search.words(filters.query):
        by_id = {objective.pk: objective for objective in rows}
        texts = ((o.pk, o.title, *_names(o.owner, o.pathway)) for o in rows)
        rows = [by_id[pk] for pk in search.rank(filters.query, texts)]
    return rows


def _names(*related: object) -> list[str]:
    """A searched row's context: the names of what it links to."""
    return [getattr(r, "name", "") or "" for r in related]


def _in_plan(queryset: QuerySet, filters: PlanFilters, objective: str) -> QuerySet:
    """`queryset` narrowed to the filters, `objective` being the path to the objective."""
    if filters.cycle_id:
        queryset = queryset.filter(**{f"{objective}__cycle_id": filters.cycle_id})
    if filters.pathway_id:
        queryset = queryset.filter(**{f"{objective}__pathway_id": filters.pathway_id})
    if filters.objective_id:
        queryset = queryset.filter(**{f"{objective}_id": filters.objective_id})
    return queryset


def key_result_rows(
    *, organization: Organization, filters: PlanFilters
) -> QuerySet[KeyResult] | Ranked:
    """The key results with progress and their last check-in's time, by objective, or best
    match first when searching. One query (two when searching)."""
    last_check_in = (
        CheckIn.objects.for_org(organization)
        .filter(key_result=OuterRef("pk"))
        .order_by("-checked_in_at")
        .values("checked_in_at")[:1]
    )
    key_results = (
        KeyResult.objects.for_org(organization)
        # An objective the sync archived without its key results takes them out of the list.
        .filter(live_q("objective"), objective__isnull=False)
        .select_related("objective__pathway", "objective__cycle", "owner")
        .annotate(
            progress=rollups.key_result_progress(), last_checked_in_at=Subquery(last_check_in)
        )
    )
    if filters.owner_id:
        key_results = key_results.filter(owner_id=filters.owner_id)
    key_results = _in_plan(key_results, filters, "objective").order_by(
        "objective__pathway__position", "objective__title", "pk"
    )
    return ranked(
        key_results,
        filters.query,
        ("title", "objective__title", "owner__name", "objective__pathway__name"),
    )


def check_in_rows(*, organization: Organization, filters: PlanFilters) -> QuerySet[CheckIn]:
    """The check-ins (made from `since` to the end of `until`, if given), newest first. One
    query."""
    check_ins = (
        CheckIn.objects.for_org(organization)
        .filter(live_q("key_result"), live_q("key_result__objective"), key_result__isnull=False)
        .select_related("key_result__objective__pathway", "author")
    )
    if filters.owner_id:
        check_ins = check_ins.filter(key_result__owner_id=filters.owner_id)
    if filters.since is not None:
        start = timezone.make_aware(datetime.datetime.combine(filters.since, datetime.time.min))
        check_ins = check_ins.filter(checked_in_at__gte=start)
    if filters.until is not None:
        check_ins = check_ins.filter(checked_in_at__lte=end_of_day(filters.until))
    return _in_plan(check_ins, filters, "key_result__objective").order_by("-checked_in_at", "-pk")


@dataclass(frozen=True)
class TaskFilters:
    project_id: int | None = None
    assignee_id: int | None = None
    status: str = ""
    overdue: bool = False
    as_of: datetime.date | None = None  # with `overdue`: overdue at the end of that day
    query: str = ""


def task_rows(*, organization: Organization, filters: TaskFilters) -> QuerySet[Task] | Ranked:
    """The tasks of live projects (and those in none), by project and due date; only the
    overdue ones (as the overdue list, oldest due first) with `filters.overdue`; best match
    first when searching. One query (two when searching)."""
    if filters.overdue:
        today = filters.as_of or timezone.localdate()
        as_of = end_of_day(filters.as_of) if filters.as_of else None
        tasks = overdue_tasks(organization=organization, today=today, as_of=as_of)
    else:
        tasks = (
            Task.objects.for_org(organization)
            .filter(live_q("project"))
            .order_by("project__name", "due_on", "pk")
        )
    if filters.project_id:
        tasks = tasks.filter(project_id=filters.project_id)
    if filters.assignee_id:
        tasks = tasks.filter(assignee_id=filters.assignee_id)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    tasks = tasks.select_related("project", "assignee")
    return ranked(tasks, filters.query, ("title", "project__name", "assignee__name"))


def plan_list_choices(*, organization: Organization, cycle_id: int | None) -> dict:
    """The filter choices of the objective, key result and check-in lists: cycles (newest
    first), pathways, the objectives of the chosen cycle (or all) and people. Four queries."""
    objectives = Objective.objects.for_org(organization).filter(live_q("cycle"))
    if cycle_id:
        objectives = objectives.filter(cycle_id=cycle_id)
    return {
        "cycles": list(Cycle.objects.for_org(organization).order_by("-starts_on", "-pk")),
        "pathways": list(
            Pathway.objects.for_org(organization).order_by("position", "name").only("id", "name")
        ),
        "objectives": list(objectives.order_by("title", "pk").only("id", "title")),
        "people": _people(organization),
    }


def task_list_choices(*, organization: Organization) -> dict:
    """The filter choices of the task list: projects and people. Two queries."""
    return {
        "projects": list(
            Project.objects.for_org(organization).order_by("name", "pk").only("id", "name")
        ),
        "people": _people(organization),
    }


def _people(organization: Organization) -> list[Person]:
    return list(
        Person.objects.for_org(organization)
        .order_by("name", "pk")
        .only("id", "name", "departed_on")
    )
