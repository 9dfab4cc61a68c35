"""Reads for OKR pages. Each page's data comes from a fixed number of queries, whatever the
size of the organization (pinned by tests at two data sizes)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from missionos import plan_cache
from okrs import progress, rollups, search
from okrs.models import (
    CheckIn,
    Cycle,
    KeyResult,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Activity, Organization, Person
from orgs.tenancy import live_q

RECENT_LIMIT = 8
PATHWAY_PROJECTS_SHOWN = 12
CHECK_IN_DUE_AFTER = datetime.timedelta(days=7)


def current_cycle(
    *, organization: Organization, today: datetime.date | None = None
) -> Cycle | None:
    """The cycle containing today; else the latest one that has started; else the next one."""
    cycles = Cycle.objects.for_org(organization).order_by("-starts_on", "-pk")
    return _cycle_on(list(cycles), today or timezone.localdate())


def cycle_elapsed(cycle: Cycle | None, today: datetime.date | None = None) -> float:
    if cycle is None:
        return 0.0
    return progress.elapsed_fraction(cycle.starts_on, cycle.ends_on, today or timezone.localdate())


def objectives_with_progress(*, organization: Organization) -> QuerySet[Objective]:
    return (
        Objective.objects.for_org(organization)
        .select_related("owner", "pathway", "cycle")
        .annotate(
            progress=rollups.objective_progress(),
            min_confidence=rollups.objective_min_confidence(),
            key_result_count=Count("key_results", filter=live_q("key_results")),
        )
    )


def attach_health(objectives: list[Objective], elapsed: float) -> list[Objective]:
    for objective in objectives:
        objective.health = progress.health(objective.progress, elapsed, objective.min_confidence)
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
    return Task.objects.for_org(organization).filter(_open_task(as_of)).filter(live_q("project"))


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
        .filter(live_q("key_result"), key_result__isnull=False)
        .select_related("key_result__objective", "author")
        .order_by("-checked_in_at")
    )


ACTIVITY_LIMIT = 10
TREND_WINDOW = datetime.timedelta(days=7)


@dataclass
class Dashboard:
    cycle: Cycle | None
    cycles: list[Cycle]
    elapsed: float
    as_of: datetime.date | None  # None: now, live
    pathways: list[Pathway]
    at_risk: list[Objective]
    at_risk_count: int
    recent_check_ins: list[CheckIn]
    activity: list[Activity]
    overdue_tasks: list[Task]
    overdue_count: int
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def overdue_not_shown(self) -> int:
        return self.overdue_count - len(self.overdue_tasks)


# How long the dashboard's data and renderings stay cached: bounds the drift of "since last
# week" and of elapsed time (renderings are also keyed by the minute: okrs.views._this_minute).
DASHBOARD_CACHE_SECONDS = 60


def cached_dashboard(
    *,
    organization: Organization,
    cycle_id: int | None = None,
    as_of: datetime.date | None = None,
) -> Dashboard:
    """`dashboard()`, computed once per plan version: the refresh that one check-in triggers in
    every open browser costs one computation, not one each. Any plan change retires it
    (missionos.plan_cache.plan_version); so does a new day."""
    return plan_cache.plan_cached(
        organization.pk,
        "dashboard",
        (cycle_id, as_of, timezone.localdate()),
        lambda: dashboard(organization=organization, cycle_id=cycle_id, as_of=as_of),
        DASHBOARD_CACHE_SECONDS,
    )


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last moment of a day in the site's time zone: what "as of 3 Nov" includes."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.max))


def dashboard(
    *,
    organization: Organization,
    cycle_id: int | None = None,
    as_of: datetime.date | None = None,
) -> Dashboard:
    """The dashboard now, or as it stood at the end of `as_of` (rebuilt from check-in history
    and task completion times). Raises Cycle.DoesNotExist for a cycle not of this
    organization."""
    today = as_of or timezone.localdate()
    moment = end_of_day(as_of) if as_of else None
    cycles = list(Cycle.objects.for_org(organization).order_by("-starts_on", "-pk"))
    if cycle_id is not None:
        cycle = next((c for c in cycles if c.pk == cycle_id), None)
        if cycle is None:
            raise Cycle.DoesNotExist
    else:
        cycle = _cycle_on(cycles, today)
    elapsed = cycle_elapsed(cycle, today)
    week_before = (moment or timezone.now()) - TREND_WINDOW

    pathways = list(
        pathways_with_progress(organization=organization, cycle=cycle, as_of=moment).annotate(
            progress_week_before=rollups.pathway_progress(cycle=cycle, as_of=week_before)
        )
    )
    # Each pathway's objectives by health, counted in the database; the at-risk count (every
    # pathway, or none) comes from the same rows.
    health_counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    at_risk_count = 0
    for row in (
        _objectives_with_health(organization, cycle, elapsed, moment)
        .values("pathway", "health")
        .annotate(count=Count("pk"))
        .order_by()
    ):
        health_counts[row["pathway"]][row["health"]] = row["count"]
        if row["health"] in (progress.Health.AT_RISK, progress.Health.OFF_TRACK):
            at_risk_count += row["count"]
    for pathway in pathways:
        counts = health_counts.get(pathway.pk, {})
        pathway.health_counts = {h: counts.get(h.value, 0) for h in progress.Health}
        pathway.trend = (
            pathway.progress - pathway.progress_week_before
            if pathway.progress is not None and pathway.progress_week_before is not None
            else None
        )

    at_risk = (
        _objectives_with_health(organization, cycle, elapsed, moment)
        .select_related("owner", "pathway")
        .filter(health__in=[progress.Health.AT_RISK, progress.Health.OFF_TRACK])
        .order_by("progress", "title")
    )
    at_risk_shown = list(at_risk[:RECENT_LIMIT])
    for objective in at_risk_shown:
        objective.health = progress.Health(objective.health)

    overdue = overdue_tasks(organization=organization, today=today, as_of=moment)
    totals = Project.objects.for_org(organization).aggregate(
        project_count=Count("id", distinct=True),
        active_project_count=Count("id", filter=Q(status=ProjectStatus.ACTIVE), distinct=True),
        task_count=Count("tasks", filter=live_q("tasks")),
        open_task_count=Count("tasks", filter=live_q("tasks") & _open_task(moment, "tasks__")),
    )
    check_ins = recent_check_ins(organization=organization)
    activity = Activity.objects.for_org(organization).select_related("actor")
    if moment is not None:
        check_ins = check_ins.filter(checked_in_at__lte=moment)
        activity = activity.filter(occurred_at__lte=moment)
    return Dashboard(
        cycle=cycle,
        cycles=cycles,
        elapsed=elapsed,
        as_of=as_of,
        pathways=pathways,
        at_risk=at_risk_shown,
        at_risk_count=at_risk_count,
        recent_check_ins=list(check_ins[:RECENT_LIMIT]),
        activity=list(activity[:ACTIVITY_LIMIT]),
        overdue_tasks=list(overdue[:RECENT_LIMIT]),
        overdue_count=overdue.count(),
        totals=totals,
    )


def _cycle_on(cycles: list[Cycle], day: datetime.date) -> Cycle | None:
    """`current_cycle`'s rule over the organization's cycles, newest first."""
    return (
        next((c for c in cycles if c.starts_on <= day <= c.ends_on), None)
        or next((c for c in cycles if c.starts_on <= day), None)
        or (cycles[-1] if cycles else None)
    )


def _objectives_with_health(
    organization: Organization,
    cycle: Cycle | None,
    elapsed: float,
    moment: datetime.datetime | None,
) -> QuerySet[Objective]:
    return (
        Objective.objects.for_org(organization)
        .filter(cycle=cycle)
        .annotate(
            progress=rollups.objective_progress(moment),
            min_confidence=rollups.objective_min_confidence(moment),
        )
        .annotate(health=rollups.objective_health(elapsed))
    )


def _open_task(moment: datetime.datetime | None, via: str = "") -> Q:
    """Tasks not done, now or at `moment` (`via`: the relation from another model, "tasks__").
    A task done with no completion time recorded counts as done all along (no history)."""
    not_done = ~Q(**{f"{via}status": TaskStatus.DONE})
    if moment is None:
        return not_done
    return Q(**{f"{via}completed_at__gt": moment}) | (
        Q(**{f"{via}completed_at__isnull": True}) & not_done
    )


def pathway_page(*, organization: Organization, pathway_id: int) -> dict:
    """The pathway with progress, its objectives with health, and its projects.
    Raises Pathway.DoesNotExist for another organization's id."""
    cycle = current_cycle(organization=organization)
    elapsed = cycle_elapsed(cycle)
    pathway = pathways_with_progress(organization=organization, cycle=cycle).get(pk=pathway_id)
    objectives = attach_health(
        list(
            objectives_with_progress(organization=organization)
            .filter(pathway=pathway)
            .order_by("-cycle__starts_on", "title")
        ),
        elapsed,
    )
    projects = projects_with_completion(organization=organization).filter(pathway=pathway)
    return {
        "pathway": pathway,
        "cycle": cycle,
        "objectives": objectives,
        "projects": list(projects.order_by("-last_activity_at", "id")[:PATHWAY_PROJECTS_SHOWN]),
        "project_count": projects.count(),
    }


def objective_page(*, organization: Organization, objective_id: int) -> Objective:
    """The objective with progress, health, its key results (with progress and recent history)
    and the aligned objectives. Raises Objective.DoesNotExist for another org's id."""
    key_results = (
        KeyResult.objects.for_org(organization)
        .select_related("owner")
        .annotate(progress=rollups.key_result_progress())
        .prefetch_related(
            Prefetch(
                "check_ins",
                queryset=CheckIn.objects.for_org(organization)
                .select_related("author")
                .order_by("-checked_in_at"),
            )
        )
        .order_by("id")
    )
    objective = (
        objectives_with_progress(organization=organization)
        .select_related("parent")
        .prefetch_related(
            Prefetch("key_results", queryset=key_results, to_attr="live_key_results"),
            Prefetch(
                "children",
                queryset=Objective.objects.for_org(organization).order_by("title"),
                to_attr="aligned",
            ),
            Prefetch(
                "projects",
                queryset=Project.objects.for_org(organization).order_by("name"),
                to_attr="live_projects",
            ),
        )
        .get(pk=objective_id)
    )
    objective.health = progress.health(
        objective.progress, cycle_elapsed(objective.cycle), objective.min_confidence
    )
    objective.pathway_progress = (
        pathways_with_progress(organization=organization, cycle=objective.cycle)
        .filter(pk=objective.pathway_id)
        .values_list("progress", flat=True)
        .first()
    )
    return objective


def projects_with_completion(*, organization: Organization) -> QuerySet[Project]:
    return (
        Project.objects.for_org(organization)
        .select_related("pathway", "owner")
        .annotate(**rollups.project_task_counts())
        .annotate(completion=rollups.project_completion())
    )


@dataclass(frozen=True)
class ProjectFilters:
    status: str = ""
    pathway_id: int | None = None
    owner_id: int | None = None
    query: str = ""


PROJECTS_PER_PAGE = 50


def project_list(
    *, organization: Organization, filters: ProjectFilters, page: str | int | None = 1
) -> Page:
    """One page of the filtered projects: by name, or best match first when searching.
    A page number that is garbage or out of range gives the nearest real page."""
    projects = projects_with_completion(organization=organization)
    if filters.status:
        projects = projects.filter(status=filters.status)
    if filters.pathway_id:
        projects = projects.filter(pathway_id=filters.pathway_id)
    if filters.owner_id:
        projects = projects.filter(owner_id=filters.owner_id)
    if not search.words(filters.query):
        return Paginator(projects.order_by("name", "id"), PROJECTS_PER_PAGE).get_page(page)
    # Rank names in Python (typo-tolerant, same on every database), then fetch one page.
    candidates = projects.values_list("id", "name", "owner__name", "pathway__name")
    ranked = search.rank(
        filters.query,
        ((pk, " ".join(filter(None, texts))) for pk, *texts in candidates),
    )
    page_of_ids = Paginator(ranked, PROJECTS_PER_PAGE).get_page(page)
    by_id = {project.pk: project for project in projects.filter(pk__in=page_of_ids.object_list)}
    page_of_ids.object_list = [by_id[pk] for pk in page_of_ids.object_list if pk in by_id]
    return page_of_ids


OVERDUE_PER_PAGE = 50


def overdue_task_list(
    *, organization: Organization, as_of: datetime.date | None = None, page: str | int | None = 1
) -> Page:
    """Every task overdue today (or at the end of `as_of`), oldest due date first, a page at a
    time; out-of-range page numbers give the nearest real page."""
    today = as_of or timezone.localdate()
    tasks = overdue_tasks(
        organization=organization, today=today, as_of=end_of_day(as_of) if as_of else None
    )
    return Paginator(tasks, OVERDUE_PER_PAGE).get_page(page)


def project_page(*, organization: Organization, project_id: int) -> Project:
    tasks = Task.objects.for_org(organization).select_related("assignee")
    return (
        projects_with_completion(organization=organization)
        .prefetch_related(
            Prefetch("tasks", queryset=tasks, to_attr="live_tasks"),
            Prefetch(
                "objectives",
                queryset=Objective.objects.for_org(organization),
                to_attr="live_objectives",
            ),
        )
        .get(pk=project_id)
    )


@dataclass
class OrganizationWork:
    organization: Organization
    open_tasks: list[Task] = field(default_factory=list)
    key_results: list[KeyResult] = field(default_factory=list)

    @property
    def check_ins_due(self) -> list[KeyResult]:
        return [kr for kr in self.key_results if kr.check_in_due]


def my_work(
    *, user: AbstractBaseUser, now: datetime.datetime | None = None
) -> list[OrganizationWork]:
    """A user's open tasks and owned key results in every organization they belong to."""
    now = now or timezone.now()
    people = Person.objects.for_member(user).filter(user=user)
    tasks = (
        Task.objects.for_member(user)
        .filter(live_q("project"), assignee__in=people)
        .exclude(status=TaskStatus.DONE)
        .select_related("project", "organization")
        .order_by("organization__name", "due_on", "id")
    )
    key_results = (
        KeyResult.objects.for_member(user)
        .filter(live_q("objective"), owner__in=people)
        .select_related("objective", "organization")
        .annotate(
            progress=rollups.key_result_progress(),
            last_check_in=Max("check_ins__checked_in_at", filter=live_q("check_ins")),
        )
        .order_by("organization__name", "objective__title", "id")
    )
    groups: dict[int, OrganizationWork] = {}
    for task in tasks:
        groups.setdefault(
            task.organization_id, OrganizationWork(task.organization)
        ).open_tasks.append(task)
    for key_result in key_results:
        key_result.check_in_due = (
            key_result.last_check_in is None or now - key_result.last_check_in > CHECK_IN_DUE_AFTER
        )
        groups.setdefault(
            key_result.organization_id, OrganizationWork(key_result.organization)
        ).key_results.append(key_result)
    return sorted(groups.values(), key=lambda group: group.organization.name)


def organization_choices(*, organization: Organization) -> dict:
    """Filter choices for the project list: pathways and people who own projects."""
    return {
        "pathways": list(Pathway.objects.for_org(organization).only("id", "name")),
        "owners": list(
            Person.objects.for_org(organization)
            .filter(projects__isnull=False)
            .distinct()
            .only("id", "name", "departed_on")
        ),
    }
