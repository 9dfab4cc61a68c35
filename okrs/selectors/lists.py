"""The project list and the overdue tasks, with their filters and pages."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from okrs import rollups, search
from okrs.models import (
    Pathway,
    Project,
)
from okrs.selectors import search as search_engine
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


class Ranked(Sequence):
    """The rows of `queryset` whose ids are `ids`, in that order: a slice (a page: Paginator
    takes any sequence) reads only its own rows; going through them all (a download) reads the
    queryset once, whatever the number of rows. What a text search gives: ids ranked in Python,
    then the rows."""

    def __init__(self, queryset: QuerySet, ids: list[int]):
        self.queryset, self.ids = queryset, ids

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._in_order(self.queryset.filter(pk__in=self.ids[index]), self.ids[index])
        return self[index : index + 1][0] if index >= 0 else self[len(self) + index]

    def __iter__(self) -> Iterator:
        # The whole queryset, not `pk__in` all the ids: a database caps a query's parameters.
        return iter(self._in_order(self.queryset, self.ids))

    @staticmethod
    def _in_order(rows: QuerySet, ids: list[int]) -> list:
        if not ids:
            return []
        wanted = set(ids)
        by_id = {row.pk: row for row in rows.iterator(chunk_size=2000) if row.pk in wanted}
        return [by_id[pk] for pk in ids if pk in by_id]


def ranked(queryset: QuerySet, query: str, fields: tuple[str, ...]) -> QuerySet | Ranked:
    """`queryset` as it is without search words in `query`; else its rows that match `query`
    in `fields` (the name first, then its context: "title", "owner__name"), best match first
    (okrs.selectors.search): one query for the candidates, then the rows a slice at a time."""
    if not search.words(query):
        return queryset
    return Ranked(queryset, search_engine.ranked_ids(queryset, query, fields))


def project_rows(*, organization: Organization, filters: ProjectFilters) -> QuerySet | Ranked:
    """The filtered projects, by name, or best match first when searching: what the project
    list pages through and its download holds."""
    projects = projects_with_completion(organization=organization)
    if filters.status:
        projects = projects.filter(status=filters.status)
    if filters.pathway_id:
        projects = projects.filter(pathway_id=filters.pathway_id)
    if filters.owner_id:
        projects = projects.filter(owner_id=filters.owner_id)
    return ranked(
        projects.order_by("name", "id"), filters.query, ("name", "owner__name", "pathway__name")
    )


def page_of(rows, page: str | int | None, per_page: int) -> Page:
    """One page of `rows`; a page number that is garbage or out of range gives the nearest
    real page."""
    return Paginator(rows, per_page).get_page(page)


def project_list(
    *, organization: Organization, filters: ProjectFilters, page: str | int | None = 1
) -> Page:
    """One page of the filtered projects (`project_rows`)."""
    return page_of(
        project_rows(organization=organization, filters=filters), page, PROJECTS_PER_PAGE
    )


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
