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
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from missionos import events
from okrs import formatting, lifecycle, mentions, progress
from okrs.models import (
    CheckIn,
    CheckInRevision,
    Comment,
    Cycle,
    KeyResult,
    Mention,
    Objective,
    ObjectiveReview,
    Project,
    Task,
    TaskStatus,
)
from orgs import audit
from orgs.changes import record_written
from orgs.models import (
    ARCHIVED_HERE,
    ARCHIVED_WITH,
    DELETE_IN_AIRTABLE,
    DELETED_IN_AIRTABLE,
    Activity,
    Membership,
    Organization,
    OrgOwned,
    Person,
)
from orgs.roles import Action
from orgs.services import activity_record, record_save


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


def _check_in_detail(check_in: CheckIn, key_result: KeyResult) -> str:
    return formatting.key_result_value_text(check_in.value, key_result)


def check_ins_noted(*, organization: Organization, check_ins: list[CheckIn], by: str = "") -> None:
    """Activity lines for check-ins recorded elsewhere than `check_in_create` (brought in by
    the sync, built by the demo), dated when each was made, so the feed never reads "No
    activity yet" beside the check-ins. `by` ("Airtable") is who a line names when the
    check-in has no author (it read "Someone … from Airtable")."""
    key_results = KeyResult.objects.for_org(organization, include_archived=True).in_bulk(
        {c.key_result_id for c in check_ins if c.key_result_id}
    )
    lines = []
    for check_in in check_ins:
        key_result = key_results.get(check_in.key_result_id)
        if key_result is None:
            continue
        target, target_id, anchor = key_result.activity_target()
        lines.append(
            Activity(
                organization_id=check_in.organization_id,
                actor_id=check_in.author_id,
                actor_label="" if check_in.author_id else by[:60],
                verb="checked in on",
                subject=str(key_result)[:300],
                detail=_check_in_detail(check_in, key_result)[:200],
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


# -- archive, restore, delete (the rules: okrs.lifecycle) -------------------------------------


def _locked(record: OrgOwned) -> OrgOwned:
    """The record as stored, locked until the transaction ends (archived or not)."""
    rows = type(record).objects.for_org(record.organization_id, include_archived=True)
    return rows.select_for_update().get(pk=record.pk)


def _set_archived(
    row: OrgOwned, *, when, mark: str | None, actor: AbstractBaseUser | None, extra: dict
) -> None:
    before = copy.copy(row)
    row.archived_at = when
    marks = dict(row.source_extra or {})
    fields = ["archived_at", "source_extra", "updated_at"]
    if when is None:
        marks.pop(ARCHIVED_HERE, None)
        marks.pop(ARCHIVED_WITH, None)
        if lifecycle.deleted_in_airtable(row):
            # Deleted in Airtable while archived here: restored, it is a row made here again,
            # and the write-back makes its record anew (as a restored check-in's).
            marks.pop(DELETED_IN_AIRTABLE)
            row.source_record_id = None
            row.source_hash = ""
            fields += ["source_record_id", "source_hash"]
    else:
        marks[ARCHIVED_HERE] = when.isoformat()
        if mark:
            marks[ARCHIVED_WITH] = mark
    row.source_extra = marks
    row.save(update_fields=fields)
    record_written(record=row, actor=actor)
    audit.record_change(row=row, before=before, actor=actor, fields=("archived_at",), extra=extra)


@transaction.atomic
def record_archive(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> list[OrgOwned]:
    """Archive a plan record (any kind of okrs.lifecycle.KINDS) with what it contains; each is
    left out of every count and list, and logged. -> the rows archived with it.

    A synced record stays in Airtable as it is (Airtable has no archive, and the mapping has
    no field meaning it): it is marked archived here, so the pull leaves it archived, and
    restoring it lets the next pull bring what changed in Airtable meanwhile."""
    row = _locked(record)
    if row.archived_at is not None:
        raise ValidationError(f"“{row}” is already archived.")
    now = timezone.now()
    children = lifecycle.contents(row)
    _set_archived(row, when=now, mark=None, actor=actor, extra={})
    mark, label = lifecycle.archive_mark(row), str(row)
    for child in children:
        _set_archived(child, when=now, mark=mark, actor=actor, extra={"with": [None, label]})
    activity_record(record=row, actor=actor, verb="archived", detail=_with_detail(children))
    events.publish(row.organization_id, events.PLAN)
    record.archived_at = row.archived_at
    return children


@transaction.atomic
def record_restore(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> list[OrgOwned]:
    """Bring an archived record back, with exactly what was archived together with it (and
    its history: nothing was deleted). -> the rows restored with it. Refused while what it
    belongs in is archived (restore that instead)."""
    row = _locked(record)
    if row.archived_at is None:
        raise ValidationError(f"“{row}” is not archived.")
    extra = row.source_extra or {}
    if extra.get(DELETE_IN_AIRTABLE):
        raise ValidationError(f"“{row}” was deleted.")
    if ARCHIVED_HERE not in extra and row.source_record_id:
        raise ValidationError(
            f"“{row}” was archived by the sync: its record is gone from Airtable. "
            "Restore the record in Airtable and the next sync brings it back."
        )
    if ARCHIVED_HERE not in extra:
        # Archived by something else (a data health merge, which its own undo reverses).
        raise ValidationError(f"“{row}” was not archived from its Archive page.")
    container = lifecycle.archived_container(row)
    if container is not None:
        kind = lifecycle.kind_of(container).label.lower()
        raise ValidationError(f"“{row}” is in the archived {kind} “{container}”: restore that.")
    children = lifecycle.archived_with(row)
    _set_archived(row, when=None, mark=None, actor=actor, extra={})
    for child in children:
        _set_archived(child, when=None, mark=None, actor=actor, extra={"with": [str(row), None]})
    activity_record(record=row, actor=actor, verb="restored", detail=_with_detail(children))
    events.publish(row.organization_id, events.PLAN)
    record.archived_at = None
    return children


@transaction.atomic
def record_delete(*, record: OrgOwned, actor: AbstractBaseUser | None = None) -> None:
    """Delete an empty record (okrs.lifecycle.holdings says what keeps one); a ValidationError
    says what it still holds. A synced record's Airtable record is deleted by the write-back;
    the row stays here, archived and hidden, for the audit log and the sync's bookkeeping."""
    row = _locked(record)
    held = lifecycle.holdings(row)
    if held:
        raise ValidationError(
            f"“{row}” still holds {_listed(held)}. Archive it instead, or empty it first."
        )
    audit.record(
        organization_id=row.organization_id,
        action="deleted",
        kind=audit.kind_of(row),
        target_id=row.pk,
        label=str(row),
        changes={"deleted in Airtable": [None, True]} if row.source_record_id else {},
        actor=actor,
    )
    if row.source_record_id:
        row.archived_at = row.archived_at or timezone.now()
        row.source_extra = {
            **(row.source_extra or {}),
            ARCHIVED_HERE: row.archived_at.isoformat(),
            DELETE_IN_AIRTABLE: True,
        }
        row.save(update_fields=["archived_at", "source_extra", "updated_at"])
        record_written(record=row, actor=actor)  # the write-back deletes it in Airtable
    else:
        row.delete()
    events.publish(row.organization_id, events.PLAN)


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _with_detail(children: list[OrgOwned]) -> str:
    if not children:
        return ""
    counts: dict[str, int] = {}
    for child in children:
        kind = lifecycle.kind_of(child)
        counts[kind.name] = counts.get(kind.name, 0) + 1
    parts = []
    for name, count in counts.items():
        kind = lifecycle.KINDS[name]
        noun = kind.label.lower() if count == 1 else kind.plural.lower()
        parts.append(f"{count} {noun}")
    return f"with {_listed(parts)}"


# -- the end of a cycle: closing notes and carrying over -------------------------------------


@transaction.atomic
def objective_review_save(
    *, objective: Objective, note: str, actor: AbstractBaseUser | None = None
) -> ObjectiveReview:
    """Write (or rewrite) the objective's closing note for its cycle's review."""
    review = (
        ObjectiveReview.objects.for_org(objective.organization_id)
        .select_for_update()
        .filter(objective=objective)
        .first()
    )
    before = copy.copy(review) if review is not None else None
    if review is None:
        review = ObjectiveReview(organization_id=objective.organization_id, objective=objective)
    review.note = note.strip()
    review.written_by = actor
    review.updated_at = timezone.now()
    review.full_clean()
    review.save()
    audit.record_change(row=review, before=before, actor=actor, fields=("note",))
    activity_record(
        record=review,
        actor=actor,
        verb="wrote the closing note of",
        subject=str(objective),
    )
    events.publish(objective.organization_id, events.PLAN)
    return review


@dataclass
class CarryOver:
    """What `cycle_carry_over` did: the copies it made, and the objectives already there."""

    created: list[Objective] = field(default_factory=list)
    key_results: int = 0
    already: list[Objective] = field(default_factory=list)
    # objective id -> its copy made before (`.cycle` loaded), for the objectives in `already`.
    copies: dict[int, Objective] = field(default_factory=dict)


def _finished(key_result: KeyResult) -> bool:
    """Reached its target by its value now (what the copy would start from)."""
    now = progress.key_result_progress(
        key_result.start_value, key_result.current_value, key_result.target_value
    )
    return now is not None and now >= 1


@transaction.atomic
def cycle_carry_over(
    *,
    cycle: Cycle,
    next_cycle: Cycle,
    objectives: list[Objective],
    actor: AbstractBaseUser | None = None,
) -> CarryOver:
    """Copy `objectives` of `cycle` into `next_cycle` with their unfinished key results.

    Each copy keeps the objective's links (pathway, owner, the objective it supports, the
    projects linked to it) and records what it was carried over from; each key result starts
    where the original stands now (its current value becomes the copy's start and current
    value). An objective already carried over (into any cycle, its copy archived or not) is
    left alone: carrying over twice does not duplicate (the cycle row is locked first, so two
    requests at once take turns, and the second finds the first one's copies)."""
    organization_id = cycle.organization_id
    if next_cycle.organization_id != organization_id:
        raise ValidationError({"next_cycle": "Choose a cycle of this organization."})
    if next_cycle.starts_on <= cycle.starts_on:
        raise ValidationError({"next_cycle": "Choose a cycle that starts after this one."})
    if any(o.organization_id != organization_id or o.cycle_id != cycle.pk for o in objectives):
        raise ValidationError({"objectives": "Choose objectives of this cycle."})
    Cycle.objects.for_org(organization_id).select_for_update().filter(pk=cycle.pk).first()
    existing: dict[int, Objective] = {}
    for earlier in (
        Objective.objects.for_org(organization_id, include_archived=True)
        .filter(carried_over_from__in=[o.pk for o in objectives])
        .select_related("cycle")
        .order_by(F("archived_at").asc(nulls_first=True), "pk")
    ):
        existing.setdefault(earlier.carried_over_from_id, earlier)
    result = CarryOver()
    for objective in sorted(objectives, key=lambda o: o.pk):
        if objective.pk in existing:
            result.already.append(objective)
            result.copies[objective.pk] = existing[objective.pk]
            continue
        duplicate = Objective(
            organization_id=organization_id,
            pathway_id=objective.pathway_id,
            cycle=next_cycle,
            title=objective.title,
            description=objective.description,
            owner_id=objective.owner_id,
            parent_id=objective.parent_id,
            carried_over_from=objective,
        )
        record_save(record=duplicate, actor=actor)
        for key_result in KeyResult.objects.for_org(organization_id).filter(objective=objective):
            if _finished(key_result):
                continue
            record_save(
                record=KeyResult(
                    organization_id=organization_id,
                    objective=duplicate,
                    title=key_result.title,
                    metric_type=key_result.metric_type,
                    start_value=key_result.current_value,
                    current_value=key_result.current_value,
                    target_value=key_result.target_value,
                    unit=key_result.unit,
                    weight=key_result.weight,
                    confidence=key_result.confidence,
                    owner_id=key_result.owner_id,
                    carried_over_from=key_result,
                ),
                actor=actor,
            )
            result.key_results += 1
        for project in Project.objects.for_org(organization_id).filter(objectives=objective):
            project_save(
                project=project, objectives=[*project.objectives.all(), duplicate], actor=actor
            )
        result.created.append(duplicate)
    return result


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


def _comments_changed(comment: Comment) -> None:
    """Open pages of the plan (the activity feed) and of the comment's objective hear of it."""
    events.publish(comment.organization_id, events.PLAN)
    objective_id = comment.objective_id or comment.key_result.objective_id
    events.publish_comments(comment.organization_id, objective_id)


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
    _comments_changed(comment)
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
    _comments_changed(comment)
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
    _comments_changed(comment)  # sent once the delete commits
    comment.delete()
