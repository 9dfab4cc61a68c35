"""Writes about projects and tasks: what they hold, and the time a task is done."""

from __future__ import annotations

import copy

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from okrs.models import (
    Objective,
    Project,
    Task,
    TaskStatus,
)
from orgs import audit
from orgs.changes import record_written
from orgs.services import activity_record


@transaction.atomic
def project_save(
    *,
    project: Project,
    objectives: list[Objective] | None = None,
    actor: AbstractBaseUser | None = None,
) -> Project:
    created = project.pk is None
    project.full_clean()
    if objectives and any(o.organization_id != project.organization_id for o in objectives):
        raise ValidationError({"objectives": "Choose objectives from this organization."})
    before = audit.stored(project)
    linked_before = (
        _objective_titles(project) if before is not None and objectives is not None else []
    )
    project.last_activity_at = timezone.now()
    project.save()
    extra = {}
    if objectives is not None:
        project.objectives.set(objectives)
        linked = sorted(str(objective) for objective in objectives)
        if linked != linked_before:
            extra["objectives"] = [linked_before or None, linked or None]
    record_written(record=project, actor=actor)
    changed = audit.record_change(row=project, before=before, actor=actor, extra=extra)
    if created or changed:  # a form saved untouched is no activity
        activity_record(record=project, actor=actor, verb="added" if created else "edited")
    events.publish(project.organization_id, events.PLAN)
    return project


def _objective_titles(project: Project) -> list[str]:
    """The titles of the objectives a stored project is linked to, sorted."""
    return sorted(str(objective) for objective in project.objectives.all())


@transaction.atomic
def task_save(*, task: Task, actor: AbstractBaseUser | None = None) -> Task:
    """Create or edit a task; completion time and project activity follow its status."""
    created = task.pk is None
    _stamp_completion(task)
    task.last_activity_at = timezone.now()
    task.full_clean()
    before = audit.stored(task)
    task.save()
    record_written(record=task, actor=actor)
    changed = audit.record_change(row=task, before=before, actor=actor)
    _touch_project(task)
    if created or changed:  # a form saved untouched is no activity
        activity_record(record=task, actor=actor, verb="added" if created else "edited")
    events.publish(task.organization_id, events.PLAN)
    return task


@transaction.atomic
def task_set_status(
    *, task: Task, status: TaskStatus, actor: AbstractBaseUser | None = None
) -> Task:
    if task.status == status:
        return task  # set to what it already is: no change, so nothing to save or log
    before = copy.copy(task)
    task.status = status
    _stamp_completion(task)
    task.last_activity_at = timezone.now()
    task.full_clean()
    task.save(update_fields=["status", "completed_at", "last_activity_at", "updated_at"])
    record_written(record=task, actor=actor)
    audit.record_change(
        row=task, before=before, actor=actor, action="moved", fields=("status", "completed_at")
    )
    _touch_project(task)
    activity_record(
        record=task, actor=actor, verb="moved", detail=f"to {task.get_status_display()}"
    )
    events.publish(task.organization_id, events.PLAN)
    return task


def _stamp_completion(task: Task) -> None:
    if task.status == TaskStatus.DONE:
        task.completed_at = task.completed_at or timezone.now()
    else:
        task.completed_at = None


def _touch_project(task: Task) -> None:
    projects = Project.objects.for_org(task.organization_id, include_archived=True)
    projects.filter(pk=task.project_id).update(last_activity_at=timezone.now())
