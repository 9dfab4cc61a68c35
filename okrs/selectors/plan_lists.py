"""The rows of the objective, key result, check-in and task lists. Each list page pages through
them and its download (okrs.exports) holds all of them, so a download is always of what the
filtered list shows. Each reads a fixed number of queries whatever the number of rows (pinned
by tests at two data sizes); a text search ranks names in Python first (okrs.search), one query
more."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from okrs import progress, rollups, search
from okrs.models import CheckIn, Cycle, KeyResult, Objective, Pathway, Project, Task
from okrs.selectors.cycles import cycle_elapsed, end_of_day
from okrs.selectors.lists import Ranked, ranked
from okrs.selectors.plan import overdue_tasks
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


class ObjectiveRows(Sequence):
    """The objective list's rows (a queryset, or a search's `Ranked`), each given its health
    as it is read: a page (a slice) computes only its own rows' progress, in the query that
    reads them, and a download reads them all once. What Paginator needs: `count()` and
    slices."""

    def __init__(self, rows: QuerySet[Objective] | Ranked):
        self.rows = rows

    def count(self) -> int:
        return self.rows.count() if isinstance(self.rows, QuerySet) else len(self.rows)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return _with_health(list(self.rows[index]))
        return self[index : index + 1][0] if index >= 0 else self[len(self) + index]

    def __iter__(self) -> Iterator[Objective]:
        rows = self.rows.iterator(chunk_size=2000) if isinstance(self.rows, QuerySet) else self.rows
        for objective in rows:
            yield from _with_health([objective])


def _with_health(objectives: list[Objective]) -> list[Objective]:
    """Each objective's health against its own cycle's time gone."""
    for objective in objectives:
        objective.health = progress.health(
            objective.progress,
            cycle_elapsed(objective.cycle),
            objective.min_confidence,
            measurable=objective.measurable,
        )
    return objectives


def objective_rows(*, organization: Organization, filters: PlanFilters) -> ObjectiveRows:
    """The objectives with progress and health (each against its own cycle's time gone), by
    pathway and title, or best match first when searching. Paged in the database: a page
    computes its own rows' progress only (two queries: the count, the page; a health filter
    compares every row's health in SQL, one query more for the cycles' time gone; a search
    one more for the ranking)."""
    objectives = (
        Objective.objects.for_org(organization)
        .filter(live_q("pathway"), live_q("cycle"))
        .select_related("owner", "pathway", "cycle")
        .annotate(
            progress=rollups.objective_progress(),
            min_confidence=rollups.objective_min_confidence(),
            measurable=rollups.objective_measurable(),
            # A subquery, not a join and GROUP BY: the page counts its own rows' key results.
            key_result_count=_count_of(
                KeyResult.objects.live().filter(objective=OuterRef("pk")).values("objective")
            ),
        )
    )
    if filters.cycle_id:
        objectives = objectives.filter(cycle_id=filters.cycle_id)
    if filters.pathway_id:
        objectives = objectives.filter(pathway_id=filters.pathway_id)
    if filters.objective_id:
        objectives = objectives.filter(pk=filters.objective_id)
    if filters.owner_id:
        objectives = objectives.filter(owner_id=filters.owner_id)
    if filters.health:
        objectives = objectives.annotate(
            health=rollups.objective_health(_cycle_elapsed_sql(organization))
        ).filter(health=filters.health)
    objectives = objectives.order_by("pathway__position", "pathway__name", "title", "pk")
    return ObjectiveRows(
        ranked(objectives, filters.query, ("title", "owner__name", "pathway__name"))
    )


def _cycle_elapsed_sql(organization: Organization) -> Case:
    """Each objective's cycle's time gone (`cycle_elapsed`), as an SQL value: one branch per
    cycle of the organization (a handful a year); 0 without a cycle, as `cycle_elapsed`."""
    cycles = Cycle.objects.for_org(organization).only("id", "starts_on", "ends_on")
    return Case(
        *(When(cycle_id=cycle.pk, then=Value(cycle_elapsed(cycle))) for cycle in cycles),
        default=Value(0.0),
        output_field=FloatField(),
    )


def _count_of(rows: QuerySet):
    """The number of `rows` (grouped by one column) as a subquery; 0 when there are none."""
    return Coalesce(Subquery(rows.order_by().annotate(n=Count("pk")).values("n")), Value(0))


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


def task_rows(*, organization: Organization, filters: TaskFilters) -> Sequence[Task]:
    """The tasks of live projects (and those in none), by project and due date, those in
    none last; only the overdue ones (as the overdue list, oldest due first) with
    `filters.overdue`; best match first when searching. Two queries for a page (one when
    searching: the ranking first)."""
    if filters.overdue:
        today = filters.as_of or timezone.localdate()
        as_of = end_of_day(filters.as_of) if filters.as_of else None
        tasks = overdue_tasks(organization=organization, today=today, as_of=as_of)
    else:
        tasks = Task.objects.for_org(organization)
    if filters.project_id:
        tasks = tasks.filter(project_id=filters.project_id)
    if filters.assignee_id:
        tasks = tasks.filter(assignee_id=filters.assignee_id)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    tasks = tasks.select_related("project", "assignee")
    if filters.overdue:
        return ranked(tasks, filters.query, ("title", "project__name", "assignee__name"))
    if search.words(filters.query):
        listed = tasks.filter(live_q("project")).order_by("project__name", "due_on", "pk")
        return ranked(listed, filters.query, ("title", "project__name", "assignee__name"))
    return TaskRows(organization, tasks)


class TaskRows(Sequence):
    """The task list's rows in two parts: the tasks of live projects by project name (read in
    the order of the project name index, project_live_by_name, then each project's tasks: a
    page reads its own rows, not a sort of every task), then those in no project. What
    Paginator needs: `count()` (both parts in one query) and slices."""

    def __init__(self, organization: Organization, tasks: QuerySet[Task]):
        self.tasks = tasks
        self.in_projects = tasks.filter(
            project__organization=organization, project__archived_at__isnull=True
        ).order_by("project__name", "project_id", "due_on", "pk")
        self.in_none = tasks.filter(project__isnull=True).order_by("due_on", "pk")
        self._counts: tuple[int, int] | None = None

    def counts(self) -> tuple[int, int]:
        if self._counts is None:
            counted = self.tasks.order_by().aggregate(
                in_projects=Count(
                    "pk",
                    filter=Q(project__isnull=False)
                    & Q(project__organization=F("organization"))
                    & live_q("project"),
                ),
                in_none=Count("pk", filter=Q(project__isnull=True)),
            )
            self._counts = (counted["in_projects"], counted["in_none"])
        return self._counts

    def count(self) -> int:
        return sum(self.counts())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0] if index >= 0 else self[len(self) + index]
        start, stop, _ = index.indices(len(self))
        in_projects, in_none = self.counts()
        rows: list[Task] = []
        if start < in_projects:
            rows += self.in_projects[start : min(stop, in_projects)]
        if stop > in_projects and in_none:
            rows += self.in_none[max(0, start - in_projects) : stop - in_projects]
        return rows

    def __iter__(self) -> Iterator[Task]:
        yield from self.in_projects.iterator(chunk_size=2000)
        yield from self.in_none.iterator(chunk_size=2000)


# A filter's menu lists at most this many choices (those in use, by name, the chosen one always
# among them), whatever the size of the organization: 4,400 projects in a <select> is neither
# usable nor cheap. The menu then says so, and the rest are found by the list's search or by
# narrowing another filter first (the pathway narrows the objectives).
FILTER_CHOICES_SHOWN = 100


@dataclass(frozen=True)
class FilterChoices:
    """One filter's menu: `options` by name, and whether there were more than it shows."""

    options: list
    more: bool = False

    def __iter__(self) -> Iterator:
        return iter(self.options)

    def __len__(self) -> int:
        return len(self.options)


def _filter_choices(
    queryset: QuerySet, order: tuple[str, ...], chosen: int | None
) -> FilterChoices:
    """The first FILTER_CHOICES_SHOWN rows of `queryset` in `order`, the chosen one among them
    (first picked, then put in its place). One query, reading no more than that many rows
    (plus one, to know whether there are more) when nothing is chosen."""
    if chosen:
        picked = Case(When(pk=chosen, then=Value(0)), default=Value(1))
        queryset = queryset.alias(chosen_first=picked).order_by("chosen_first", *order)
    else:
        queryset = queryset.order_by(*order)
    rows = list(queryset[: FILTER_CHOICES_SHOWN + 1])
    shown = rows[:FILTER_CHOICES_SHOWN]
    if chosen:
        names = [field.lstrip("-") for field in order]
        shown.sort(key=lambda row: tuple(getattr(row, name) for name in names))
    return FilterChoices(shown, more=len(rows) > FILTER_CHOICES_SHOWN)


def plan_list_choices(*, organization: Organization, filters: PlanFilters) -> dict:
    """The filter choices of the objective, key result and check-in lists: cycles (newest
    first), pathways, the objectives of the chosen cycle and pathway (or all) and the people
    who own objectives or key results; each menu capped (FILTER_CHOICES_SHOWN). Four queries."""
    objectives = Objective.objects.for_org(organization).filter(live_q("cycle"))
    if filters.cycle_id:
        objectives = objectives.filter(cycle_id=filters.cycle_id)
    if filters.pathway_id:
        objectives = objectives.filter(pathway_id=filters.pathway_id)
    owners = Person.objects.for_org(organization).filter(
        Exists(Objective.objects.live().filter(owner=OuterRef("pk")))
        | Exists(KeyResult.objects.live().filter(owner=OuterRef("pk")))
    )
    return {
        "cycles": list(Cycle.objects.for_org(organization).order_by("-starts_on", "-pk")),
        "pathways": list(
            Pathway.objects.for_org(organization).order_by("position", "name").only("id", "name")
        ),
        "objectives": _filter_choices(
            objectives.only("id", "title"), ("title", "pk"), filters.objective_id
        ),
        "people": _filter_choices(
            owners.only("id", "name", "departed_on"), ("name", "pk"), filters.owner_id
        ),
    }


def task_list_choices(*, organization: Organization, filters: TaskFilters) -> dict:
    """The filter choices of the task list: the projects that have tasks and the people
    assigned some, each menu capped (FILTER_CHOICES_SHOWN). Two queries."""
    live_tasks = Task.objects.live()
    projects = Project.objects.for_org(organization).filter(
        Exists(live_tasks.filter(project=OuterRef("pk")))
    )
    assignees = Person.objects.for_org(organization).filter(
        Exists(live_tasks.filter(assignee=OuterRef("pk")))
    )
    return {
        "projects": _filter_choices(
            projects.only("id", "name"), ("name", "pk"), filters.project_id
        ),
        "people": _filter_choices(
            assignees.only("id", "name", "departed_on"), ("name", "pk"), filters.assignee_id
        ),
    }
