"""The dashboard: the plan of a cycle, now or as of a past day, in a fixed number of queries
(pinned by tests at two data sizes), and cached per plan version."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from missionos import plan_cache
from okrs import progress, rollups
from okrs.models import (
    CheckIn,
    Cycle,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
)
from okrs.selectors.cycles import cycle_elapsed, cycle_on, end_of_day
from okrs.selectors.plan import (
    RECENT_LIMIT,
    open_task_q,
    overdue_tasks,
    pathways_with_progress,
    recent_check_ins,
)
from orgs.activity import note_target_states
from orgs.models import Activity, Organization
from orgs.tenancy import live_q

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
        cycle = cycle_on(cycles, today)
    elapsed = cycle_elapsed(cycle, today)
    week_before = (moment or timezone.now()) - TREND_WINDOW

    # The cycle's objectives with their health and progress, now and a week before, read once:
    # each pathway's figures, its objectives by health and the at-risk list come from these
    # rows (computing them three times, in three queries, was most of the page at 100x).
    objectives = list(
        _objectives_with_health(organization, cycle, elapsed, moment)
        .annotate(progress_week_before=rollups.objective_progress(week_before))
        .values_list("pk", "pathway_id", "title", "progress", "progress_week_before", "health")
        .order_by()
    )
    if cycle is not None:
        pathways = list(
            Pathway.objects.for_org(organization).annotate(
                objective_count=Count(
                    "objectives", filter=live_q("objectives") & Q(objectives__cycle=cycle)
                )
            )
        )
        now_by_pathway: dict[int, list] = defaultdict(list)
        before_by_pathway: dict[int, list] = defaultdict(list)
        for _, pathway_id, _, now_progress, before_progress, _ in objectives:
            now_by_pathway[pathway_id].append(now_progress)
            before_by_pathway[pathway_id].append(before_progress)
        for pathway in pathways:  # as okrs.rollups.pathway_progress: the mean of those known
            pathway.progress = progress.mean(now_by_pathway.get(pathway.pk, []))
            pathway.progress_week_before = progress.mean(before_by_pathway.get(pathway.pk, []))
    else:  # every objective of a pathway counts in its progress, not only those in no cycle
        pathways = list(
            pathways_with_progress(organization=organization, cycle=cycle, as_of=moment).annotate(
                progress_week_before=rollups.pathway_progress(cycle=cycle, as_of=week_before)
            )
        )
    health_counts: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    behind = []
    for pk, pathway_id, title, now_progress, _, health in objectives:
        health_counts[pathway_id][health] += 1
        if health in (progress.Health.AT_RISK, progress.Health.OFF_TRACK):
            behind.append((now_progress, title, pk))
    for pathway in pathways:
        counts = health_counts.get(pathway.pk, {})
        pathway.health_counts = {h: counts.get(h.value, 0) for h in progress.Health}
        pathway.trend = (
            pathway.progress - pathway.progress_week_before
            if pathway.progress is not None and pathway.progress_week_before is not None
            else None
        )
    # The furthest behind first (an objective behind has a progress, or a low confidence).
    behind.sort(key=lambda row: (row[0] is None, row[0] or 0.0, row[1], row[2]))
    shown_ids = [pk for _, _, pk in behind[:RECENT_LIMIT]]
    by_id = {
        objective.pk: objective
        for objective in _objectives_with_health(organization, cycle, elapsed, moment)
        .select_related("owner", "pathway")
        .filter(pk__in=shown_ids)
    }
    at_risk_shown = [by_id[pk] for pk in shown_ids if pk in by_id]
    for objective in at_risk_shown:
        objective.health = progress.Health(objective.health)
    at_risk_count = len(behind)

    overdue = overdue_tasks(organization=organization, today=today, as_of=moment)
    totals = Project.objects.for_org(organization).aggregate(
        project_count=Count("id", distinct=True),
        active_project_count=Count("id", filter=Q(status=ProjectStatus.ACTIVE), distinct=True),
        task_count=Count("tasks", filter=live_q("tasks")),
        open_task_count=Count("tasks", filter=live_q("tasks") & open_task_q(moment, "tasks__")),
    )
    # The cycle's check-ins, as every other part of the page shows the cycle's plan.
    check_ins = recent_check_ins(organization=organization).filter(
        key_result__objective__cycle=cycle
    )
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
        activity=_with_target_states(organization, list(activity[:ACTIVITY_LIMIT])),
        overdue_tasks=list(overdue[:RECENT_LIMIT]),
        overdue_count=overdue.count(),
        totals=totals,
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


def _with_target_states(organization: Organization, entries: list[Activity]) -> list[Activity]:
    """The lines, each knowing whether what it names is archived or deleted (its page would
    answer 404): one query per kind of record named."""
    note_target_states(organization, entries)
    return entries
