"""Creating and editing the plan's records: cycles, pathways, objectives, key results,
projects and tasks, all through the one form flow (missionos.form_flow)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from missionos.form_flow import form_page
from okrs import selectors, services
from okrs.forms import (
    CycleForm,
    KeyResultForm,
    ObjectiveForm,
    PathwayForm,
    ProjectForm,
    TaskForm,
)
from okrs.models import (
    Cycle,
    KeyResult,
    Objective,
    Pathway,
    Project,
    Task,
)
from okrs.views.lifecycle import lifecycle_actions
from okrs.views.params import int_or_none
from orgs import services as org_services
from orgs.permissions import Action, require_permission
from orgs.shortcuts import org_object_or_404, org_url


@require_permission(Action.EDIT_PLAN)
def cycle_edit(request: HttpRequest, org_slug: str, cycle_id: int | None = None) -> HttpResponse:
    """A cycle to edit, or a new one. For a new one, `?after=<cycle id>` (from a cycle's
    review, which has no next cycle to carry over into) proposes dates following it, shown in
    the form to change or confirm, and goes back to that review once saved."""
    cycle = org_object_or_404(request, Cycle, pk=cycle_id) if cycle_id else None
    home = org_url(request, "org_home")
    after_id = None if cycle else int_or_none(request.GET.get("after"))
    after = Cycle.objects.for_org(request.org).filter(pk=after_id).first() if after_id else None
    initial = selectors.cycle_after(after) if after else {}
    back = org_url(request, "cycle_review", cycle_id=after.pk) if after else home
    return form_page(
        request,
        form=CycleForm(
            request.POST or None, instance=cycle, initial=initial, organization=request.org
        ),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: back,
        title=f"Edit {cycle}" if cycle else "New cycle",
        cancel_url=back,
        saved_message="Cycle saved.",
        other_actions=lifecycle_actions(request, cycle),
    )


@require_permission(Action.EDIT_PLAN)
def pathway_edit(
    request: HttpRequest, org_slug: str, pathway_id: int | None = None
) -> HttpResponse:
    pathway = org_object_or_404(request, Pathway, pk=pathway_id) if pathway_id else None
    return form_page(
        request,
        form=PathwayForm(request.POST or None, instance=pathway, organization=request.org),
        save=lambda form: org_services.record_save(
            record=form.save(commit=False), actor=request.user
        ),
        success_url=lambda saved: org_url(request, "pathway_detail", pathway_id=saved.pk),
        title=f"Edit {pathway}" if pathway else "New pathway",
        cancel_url=org_url(request, "pathway_detail", pathway_id=pathway.pk)
        if pathway
        else org_url(request, "org_home"),
        saved_message="Pathway saved.",
        other_actions=lifecycle_actions(request, pathway),
    )


@require_permission(Action.EDIT_PLAN)
def objective_edit(
    request: HttpRequest, org_slug: str, objective_id: int | None = None
) -> HttpResponse:
    objective = org_object_or_404(request, Objective, pk=objective_id) if objective_id else None
    initial = {}
    if objective is None:
        initial = {
            "pathway": int_or_none(request.GET.get("pathway")),
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
        success_url=lambda saved: org_url(request, "objective_detail", objective_id=saved.pk),
        title=f"Edit {objective}" if objective else "New objective",
        cancel_url=org_url(request, "objective_detail", objective_id=objective.pk)
        if objective
        else org_url(request, "org_home"),
        saved_message="Objective saved.",
        other_actions=lifecycle_actions(request, objective),
    )


@require_permission(Action.EDIT_PLAN)
def key_result_create(request: HttpRequest, org_slug: str, objective_id: int) -> HttpResponse:
    objective = org_object_or_404(request, Objective, pk=objective_id)
    return _key_result_form_page(request, KeyResult(objective=objective))


@require_permission(Action.EDIT_PLAN)
def key_result_edit(request: HttpRequest, org_slug: str, key_result_id: int) -> HttpResponse:
    key_result = org_object_or_404(
        request, KeyResult.objects.select_related("objective"), pk=key_result_id
    )
    return _key_result_form_page(request, key_result)


def _key_result_form_page(request: HttpRequest, key_result: KeyResult):
    # A synced key result can have lost its objective in Airtable: go back to the dashboard then.
    objective_url = (
        org_url(request, "objective_detail", objective_id=key_result.objective_id)
        if key_result.objective_id
        else org_url(request, "org_home")
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
        other_actions=lifecycle_actions(request, key_result),
    )


@require_permission(Action.EDIT_PLAN)
def project_edit(
    request: HttpRequest, org_slug: str, project_id: int | None = None
) -> HttpResponse:
    project = org_object_or_404(request, Project, pk=project_id) if project_id else None

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
        success_url=lambda saved: org_url(request, "project_detail", project_id=saved.pk),
        title=f"Edit {project}" if project else "New project",
        cancel_url=org_url(request, "project_detail", project_id=project.pk)
        if project
        else org_url(request, "project_list"),
        saved_message="Project saved.",
        other_actions=lifecycle_actions(request, project),
    )


@require_permission(Action.EDIT_TASKS)
def task_create(request: HttpRequest, org_slug: str, project_id: int) -> HttpResponse:
    project = org_object_or_404(request, Project, pk=project_id)
    return _task_form_page(request, Task(project=project))


@require_permission(Action.EDIT_TASKS)
def task_edit(request: HttpRequest, org_slug: str, task_id: int) -> HttpResponse:
    return _task_form_page(request, org_object_or_404(request, Task, pk=task_id))


def _task_form_page(request: HttpRequest, task: Task) -> HttpResponse:
    # A synced task can have lost its project in Airtable: go back to the project list then.
    project_url = (
        org_url(request, "project_detail", project_id=task.project_id)
        if task.project_id
        else org_url(request, "project_list")
    )
    return form_page(
        request,
        form=TaskForm(request.POST or None, instance=task, organization=request.org),
        save=lambda form: services.task_save(task=form.save(commit=False), actor=request.user),
        success_url=lambda saved: project_url,
        title=f"Edit {task}" if task.pk else "New task",
        cancel_url=project_url,
        saved_message="Task saved.",
        other_actions=lifecycle_actions(request, task),
    )
