"""The pathway, objective and project pages: each page's data in a fixed number of queries."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Prefetch

from okrs import progress, rollups
from okrs.models import (
    KeyResult,
    Objective,
    Project,
    Task,
)
from okrs.selectors.cycles import current_cycle, cycle_elapsed
from okrs.selectors.lists import projects_with_completion
from okrs.selectors.plan import attach_health, objectives_with_progress, pathways_with_progress
from okrs.selectors.track import live_check_ins
from orgs.models import Organization

PATHWAY_PROJECTS_SHOWN = 12


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
        .annotate(
            progress=rollups.key_result_progress(),
            started=ExpressionWrapper(rollups.key_result_started(), output_field=BooleanField()),
        )
        .prefetch_related(live_check_ins(organization))
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
        objective.progress,
        cycle_elapsed(objective.cycle),
        objective.min_confidence,
        measurable=objective.measurable,
    )
    objective.pathway_progress = (
        pathways_with_progress(organization=organization, cycle=objective.cycle)
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
