"""Fixing what data health finds, for good: each action is planned as a list of changes (the
preview), applied through the plan's own services (so every change is validated, logged in the
activity feed and written back to Airtable by the two-way sync), recorded with who, when and
each value before and after, and undone from that record.

- close_project: an abandoned project becomes done or abandoned.
- reassign_tasks: every open task of a person who left goes to another person.
- merge (objectives, projects, people): what hangs from the copies moves to the survivor (key
  results and the projects' links for objectives; tasks and objective links for projects; tasks,
  ownerships and the account for people); each copy is archived here, renamed in Airtable to say
  what it was merged into, and left out of later syncs (its links resolve to the survivor).

Undo applies the changes backwards, each only where the value is still the one the action set:
what someone changed since is left as it is, and the undo says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from health.models import HealthAction
from okrs import services as okrs_services
from okrs.models import KeyResult, Objective, Project, ProjectStatus, Task, TaskStatus
from orgs import audit
from orgs import services as org_services
from orgs.models import Organization, OrgOwned, Person
from sync.reconcile.adapters import ENTITY_MODELS
from sync.reconcile.reconciler import MERGED_INTO
from sync.writeback.state import DELETE_IN_AIRTABLE, DELETED_IN_AIRTABLE

# The entities a fix changes, by the sync's names for them (what a Change's `model` says).
MODELS: dict[str, type[OrgOwned]] = {
    entity: ENTITY_MODELS[entity]
    for entity in ("task", "project", "objective", "key_result", "person")
}
MERGE_KINDS = {
    "objective": HealthAction.Kind.MERGE_OBJECTIVES,
    "project": HealthAction.Kind.MERGE_PROJECTS,
    "person": HealthAction.Kind.MERGE_PEOPLE,
}
CLOSING = (ProjectStatus.DONE, ProjectStatus.ABANDONED)
TITLE_MAX = Objective._meta.get_field("title").max_length


@dataclass
class Change:
    """One value of one row, before and after. `field`: a model field's attname, the
    "objectives" many-to-many (a sorted list of ids), or MERGED_INTO (in source_extra)."""

    model: str
    id: int
    label: str
    field: str
    before: object
    after: object
    shown: str  # what the preview says, e.g. "Sam Lee → Maya Okafor"

    def as_json(self) -> dict:
        return {
            "model": self.model,
            "id": self.id,
            "label": self.label,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "shown": self.shown,
        }


@dataclass
class Plan:
    kind: HealthAction.Kind
    summary: str  # what was done, for the record: "Closed X as done"
    intent: str = ""  # what will be done, for the preview: "Close X as done"
    changes: list[Change] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [f"{change.label}: {change.shown}" for change in self.changes]


# -- planning ---------------------------------------------------------------------------------


def plan_close_project(*, project: Project, status: str) -> Plan:
    if status not in CLOSING:
        raise ValidationError("Close it as done or abandoned.")
    if project.status in CLOSING:
        raise ValidationError(f"{project.name} is already {project.get_status_display().lower()}.")
    label = ProjectStatus(status).label
    plan = Plan(
        HealthAction.Kind.CLOSE_PROJECT,
        f"Closed {project.name} as {label.lower()}",
        f"Close {project.name} as {label.lower()}",
    )
    plan.changes.append(
        Change(
            "project",
            project.pk,
            project.name,
            "status",
            project.status,
            status,
            f"{project.get_status_display()} → {label}",
        )
    )
    return plan


def plan_reassign_tasks(*, organization: Organization, departed: Person, to: Person) -> Plan:
    if departed.organization_id != organization.id or to.organization_id != organization.id:
        raise ValidationError("Choose people of this organization.")
    if departed.pk == to.pk:
        raise ValidationError("Choose someone else to take the tasks.")
    if to.departed_on is not None:
        raise ValidationError(f"{to.name} has left too: choose someone who is here.")
    tasks = Task.objects.for_org(organization).filter(assignee=departed)
    tasks = tasks.exclude(status=TaskStatus.DONE).order_by("due_on", "pk")
    plan = Plan(
        HealthAction.Kind.REASSIGN_TASKS,
        f"Reassigned {departed.name}'s open tasks to {to.name}",
        f"Give {departed.name}'s open tasks to {to.name}",
    )
    for task in tasks:
        shown = f"{departed.name} → {to.name}"
        plan.changes.append(
            Change("task", task.pk, task.title, "assignee_id", departed.pk, to.pk, shown)
        )
    if not plan.changes:
        raise ValidationError(f"{departed.name} has no open task left.")
    return plan


def plan_merge(
    *,
    organization: Organization,
    model: str,
    survivor_id: int,
    ids: list[int],
    delete_in_airtable: bool = False,
) -> Plan:
    """Merge the rows `ids` (of `model`: objective, project or person) into `survivor_id`.
    `delete_in_airtable`: delete the copies' records there instead of renaming them (only
    when the person asks; undoing then makes new records)."""
    if model not in MERGE_KINDS:
        raise ValidationError("Only objectives, projects and people can be merged.")
    manager = MODELS[model].objects.for_org(organization)
    rows = {row.pk: row for row in manager.filter(pk__in={survivor_id, *ids})}
    if survivor_id not in rows:
        raise ValidationError("Choose which one to keep.")
    copies = [rows[pk] for pk in sorted(set(ids)) if pk in rows and pk != survivor_id]
    if not copies:
        raise ValidationError("Choose at least one other to merge into it.")
    survivor = rows[survivor_id]
    merged = ", ".join(str(c) for c in copies)
    plan = Plan(
        MERGE_KINDS[model], f"Merged {merged} into {survivor}", f"Merge {merged} into {survivor}"
    )
    for copy in copies:
        {"objective": _move_objective, "project": _move_project, "person": _move_person}[model](
            plan, organization, copy, survivor
        )
        _retire(plan, model, copy, survivor, delete_in_airtable=delete_in_airtable)
    return plan


def _retire(
    plan: Plan, model: str, copy: OrgOwned, survivor: OrgOwned, *, delete_in_airtable: bool
) -> None:
    label_field = "name" if model in ("project", "person") else "title"
    old_label = getattr(copy, label_field)
    now = timezone.now().isoformat()
    if delete_in_airtable and copy.source_record_id:
        plan.changes.append(
            Change(
                model,
                copy.pk,
                old_label,
                DELETE_IN_AIRTABLE,
                None,
                True,
                "deleted in Airtable (undoing makes a new record there)",
            )
        )
    else:
        marked = f"Merged into “{survivor}”: {old_label}"[:TITLE_MAX]
        plan.changes.append(
            Change(model, copy.pk, old_label, label_field, old_label, marked, f"renamed “{marked}”")
        )
    plan.changes += [
        Change(model, copy.pk, old_label, MERGED_INTO, None, survivor.pk, "left out of syncs"),
        Change(model, copy.pk, old_label, "archived_at", None, now, "archived"),
    ]


def _move_objective(plan: Plan, organization, copy: Objective, survivor: Objective) -> None:
    for kr in KeyResult.objects.for_org(organization).filter(objective=copy):
        plan.changes.append(
            Change(
                "key_result",
                kr.pk,
                kr.title,
                "objective_id",
                copy.pk,
                survivor.pk,
                f"moves to {survivor.title}",
            )
        )
    for child in Objective.objects.for_org(organization).filter(parent=copy):
        plan.changes.append(
            Change(
                "objective",
                child.pk,
                child.title,
                "parent_id",
                copy.pk,
                survivor.pk,
                f"now under {survivor.title}",
            )
        )
    projects = Project.objects.for_org(organization).filter(objectives=copy).distinct()
    for project in projects.prefetch_related("objectives"):
        before = sorted(o.pk for o in project.objectives.all())
        after = sorted({*before, survivor.pk} - {copy.pk})
        plan.changes.append(
            Change(
                "project",
                project.pk,
                project.name,
                "objectives",
                before,
                after,
                f"serves {survivor.title} instead",
            )
        )


def _move_project(plan: Plan, organization, copy: Project, survivor: Project) -> None:
    for task in Task.objects.for_org(organization).filter(project=copy):
        plan.changes.append(
            Change(
                "task",
                task.pk,
                task.title,
                "project_id",
                copy.pk,
                survivor.pk,
                f"moves to {survivor.name}",
            )
        )
    mine = sorted(o.pk for o in survivor.objectives.all())
    theirs = {o.pk for o in copy.objectives.all()}
    if theirs - set(mine):
        plan.changes.append(
            Change(
                "project",
                survivor.pk,
                survivor.name,
                "objectives",
                mine,
                sorted(theirs | set(mine)),
                "takes the objectives of its copy",
            )
        )


def _move_person(plan: Plan, organization, copy: Person, survivor: Person) -> None:
    for model, attname, noun in [
        ("task", "assignee_id", "assigned to"),
        ("project", "owner_id", "owned by"),
        ("objective", "owner_id", "owned by"),
        ("key_result", "owner_id", "owned by"),
    ]:
        rows = MODELS[model].objects.for_org(organization).filter(**{attname: copy.pk})
        for row in rows:
            plan.changes.append(
                Change(
                    model,
                    row.pk,
                    str(row),
                    attname,
                    copy.pk,
                    survivor.pk,
                    f"{noun} {survivor.name}",
                )
            )
    if copy.user_id and not survivor.user_id:
        plan.changes += [
            Change("person", copy.pk, copy.name, "user_id", copy.user_id, None, "account moves"),
            Change(
                "person",
                survivor.pk,
                survivor.name,
                "user_id",
                None,
                copy.user_id,
                "takes the account",
            ),
        ]


# -- applying and undoing -----------------------------------------------------------------------


@transaction.atomic
def action_apply(
    *, organization: Organization, plan: Plan, actor: AbstractBaseUser | None, finding=None
) -> HealthAction:
    _write(organization, plan.changes, backwards=False, actor=actor)
    action = HealthAction.objects.create(
        organization=organization,
        kind=plan.kind,
        summary=plan.summary,
        changes=[change.as_json() for change in plan.changes],
        actor=actor if actor is not None and actor.is_authenticated else None,
        finding_key=finding.key if finding is not None else "",
    )
    # Each row it changed has its own entry (through the services); this one says why.
    _audit_action(action, actor, "applied fix", _shown_changes(plan.changes))
    return action


def _shown_changes(changes: list[Change]) -> dict[str, list]:
    """A fix's changes as the audit log shows them: "<record> · <field>": [before, after]."""
    shown: dict[str, list] = {}
    for change in changes:
        name = f"{change.label} · {change.field.removesuffix('_id')}"
        if name in shown:
            name = f"{name} (#{change.id})"
        before, _, after = change.shown.partition(" → ")
        shown[name] = [before, after] if after else [None, change.shown]
    return shown


def _audit_action(action: HealthAction, actor, verb: str, changes: dict) -> None:
    audit.record(
        organization_id=action.organization_id,
        action=verb,
        kind="health_action",
        target_id=action.pk,
        label=action.summary,
        changes=changes,
        actor=actor,
    )


@dataclass(frozen=True)
class UndoReport:
    undone: int
    kept: list[str]  # changes left alone: changed by someone since


@transaction.atomic
def action_undo(*, action: HealthAction, actor: AbstractBaseUser | None) -> UndoReport:
    action = (
        HealthAction.objects.for_org(action.organization_id).select_for_update().get(pk=action.pk)
    )
    if action.undone_at is not None:
        raise ValidationError("This was undone already.")
    changes = [Change(**change) for change in action.changes]
    kept = _write(action.organization, changes, backwards=True, actor=actor)
    action.undone_at = timezone.now()
    action.undone_by = actor if actor is not None and actor.is_authenticated else None
    action.save(update_fields=["undone_at", "undone_by"])
    logged = {"changes reversed": [None, len(changes) - len(kept)]}
    if kept:
        logged["left as they are"] = [None, kept]
    _audit_action(action, actor, "undid fix", logged)
    return UndoReport(undone=len(changes) - len(kept), kept=kept)


def _write(organization, changes: list[Change], *, backwards: bool, actor) -> list[str]:
    """Set each change's value (its `before` when undoing, last change first), saving each row
    once through its service. -> the changes left alone because the row moved on since."""
    ordered = list(reversed(changes)) if backwards else changes
    by_row: dict[tuple[str, int], list[Change]] = defaultdict(list)
    for change in ordered:
        by_row[(change.model, change.id)].append(change)
    rows = _rows(organization, by_row)
    kept: list[str] = []
    for (model, pk), row_changes in by_row.items():
        row = rows.get((model, pk))
        if row is None:
            kept += [f"{c.label}: no longer there" for c in row_changes]
            continue
        objectives = None
        for change in row_changes:
            expected, value = (change.after, change.before) if backwards else (None, change.after)
            current = _value(row, change.field)
            if backwards and current != expected:
                kept.append(f"{change.label}: changed since, left as it is")
                continue
            if change.field == "objectives":
                objectives = list(
                    Objective.objects.for_org(organization, include_archived=True).filter(
                        pk__in=value
                    )
                )
            elif change.field in (MERGED_INTO, DELETE_IN_AIRTABLE):
                extra = dict(row.source_extra or {})
                if value is not None:
                    extra[change.field] = value
                else:
                    extra.pop(change.field, None)
                    if change.field == DELETE_IN_AIRTABLE and extra.pop(DELETED_IN_AIRTABLE, None):
                        # Gone from Airtable: the write-back makes the record anew.
                        row.source_record_id = None
                        row.source_hash = ""
                row.source_extra = extra
            elif change.field == "archived_at":
                row.archived_at = parse_datetime(value) if value else None
            else:
                setattr(row, change.field, value)
        _save(row, objectives, actor)
    return kept


def _value(row: OrgOwned, name: str) -> object:
    if name == "objectives":
        return sorted(o.pk for o in row.objectives.all())
    if name in (MERGED_INTO, DELETE_IN_AIRTABLE):
        return (row.source_extra or {}).get(name)
    if name == "archived_at":
        return row.archived_at.isoformat() if row.archived_at else None
    return getattr(row, name)


def _rows(organization, keys) -> dict[tuple[str, int], OrgOwned]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for model, pk in keys:
        wanted[model].add(pk)
    found = {}
    for model, pks in wanted.items():
        for row in (
            MODELS[model].objects.for_org(organization, include_archived=True).filter(pk__in=pks)
        ):
            found[(model, row.pk)] = row
    return found


def _save(row: OrgOwned, objectives, actor) -> None:
    if isinstance(row, Task):
        okrs_services.task_save(task=row, actor=actor)
    elif isinstance(row, Project):
        okrs_services.project_save(project=row, objectives=objectives, actor=actor)
    else:
        org_services.record_save(record=row, actor=actor)


def refresh_scope(changes: list[Change] | list[dict]) -> dict[str, set]:
    """What to recompute after a fix (or its undo): the findings of the rows it changed, and
    the duplicates of a model it merged."""
    scope: dict[str, set] = defaultdict(set)
    for change in changes:
        model = change["model"] if isinstance(change, dict) else change.model
        pk = change["id"] if isinstance(change, dict) else change.id
        name = change["field"] if isinstance(change, dict) else change.field
        if model in ("task", "project", "key_result"):
            scope[model].add(pk)
        if name == MERGED_INTO:
            scope["duplicates"].add(model)
    return dict(scope)
