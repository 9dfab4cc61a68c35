"""The project list, a project's page with its tasks, moving a task along, and the overdue
tasks."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from okrs import selectors, services
from okrs.charts.pages import (
    project_burnup_chart,
)
from okrs.forms import (
    TaskStatusForm,
)
from okrs.models import (
    ProjectStatus,
    Task,
    TaskStatus,
)
from okrs.views import list_filters
from okrs.views.params import past_date
from orgs import provenance
from orgs.permissions import Action, require_permission
from orgs.shortcuts import found_or_404, org_object_or_404, org_url


def project_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    filters = list_filters.project_filters(request.GET)
    context = {
        "page": selectors.project_list(
            organization=request.org, filters=filters, page=request.GET.get("page")
        ),
        "export_query": list_filters.without_page(request.GET),
        "filters": filters,
        "statuses": ProjectStatus.choices,
        **selectors.organization_choices(organization=request.org),
    }
    if request.htmx and request.htmx.target == "project-results":
        return render(request, "okrs/project_list.html#project-results", context)
    return render(request, "okrs/project_list.html", context)


def _project_context(request: HttpRequest, project_id: int) -> dict:
    project = found_or_404(
        lambda: selectors.project_page(organization=request.org, project_id=project_id)
    )
    provenance.attach_sources(organization=request.org, records=[project, *project.live_tasks])
    return {
        "project": project,
        # Also answered after a task moves, where the chart is swapped in out of band.
        "burnup_chart": project_burnup_chart(organization=request.org, project=project),
        "today": timezone.localdate(),
        "task_statuses": TaskStatus.choices,
        "can_move_tasks": request.membership.allows(Action.EDIT_TASKS),
    }


def project_detail(request: HttpRequest, org_slug: str, project_id: int) -> HttpResponse:
    return render(request, "okrs/project_detail.html", _project_context(request, project_id))


@require_POST
@require_permission(Action.EDIT_TASKS)
def task_status(request: HttpRequest, org_slug: str, task_id: int) -> HttpResponse:
    task = org_object_or_404(request, Task, pk=task_id)
    form = TaskStatusForm(request.POST)
    if form.is_valid():
        services.task_set_status(
            task=task, status=TaskStatus(form.cleaned_data["status"]), actor=request.user
        )
    elif not request.htmx:
        messages.error(request, "Choose one of the listed statuses.")
    if task.project_id is None:
        # A synced task whose project is gone in Airtable: no project page shows it, so go to
        # its edit page (where it can be put in a project), with htmx too.
        if form.is_valid():
            messages.success(request, f"“{task.title}” moved to {task.get_status_display()}.")
        elif request.htmx:
            messages.error(request, "Choose one of the listed statuses.")
        edit_url = org_url(request, "task_edit", task_id=task.pk)
        return HttpResponseClientRedirect(edit_url) if request.htmx else redirect(edit_url)
    if not request.htmx:
        return redirect(org_url(request, "project_detail", project_id=task.project_id))
    context = _project_context(request, task.project_id)
    context["task"] = next(t for t in context["project"].live_tasks if t.pk == task.pk)
    context["status_error"] = None if form.is_valid() else "Choose one of the listed statuses."
    return render(request, "okrs/project_detail.html#task-status-response", context)


def overdue_task_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The tasks behind the dashboard's overdue count (`?as_of=` as on the dashboard)."""
    as_of, as_of_problem = past_date(request.GET.get("as_of"))
    context = {
        "page": selectors.overdue_task_list(
            organization=request.org, as_of=as_of, page=request.GET.get("page")
        ),
        "as_of": as_of,
        "as_of_problem": as_of_problem,
        "export_query": urlencode({"overdue": 1, **({"as_of": f"{as_of}"} if as_of else {})}),
        "today": as_of or timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "overdue-results":
        return render(request, "okrs/overdue_tasks.html#overdue-results", context)
    return render(request, "okrs/overdue_tasks.html", context)
