"""Writes about OKRs, projects and tasks. Views, commands and (later) the sync call these.
Each announces the change to the organization's open pages once it commits (missionos.events),
and logs what it changed, before and after, in the audit log (orgs.audit).

Forms validate shape (types, lengths, same-organization choices); these functions own the
rules that hold whoever writes: keyword-only, atomic, and they keep derived fields (a key
result's current value, a task's completion time, a project's last activity) consistent.
"""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from okrs import formatting
from okrs.models import CheckIn, KeyResult, Objective, Project, Task, TaskStatus
from orgs import audit
from orgs.changes import record_written
from orgs.models import Activity, Organization
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
def _check_in_detail(check_in: CheckIn, key_result: KeyResult) -> str:
    return formatting.key_result_value_text(check_in.value, key_result)


def check_ins_noted(
    *, organization: Organization, check_ins: list[CheckIn], source: str = ""
) -> None:
    """Activity lines for check-ins recorded elsewhere than `check_in_create` (brought in by
    the sync, built by the demo), dated when each was made, so the feed never reads "No
    activity yet" beside the check-ins. `source` ("from Airtable") says where they came from."""
    key_results = KeyResult.objects.for_org(organization, include_archived=True).in_bulk(
        {c.key_result_id for c in check_ins if c.key_result_id}
    )
    lines = []
    for check_in in check_ins:
        key_result = key_results.get(check_in.key_result_id)
        if key_result is None:
            continue
        target, target_id, anchor = key_result.activity_target()
        detail = " · ".join(filter(None, [_check_in_detail(check_in, key_result), source]))
        lines.append(
            Activity(
                organization_id=check_in.organization_id,
                actor_id=check_in.author_id,
                verb="checked in on",
                subject=str(key_result)[:300],
                detail=detail[:200],
                target=target,
                target_id=target_id,
                anchor=anchor,
                occurred_at=check_in.checked_in_at,
            )
        )
    Activity.objects.bulk_create(lines, batch_size=500)


def check_in_create(
    *,
    key_result: KeyResult,
    value: Decimal,
    confidence: int | None,
    note: str = "",
    author: AbstractBaseUser | None,
    checked_in_at: datetime.datetime | None = None,
) -> CheckIn:
    """Record progress on a key result; its current value follows the latest check-in.

    The check-in is validated by its model (`CheckIn.clean`): a ValidationError names the
    field, e.g. a value other than 0 or 1 for a yes/no key result."""
    check_in = CheckIn(
        organization_id=key_result.organization_id,
        key_result=key_result,
        value=value,
        confidence=confidence,
        note=note.strip(),
        author=author,
        checked_in_at=checked_in_at or timezone.now(),
    )
    check_in.full_clean()
    check_in.save()
    record_written(record=check_in, actor=author)
    before = copy.copy(key_result)
    key_result_follow_latest_check_in(key_result=key_result, actor=author)
    audit.record_change(
        row=key_result,
        before=before,
        actor=author,
        action="checked in",
        fields=("current_value", "confidence"),
        extra={
            "check_in": [None, audit.shown(Decimal(check_in.value))],
            **({"note": [None, check_in.note]} if check_in.note else {}),
        },
    )
    detail = _check_in_detail(check_in, key_result)
    activity_record(record=key_result, actor=author, verb="checked in on", detail=detail)
    events.publish(key_result.organization_id, events.PLAN)
    return check_in


@transaction.atomic
def key_result_follow_latest_check_in(
    *, key_result: KeyResult, actor: AbstractBaseUser | None = None
) -> KeyResult:
    """Make the key result's current value, and its confidence when that check-in gives one,
    those of its latest live check-in: after a check-in is recorded, edited, moved, archived or
    deleted, whoever did it (this module, the admin).

    "Latest" is by `checked_in_at`, ties to the later row: the order in which the dashboard
    (`okrs.rollups.key_result_value`) and the charts (`okrs.history`) read history. Archived
    (deleted-in-Airtable) check-ins do not count. With no live check-in left, the values stay
    as they are: there is nothing to follow, and the admin lets them be edited by hand again.
    """
    # The key result is already scoped, and so are its check-ins (a related manager).
    latest = key_result.check_ins.live().order_by("-checked_in_at", "-pk").first()
    if latest is None:
        return key_result
    key_result.current_value = latest.value
    if latest.confidence is not None:
        key_result.confidence = latest.confidence
    key_result.save(update_fields=["current_value", "confidence", "updated_at"])
    record_written(record=key_result, actor=actor)
    return key_result


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
