"""The project list and the overdue tasks, with their filters and pages."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from okrs import rollups, search
from okrs.models import (
    Pathway,
    Project,
)
from okrs.selectors.cycles import end_of_day
from okrs.selectors.plan import overdue_tasks
from orgs.models import Organization, Person


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
    projects = _filtered_projects(organization=organization, filters=filters)
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


def _filtered_projects(*, organization: Organization, filters: ProjectFilters) -> QuerySet[Project]:
    projects = projects_with_completion(organization=organization)
    if filters.status:
        projects = projects.filter(status=filters.status)
    if filters.pathway_id:
        projects = projects.filter(pathway_id=filters.pathway_id)
    if filters.owner_id:
        projects = projects.filter(owner_id=filters.owner_id)
    return projects


def project_export(*, organization: Organization, filters: ProjectFilters) -> list[Project]:
    """Every project the list shows for `filters`, in its order (two queries when searching,
    one otherwise): what its download holds."""
    projects = _filtered_projects(organization=organization, filters=filters)
    if not search.words(filters.query):
        return list(projects.order_by("name", "id"))
    candidates = projects.values_list("id", "name", "owner__name", "pathway__name")
    ranked = search.rank(
        filters.query,
        ((pk, " ".join(filter(None, texts))) for pk, *texts in candidates),
    )
    by_id = {project.pk: project for project in projects}
    return [by_id[pk] for pk in ranked if pk in by_id]


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
