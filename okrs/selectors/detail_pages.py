"""The pathway, objective and project pages: each page's data in a fixed number of queries."""

from __future__ import annotations

import datetime

from django.db.models import BooleanField, DecimalField, ExpressionWrapper, Prefetch, Value
from django.utils import timezone

from okrs import progress, rollups
from okrs.models import (
    KeyResult,
    Objective,
    Project,
    Task,
)
from okrs.selectors.cycles import chosen_cycle, cycle_elapsed, end_of_day
from okrs.selectors.lists import projects_with_completion
from okrs.selectors.plan import attach_health, objectives_with_progress, pathways_with_progress
from okrs.selectors.track import live_check_ins
from orgs.models import Organization

PATHWAY_PROJECTS_SHOWN = 12


def pathway_page(
    *,
    organization: Organization,
    pathway_id: int,
    cycle_id: int | None = None,
    as_of: datetime.date | None = None,
) -> dict:
    """The pathway in one cycle (`cycle_id`, else the one the dashboard shows on the day) now or
    as it stood at the end of `as_of`, as the dashboard shows it: its progress, the cycle's
    objectives with health, and its projects. Raises Pathway.DoesNotExist for another
    organization's id, Cycle.DoesNotExist for another organization's cycle."""
    today = as_of or timezone.localdate()
    moment = end_of_day(as_of) if as_of else None
    cycle = chosen_cycle(organization=organization, cycle_id=cycle_id, today=today)
    elapsed = cycle_elapsed(cycle, today)
    pathway = pathways_with_progress(organization=organization, cycle=cycle, as_of=moment).get(
        pk=pathway_id
    )
    objectives = attach_health(
        list(
            objectives_with_progress(organization=organization, as_of=moment)
            .filter(pathway=pathway, cycle=cycle)
            .order_by("title")
        ),
        elapsed,
    )
    projects = projects_with_completion(organization=organization).filter(pathway=pathway)
    return {
        "pathway": pathway,
        "cycle": cycle,
        "as_of": as_of,
        "objectives": objectives,
        "projects": list(projects.order_by("-last_activity_at", "id")[:PATHWAY_PROJECTS_SHOWN]),
        "project_count": projects.count(),
    }


def objective_page(
    *, organization: Organization, objective_id: int, as_of: datetime.date | None = None
) -> Objective:
    """The objective with progress, health, its key results (with progress and recent history)
    and the aligned objectives, now or as they stood at the end of `as_of` (its check-ins up to
    then). Raises Objective.DoesNotExist for another org's id."""
    today = as_of or timezone.localdate()
    moment = end_of_day(as_of) if as_of else None
    key_results = (
        KeyResult.objects.for_org(organization)
        .select_related("owner")
        .annotate(
            progress=rollups.key_result_progress(moment),
            started=ExpressionWrapper(
                rollups.key_result_started(moment), output_field=BooleanField()
            ),
            # None now: the page shows the current value.
            value_then=rollups.key_result_value(moment)
            if moment
            else Value(None, output_field=DecimalField()),
        )
        .prefetch_related(live_check_ins(organization, until=moment))
        .order_by("id")
    )
    objective = (
        objectives_with_progress(organization=organization, as_of=moment)
        .select_related("parent", "carried_over_from")
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
        objective.progress,
        cycle_elapsed(objective.cycle, today),
        objective.min_confidence,
        measurable=objective.measurable,
    )
    objective.as_of = as_of
    objective.pathway_progress = (
        pathways_with_progress(organization=organization, cycle=objective.cycle, as_of=moment)
        .filter(pk=objective.pathway_id)
        .values_list("progress", flat=True)
        .first()
    )
    return objective


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
