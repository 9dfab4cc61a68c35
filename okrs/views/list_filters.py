"""The filters of the lists, read from a query string in one place: each list page and its
download (okrs.exports) call the same function, so a download holds what the page shows.
Garbage is never an error: a value that names nothing is no filter (an unknown status, a
non-number id), and another organization's id is kept, so it matches nothing."""

from __future__ import annotations

from django.http import QueryDict

from okrs import progress, selectors
from okrs.models import ProjectStatus, TaskStatus
from okrs.views.params import day_or_none, int_or_none, past_date
from orgs.models import Organization

ALL_CYCLES = "all"
QUERY_MAX = 200


def search_text(params: QueryDict) -> str:
    """The text search (`q`): whitespace collapsed, at most 200 characters."""
    return " ".join(params.get("q", "").split())[:QUERY_MAX]


def _choice(value: str, allowed) -> str:
    return value if value in allowed else ""


def project_filters(params: QueryDict) -> selectors.ProjectFilters:
    return selectors.ProjectFilters(
        status=_choice(params.get("status", ""), ProjectStatus.values),
        pathway_id=int_or_none(params.get("pathway")),
        owner_id=int_or_none(params.get("owner")),
        query=search_text(params),
    )


def task_filters(params: QueryDict) -> selectors.TaskFilters:
    as_of, _ = past_date(params.get("as_of"))
    return selectors.TaskFilters(
        project_id=int_or_none(params.get("project")),
        assignee_id=int_or_none(params.get("assignee")),
        status=_choice(params.get("status", ""), TaskStatus.values),
        overdue=params.get("overdue") == "1",
        as_of=as_of,
        query=search_text(params),
    )


def plan_filters(params: QueryDict, *, organization: Organization) -> selectors.PlanFilters:
    """The objective, key result and check-in lists' filters. The cycle is the one asked for
    (`?cycle=ID`), any (`?cycle=all`), or else the one the dashboard shows today
    (okrs.selectors.current_cycle), unless an objective is named: it has its own cycle."""
    objective_id = int_or_none(params.get("objective"))
    raw_cycle = params.get("cycle", "")
    if raw_cycle == ALL_CYCLES:
        cycle_id = None
    elif (cycle_id := int_or_none(raw_cycle)) is None and objective_id is None:
        current = selectors.current_cycle(organization=organization)
        cycle_id = current.pk if current else None
    since, until = day_or_none(params.get("since")), past_date(params.get("as_of"))[0]
    return selectors.PlanFilters(
        cycle_id=cycle_id,
        pathway_id=int_or_none(params.get("pathway")),
        objective_id=objective_id,
        owner_id=int_or_none(params.get("owner")),
        health=_choice(params.get("health", ""), {h.value for h in progress.Health}),
        query=search_text(params),
        since=since,
        until=until,
    )


def without_page(params: QueryDict) -> str:
    """The query string of a list's filters, for its download links (the page left out)."""
    query = params.copy()
    query.pop("page", None)
    return query.urlencode()
