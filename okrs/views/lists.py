"""The lists of objectives, key results, check-ins and tasks: filters from the query string
(okrs.views.list_filters), one page of the list's selector, and download links that carry the
same filters (okrs.exports reads them alike)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from okrs import progress, selectors
from okrs.models import TaskStatus
from okrs.views import list_filters
from orgs.permissions import Action


def _list_page(request: HttpRequest, template: str, results: str, context: dict) -> HttpResponse:
    """The page, or only its results (`template#results`) for the filters' htmx request."""
    context["export_query"] = list_filters.without_page(request.GET)
    if request.htmx and request.htmx.target == results:
        return render(request, f"{template}#{results}", context)
    return render(request, template, context)


def _plan_context(request: HttpRequest, rows, per_page: int) -> dict:
    filters = list_filters.plan_filters(request.GET, organization=request.org)
    return {
        "filters": filters,
        "page": selectors.page_of(
            rows(organization=request.org, filters=filters), request.GET.get("page"), per_page
        ),
        "all_cycles": list_filters.ALL_CYCLES,
        **selectors.plan_list_choices(organization=request.org, filters=filters),
    }


def objective_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    context = _plan_context(request, selectors.objective_rows, selectors.OBJECTIVES_PER_PAGE)
    context["healths"] = list(progress.Health)
    return _list_page(request, "okrs/objective_list.html", "objective-results", context)


def key_result_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    context = _plan_context(request, selectors.key_result_rows, selectors.KEY_RESULTS_PER_PAGE)
    context["can_check_in"] = request.membership.allows(Action.CHECK_IN)
    return _list_page(request, "okrs/key_result_list.html", "key-result-results", context)


def check_in_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    context = _plan_context(request, selectors.check_in_rows, selectors.CHECK_INS_PER_PAGE)
    return _list_page(request, "okrs/check_in_list.html", "check-in-results", context)


def task_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    filters = list_filters.task_filters(request.GET)
    context = {
        "filters": filters,
        "page": selectors.page_of(
            selectors.task_rows(organization=request.org, filters=filters),
            request.GET.get("page"),
            selectors.TASKS_PER_PAGE,
        ),
        "statuses": TaskStatus.choices,
        "today": filters.as_of or timezone.localdate(),
        **selectors.task_list_choices(organization=request.org, filters=filters),
    }
    return _list_page(request, "okrs/task_list.html", "task-results", context)
