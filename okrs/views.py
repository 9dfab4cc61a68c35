from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from missionos import events, plan_cache
from missionos.form_flow import form_page
from missionos.page_cache import plan_page
from okrs import selectors, services
from okrs.charts.pages import (
    objective_progress_chart,
    pathway_progress_chart,
    project_burnup_chart,
)
from okrs.dashboard_cards import DashboardCard, dashboard_card, dashboard_cards
from okrs.forms import (
    CheckInForm,
    CycleForm,
    KeyResultForm,
    ObjectiveForm,
    PathwayForm,
    ProjectForm,
    TaskForm,
    TaskStatusForm,
)
from okrs.models import (
    KeyResult,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs import provenance
from orgs import selectors as org_selectors
from orgs import services as org_services
from orgs.permissions import Action, require_permission

T = TypeVar("T")


def _org_get(request: HttpRequest, model, pk: int):
    """An object of the request's organization, or 404 (missing and foreign look the same)."""
    return get_object_or_404(model.objects.for_org(request.org), pk=pk)


def _org_url(request: HttpRequest, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


def _found(lookup: Callable[[], T]) -> T:
    """Run a selector that fetches one object; missing or foreign is a 404."""
    try:
        return lookup()
    except ObjectDoesNotExist as missing:
        raise Http404("Not found.") from missing


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def org_home(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The dashboard, for a cycle (`?cycle=ID`, default the current one) and now or as it stood
    on a past day (`?as_of=YYYY-MM-DD`). Open dashboards fetch it again in parts when something
    changes: `?fragment=live` (the plan) and `?fragment=sync` (the last sync)."""
    fragment = request.GET.get("fragment")
    as_of, as_of_problem = _past_date(request.GET.get("as_of"))
    cycle_id = request.GET.get("cycle") or None
    if cycle_id is not None and _int_or_none(cycle_id) is None:
        raise Http404("No such cycle.")
    view_query = {
        key: value
        for key, value in (("cycle", cycle_id), ("as_of", as_of and as_of.isoformat()))
        if value
    }
    context: dict = {
        # A past day does not change: no stream, no polling.
        "live_stream": events.live_updates_enabled(request) and as_of is None,
        "live_poll": as_of is None,
        "as_of_problem": as_of_problem,
        "view_query": urlencode(view_query),
    }

    def card_parts(cards: list[DashboardCard]) -> dict[str, str]:
        return _dashboard_parts(
            request,
            context,
            {card.name: card.template for card in cards},
            variant=(as_of is None,),
            data=lambda: {
                key: value for card in cards for key, value in card.data(request.org).items()
            },
        )

    def cards_context() -> dict[str, list[str]]:
        return {"cards": list(card_parts(dashboard_cards()).values())}

    def plan_parts() -> dict[str, str]:
        return _dashboard_parts(
            request,
            context,
            {"head": "okrs/home.html#head", "live": "okrs/home.html#live"},
            variant=(cycle_id, as_of),
            data=lambda: {
                "dashboard": _found(
                    lambda: selectors.cached_dashboard(
                        organization=request.org, cycle_id=_int_or_none(cycle_id), as_of=as_of
                    )
                )
            },
        )

    if fragment == "live":
        return HttpResponse(plan_parts()["live"])
    if fragment and (card := dashboard_card(fragment)):
        return HttpResponse(card_parts([card])[card.name])
    if as_of_problem:  # shown once, for a date typed by hand: not worth a cache entry
        return render(request, "okrs/home.html", {**context, **cards_context(), **plan_parts()})
    return plan_page(
        request,
        "okrs/home.html",
        organization_id=request.org.pk,
        name="dashboard-page",
        viewer=org_selectors.header_key(user=request.user, membership=request.membership),
        variant=(_this_minute(), context["live_stream"], cycle_id, as_of),
        context=lambda: {**context, **cards_context(), **plan_parts()},
        timeout=selectors.DASHBOARD_CACHE_SECONDS,
    )


def _this_minute() -> str:
    """Part of the key of anything cached that shows the clock ("5 minutes ago", the share of
    the cycle gone): it is rendered again each minute."""
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def _dashboard_parts(
    request: HttpRequest,
    context: dict,
    parts: dict[str, str],
    *,
    variant: tuple,
    data: Callable[[], dict],
) -> dict[str, str]:
    """Parts of the dashboard (name: template), rendered from `data()` once per plan version
    (any plan or sync change retires them, missionos.plan_cache.plan_version) for each view of
    it (`variant`): every open dashboard refetches them on each change, and leadership mostly
    reads. They depend on the role (which links a member gets) and on the clock, so both are in
    the key too."""

    def render_parts() -> dict[str, str]:
        part_context = {**context, **data()}
        return {
            part: render_to_string(template, part_context, request)
            for part, template in parts.items()
        }

    return plan_cache.plan_cached(
        request.org.pk,
        "dashboard-html-" + "-".join(parts),
        (
            request.org.slug,
            request.membership.role,
            context["live_stream"],
            _this_minute(),
            *variant,
        ),
        render_parts,
        selectors.DASHBOARD_CACHE_SECONDS,
    )


def _past_date(value: str | None) -> tuple[datetime.date | None, str]:
    """A day to show the dashboard as of: (the day, "") or (None, why it was refused)."""
    if not value:
        return None, ""
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None, f"“{value[:40]}” is not a date (use YYYY-MM-DD); showing today instead."
    today = timezone.localdate()
    if day > today:
        return None, f"{day:%-d %b %Y} has not happened yet; showing today instead."
    return (day, "") if day < today else (None, "")  # today is the live dashboard


def pathway_detail(request: HttpRequest, org_slug: str, pathway_id: int) -> HttpResponse:
    context = _found(
        lambda: selectors.pathway_page(organization=request.org, pathway_id=pathway_id)
    )
    context["progress_chart"] = pathway_progress_chart(
        organization=request.org, pathway=context["pathway"], cycle=context["cycle"]
    )
    provenance.attach_sources(organization=request.org, records=[context["pathway"]])
    return render(request, "okrs/pathway_detail.html", context)


def _objective_context(request: HttpRequest, objective_id: int, **extra) -> dict:
    objective = _found(
        lambda: selectors.objective_page(organization=request.org, objective_id=objective_id)
    )
    can_check_in = request.membership.allows(Action.CHECK_IN)
    forms_by_kr = extra.pop("check_in_forms", {})
    for key_result in objective.live_key_results:
        key_result.check_in_form = forms_by_kr.get(key_result.pk) or CheckInForm(
            key_result=key_result, initial={"confidence": key_result.confidence}
        )
    provenance.attach_sources(
        organization=request.org, records=[objective, *objective.live_key_results]
    )
    # Also answered after a check-in, where the chart is swapped in out of band.
    progress_chart = objective_progress_chart(organization=request.org, objective=objective)
    return {
        "objective": objective,
        "can_check_in": can_check_in,
        "progress_chart": progress_chart,
        **extra,
    }


def objective_detail(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    """The objective. Open pages fetch `?fragment=live` (its progress and chart, swapped in out
    of band) when the plan changes, as the dashboard does."""
    context = _objective_context(request, objective_id)
    if request.GET.get("fragment") == "live":
        return render(request, "okrs/objective_detail.html#live-response", context)
    context["live_stream"] = events.live_updates_enabled(request)
    return render(request, "okrs/objective_detail.html", context)


@require_POST
@require_permission(Action.CHECK_IN)
def check_in_create(request: HttpRequest, org_slug: str, key_result_id: int) -> HttpResponse:
    """Record a check-in. With htmx, answer the key result's row plus out-of-band updates of
    the objective's and pathway's progress; without JavaScript, redirect back."""
    key_result = _org_get(request, KeyResult, key_result_id)
    form = CheckInForm(request.POST, key_result=key_result)
    if form.is_valid():
        services.check_in_create(
            key_result=key_result,
            value=form.cleaned_data["value"],
            confidence=form.cleaned_data["confidence"],
            note=form.cleaned_data["note"],
            author=request.user,
        )
        if not request.htmx:
            messages.success(request, f"Checked in on “{key_result.title}”.")
            return redirect(
                _org_url(request, "objective_detail", objective_id=key_result.objective_id)
            )
        context = _objective_context(
            request, key_result.objective_id, just_checked_in=key_result.pk
        )
    else:
        context = _objective_context(
            request, key_result.objective_id, check_in_forms={key_result.pk: form}
        )
    context["key_result"] = next(
        kr for kr in context["objective"].live_key_results if kr.pk == key_result.pk
    )
    if request.htmx:
        # htmx only swaps 2xx answers, so a refused form is a 200 carrying its errors.
        return render(request, "okrs/objective_detail.html#check-in-response", context)
    return render(request, "okrs/objective_detail.html", context, status=400)


def project_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    params = request.GET
    status = params.get("status", "")
    filters = selectors.ProjectFilters(
        status=status if status in ProjectStatus.values else "",
        pathway_id=_int_or_none(params.get("pathway")),
        owner_id=_int_or_none(params.get("owner")),
        query=" ".join(params.get("q", "").split())[:200],
    )
    context = {
        "page": selectors.project_list(
            organization=request.org, filters=filters, page=params.get("page")
        ),
        "filters": filters,
        "statuses": ProjectStatus.choices,
        **selectors.organization_choices(organization=request.org),
    }
    if request.htmx and request.htmx.target == "project-results":
        return render(request, "okrs/project_list.html#project-results", context)
    return render(request, "okrs/project_list.html", context)


def _project_context(request: HttpRequest, project_id: int) -> dict:
    project = _found(
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
    task = _org_get(request, Task, task_id)
    form = TaskStatusForm(request.POST)
    if form.is_valid():
        services.task_set_status(
            task=task, status=TaskStatus(form.cleaned_data["status"]), actor=request.user
        )
    elif not request.htmx:
        messages.error(request, "Choose one of the listed statuses.")
    if not request.htmx:
        return redirect(_org_url(request, "project_detail", project_id=task.project_id))
    context = _project_context(request, task.project_id)
    context["task"] = next(t for t in context["project"].live_tasks if t.pk == task.pk)
    context["status_error"] = None if form.is_valid() else "Choose one of the listed statuses."
    return render(request, "okrs/project_detail.html#task-status-response", context)


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    context = {"groups": selectors.my_work(user=request.user), "today": timezone.localdate()}
    return render(request, "okrs/my_work.html", context)


# Create and edit pages: admins edit the plan; members add and edit tasks.


@require_permission(Action.EDIT_PLAN)
def cycle_create(request: HttpRequest, org_slug: str) -> HttpResponse:
    home = _org_url(request, "org_home")
    return form_page(
        request,
        form=CycleForm(request.POST or None, organization=request.org),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: home,
        title="New cycle",
        cancel_url=home,
        saved_message="Cycle saved.",
    )


@require_permission(Action.EDIT_PLAN)
def pathway_edit(
    request: HttpRequest, org_slug: str, pathway_id: int | None = None
) -> HttpResponse:
    pathway = _org_get(request, Pathway, pathway_id) if pathway_id else None
    return form_page(
        request,
        form=PathwayForm(request.POST or None, instance=pathway, organization=request.org),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: _org_url(request, "pathway_detail", pathway_id=saved.pk),
        title=f"Edit {pathway}" if pathway else "New pathway",
        cancel_url=_org_url(request, "pathway_detail", pathway_id=pathway.pk)
        if pathway
        else _org_url(request, "org_home"),
        saved_message="Pathway saved.",
    )


@require_permission(Action.EDIT_PLAN)
def objective_edit(
    request: HttpRequest, org_slug: str, objective_id: int | None = None
) -> HttpResponse:
    objective = _org_get(request, Objective, objective_id) if objective_id else None
    initial = {}
    if objective is None:
        initial = {
            "pathway": _int_or_none(request.GET.get("pathway")),
            "cycle": selectors.current_cycle(organization=request.org),
        }
    return form_page(
        request,
        form=ObjectiveForm(
            request.POST or None, instance=objective, initial=initial, organization=request.org
        ),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: _org_url(request, "objective_detail", objective_id=saved.pk),
        title=f"Edit {objective}" if objective else "New objective",
        cancel_url=_org_url(request, "objective_detail", objective_id=objective.pk)
        if objective
        else _org_url(request, "org_home"),
        saved_message="Objective saved.",
    )


@require_permission(Action.EDIT_PLAN)
def key_result_create(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    objective = _org_get(request, Objective, objective_id)
    return _key_result_form_page(request, KeyResult(objective=objective))


@require_permission(Action.EDIT_PLAN)
def key_result_edit(request: HttpRequest, org_slug: str, key_result_id: int) -> HttpResponse:
    key_result = get_object_or_404(
        KeyResult.objects.for_org(request.org).select_related("objective"), pk=key_result_id
    )
    return _key_result_form_page(request, key_result)


def _key_result_form_page(request: HttpRequest, key_result: KeyResult):
    # A synced key result can have lost its objective in Airtable: go back to the dashboard then.
    objective_url = (
        _org_url(request, "objective_detail", objective_id=key_result.objective_id)
        if key_result.objective_id
        else _org_url(request, "org_home")
    )
    return form_page(
        request,
        form=KeyResultForm(request.POST or None, instance=key_result, organization=request.org),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: objective_url,
        title=f"Edit {key_result}"
        if key_result.pk
        else f"New key result for {key_result.objective}",
        cancel_url=objective_url,
        saved_message="Key result saved.",
    )


@require_permission(Action.EDIT_PLAN)
def project_edit(
    request: HttpRequest, org_slug: str, project_id: int | None = None
) -> HttpResponse:
    project = _org_get(request, Project, project_id) if project_id else None

    def save(form: ProjectForm) -> Project:
        return services.project_save(
            project=form.save(commit=False),
            objectives=list(form.cleaned_data["objectives"]),
            actor=request.user,
        )

    return form_page(
        request,
        form=ProjectForm(request.POST or None, instance=project, organization=request.org),
        save=save,
        success_url=lambda saved: _org_url(request, "project_detail", project_id=saved.pk),
        title=f"Edit {project}" if project else "New project",
        cancel_url=_org_url(request, "project_detail", project_id=project.pk)
        if project
        else _org_url(request, "project_list"),
        saved_message="Project saved.",
    )


@require_permission(Action.EDIT_TASKS)
def task_create(request: HttpRequest, org_slug: str, project_id: int) -> HttpResponse:
    project = _org_get(request, Project, project_id)
    return _task_form_page(request, Task(project=project))


@require_permission(Action.EDIT_TASKS)
def task_edit(request: HttpRequest, org_slug: str, task_id: int) -> HttpResponse:
    return _task_form_page(request, _org_get(request, Task, task_id))


def _task_form_page(request: HttpRequest, task: Task) -> HttpResponse:
    # A synced task can have lost its project in Airtable: go back to the project list then.
    project_url = (
        _org_url(request, "project_detail", project_id=task.project_id)
        if task.project_id
        else _org_url(request, "project_list")
    )
    return form_page(
        request,
        form=TaskForm(request.POST or None, instance=task, organization=request.org),
        save=lambda form: services.task_save(task=form.save(commit=False), actor=request.user),
        success_url=lambda saved: project_url,
        title=f"Edit {task}" if task.pk else "New task",
        cancel_url=project_url,
        saved_message="Task saved.",
    )


def overdue_task_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The tasks behind the dashboard's overdue count (`?as_of=` as on the dashboard)."""
    as_of, as_of_problem = _past_date(request.GET.get("as_of"))
    context = {
        "page": selectors.overdue_task_list(
            organization=request.org, as_of=as_of, page=request.GET.get("page")
        ),
        "as_of": as_of,
        "as_of_problem": as_of_problem,
        "today": as_of or timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "overdue-results":
        return render(request, "okrs/overdue_tasks.html#overdue-results", context)
    return render(request, "okrs/overdue_tasks.html", context)
