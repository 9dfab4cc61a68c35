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
from okrs import mentions
from okrs.models import (
    CheckIn,
    CheckInRevision,
    Comment,
    KeyResult,
    Mention,
    Objective,
    Project,
    Task,
    TaskStatus,
)
from orgs import audit
from orgs.changes import record_written
from orgs.models import Membership, Person
from orgs.roles import Action
from orgs.services import activity_record

# The marks the two-way sync reads on a synced row (sync.writeback.state, a layer above: these
# are its names, tests/okrs/test_check_in_changes.py holds them equal): delete its Airtable
# record; and that it was.
DELETE_IN_AIRTABLE = "delete_in_airtable"
DELETED_IN_AIRTABLE = "deleted_in_airtable"


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
    audit.record_change(row=project, before=before, actor=actor, extra=extra)
    activity_record(record=project, actor=actor, verb="added" if created else "edited")
    events.publish(project.organization_id, events.PLAN)
    return project


def _objective_titles(project: Project) -> list[str]:
    """The titles of the objectives a stored project is linked to, sorted."""
    return sorted(str(objective) for objective in project.objectives.all())


@transaction.atomic
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
    detail = f"{Decimal(check_in.value).normalize():f} {key_result.unit}".strip()
    activity_record(record=key_result, actor=author, verb="checked in on", detail=detail)
    events.publish(key_result.organization_id, events.PLAN)
    return check_in


def check_in_changeable(*, check_in: CheckIn, membership: Membership) -> bool:
    """Its author may edit or delete a check-in; admins and owners any."""
    if membership.organization_id != check_in.organization_id:
        return False
    return membership.allows(Action.EDIT_PLAN) or (
        check_in.author_id is not None and check_in.author_id == membership.user_id
    )


def _check_in_label(check_in: CheckIn) -> str:
    return f"{check_in.key_result}: {Decimal(check_in.value).normalize():f}"


@transaction.atomic
def check_in_update(
    *,
    check_in: CheckIn,
    value: Decimal,
    confidence: int | None,
    note: str = "",
    actor: AbstractBaseUser | None,
) -> CheckIn:
    """Edit a check-in, keeping the version before as a revision (shown as "edited" in the
    history); the key result follows its latest check-in again, and a synced check-in is
    queued for write-back like any edit. Who may is `check_in_changeable` (the views ask)."""
    if check_in.archived_at is not None:
        raise ValidationError("This check-in was deleted; restore it first.")
    before = copy.copy(check_in)
    note = note.strip()
    if (Decimal(value), confidence, note) == (
        Decimal(check_in.value),
        check_in.confidence,
        check_in.note,
    ):
        return check_in  # nothing changed: no revision, no noise
    check_in.value, check_in.confidence, check_in.note = value, confidence, note
    check_in.edited_at = timezone.now()
    check_in.full_clean()
    CheckInRevision.objects.create(
        organization_id=check_in.organization_id,
        check_in=check_in,
        value=before.value,
        confidence=before.confidence,
        note=before.note,
        checked_in_at=before.checked_in_at,
        edited_by=actor if actor is not None and actor.is_authenticated else None,
        edited_at=check_in.edited_at,
    )
    check_in.save()
    record_written(record=check_in, actor=actor)
    audit.record_change(
        row=check_in,
        before=before,
        actor=actor,
        action=audit.EDITED,
        fields=("value", "confidence", "note"),
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="edited a check-in on")
    return check_in


@transaction.atomic
def check_in_delete(*, check_in: CheckIn, actor: AbstractBaseUser | None) -> CheckIn:
    """Delete a check-in: it is archived and kept (admins see it as deleted and may restore
    it), out of every figure; the key result follows its latest check-in left (its start value
    when none is). A synced check-in's Airtable record is deleted by the write-back."""
    if check_in.archived_at is not None:
        return check_in
    check_in.archived_at = timezone.now()
    check_in.deleted_by = actor if actor is not None and actor.is_authenticated else None
    fields = ["archived_at", "deleted_by", "updated_at"]
    if check_in.source_record_id:
        check_in.source_extra = {**(check_in.source_extra or {}), DELETE_IN_AIRTABLE: True}
        fields.append("source_extra")
    check_in.save(update_fields=fields)
    record_written(record=check_in, actor=actor)
    audit.record(
        organization_id=check_in.organization_id,
        action="deleted",
        kind="check_in",
        target_id=check_in.pk,
        label=_check_in_label(check_in),
        changes={"deleted": [None, "yes"]},
        actor=actor,
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="deleted a check-in on")
    return check_in


@transaction.atomic
def check_in_restore(*, check_in: CheckIn, actor: AbstractBaseUser | None) -> CheckIn:
    """Bring back a check-in a person deleted (admins: the views ask). A synced one whose
    Airtable record is already gone is made anew there by the write-back."""
    if check_in.archived_at is None or (
        check_in.deleted_by_id is None
        and not ((check_in.source_extra or {}).get(DELETE_IN_AIRTABLE))
    ):
        raise ValidationError("Only a check-in someone deleted here can be restored.")
    check_in.archived_at = None
    check_in.deleted_by = None
    extra = dict(check_in.source_extra or {})
    extra.pop(DELETE_IN_AIRTABLE, None)
    if extra.pop(DELETED_IN_AIRTABLE, None):
        check_in.source_record_id = None
        check_in.source_hash = ""
    check_in.source_extra = extra
    check_in.save()
    record_written(record=check_in, actor=actor)
    audit.record(
        organization_id=check_in.organization_id,
        action=audit.RESTORED,
        kind="check_in",
        target_id=check_in.pk,
        label=_check_in_label(check_in),
        changes={"deleted": ["yes", None]},
        actor=actor,
    )
    _key_result_after_check_in_change(check_in=check_in, actor=actor, verb="restored a check-in on")
    return check_in


def _key_result_after_check_in_change(
    *, check_in: CheckIn, actor: AbstractBaseUser | None, verb: str
) -> None:
    key_result = KeyResult.objects.for_org(check_in.organization_id, include_archived=True).get(
        pk=check_in.key_result_id
    )
    before = copy.copy(key_result)
    if key_result.check_ins.live().exists():
        key_result_follow_latest_check_in(key_result=key_result, actor=actor)
    else:
        # Its only check-in is gone: back where it started, not started again.
        key_result.current_value, key_result.confidence = key_result.start_value, None
        key_result.save(update_fields=["current_value", "confidence", "updated_at"])
        record_written(record=key_result, actor=actor)
    audit.record_change(
        row=key_result, before=before, actor=actor, fields=("current_value", "confidence")
    )
    activity_record(record=key_result, actor=actor, verb=verb)
    events.publish(key_result.organization_id, events.PLAN)


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
    audit.record_change(row=task, before=before, actor=actor)
    _touch_project(task)
    activity_record(record=task, actor=actor, verb="added" if created else "edited")
    events.publish(task.organization_id, events.PLAN)
    return task


@transaction.atomic
def task_set_status(
    *, task: Task, status: TaskStatus, actor: AbstractBaseUser | None = None
) -> Task:
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


def mention_directory(*, organization_id: int) -> mentions.Directory:
    """Who a comment in the organization may mention: its people (none of another's)."""
    people = Person.objects.for_org(organization_id).values_list("pk", "name", "email")
    return mentions.Directory.of(people)


def _comment_mentions(comment: Comment) -> None:
    spans = mentions.find_mentions(
        comment.body, mention_directory(organization_id=comment.organization_id)
    )
    comment.spans = [list(span) for span in spans]
    comment.save(update_fields=["spans"])
    people = {person_id for _, _, person_id in spans}
    comment.mentions.exclude(person_id__in=people).delete()
    known = set(comment.mentions.values_list("person_id", flat=True))
    Mention.objects.bulk_create(
        Mention(organization_id=comment.organization_id, comment=comment, person_id=person_id)
        for person_id in sorted(people - known)
    )


def _comment_record(comment: Comment) -> Objective | KeyResult:
    return comment.objective if comment.objective_id else comment.key_result


@transaction.atomic
def comment_create(
    *,
    author: AbstractBaseUser,
    body: str,
    objective: Objective | None = None,
    key_result: KeyResult | None = None,
) -> Comment:
    """Comment on an objective or a key result (one of them); @mentions of the
    organization's people are found and kept (okrs.mentions), for their "My work"."""
    record = objective or key_result
    if record is None or (objective is not None and key_result is not None):
        raise ValidationError("Comment on one objective or one key result.")
    comment = Comment(
        organization_id=record.organization_id,
        objective=objective,
        key_result=key_result,
        author=author,
        body=body.strip(),
    )
    comment.full_clean()
    comment.save()
    _comment_mentions(comment)
    audit.record(
        organization_id=comment.organization_id,
        action=audit.CREATED,
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {record}",
        changes={"body": [None, audit.shown(comment.body)]},
        actor=author,
    )
    activity_record(record=record, actor=author, verb="commented on")
    events.publish(comment.organization_id, events.PLAN)
    return comment


def comment_changeable(*, comment: Comment, membership: Membership) -> bool:
    """Only its author edits or deletes a comment."""
    return (
        membership.organization_id == comment.organization_id
        and comment.author_id is not None
        and comment.author_id == membership.user_id
    )


@transaction.atomic
def comment_update(*, comment: Comment, body: str, actor: AbstractBaseUser) -> Comment:
    before = comment.body
    body = body.strip()
    if body == before:
        return comment
    comment.body = body
    comment.edited_at = timezone.now()
    comment.full_clean()
    comment.save()
    _comment_mentions(comment)
    audit.record(
        organization_id=comment.organization_id,
        action=audit.EDITED,
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {_comment_record(comment)}",
        changes={"body": [audit.shown(before), audit.shown(body)]},
        actor=actor,
    )
    events.publish(comment.organization_id, events.PLAN)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor: AbstractBaseUser) -> None:
    audit.record(
        organization_id=comment.organization_id,
        action="deleted",
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {_comment_record(comment)}",
        changes={"body": [audit.shown(comment.body), None]},
        actor=actor,
    )
    organization_id = comment.organization_id
    comment.delete()
    events.publish(organization_id, events.PLAN)
