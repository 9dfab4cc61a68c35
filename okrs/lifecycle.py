"""What archiving, restoring and deleting a plan record means, kind by kind (reads only).

The rule, as Perdoo and Lattice users expect it:

- **Archive** hides a record from every count and list (the tenancy's `for_org` leaves
  archived rows out) and takes what it *contains* with it: a cycle or a pathway its
  objectives, an objective its key results, a project its tasks. Each of those is marked as
  archived with that parent (`source_extra["archived_with"]`). What is only *linked* stays: a
  project linked to an archived pathway or objective, an aligned objective, a person's tasks.
  A key result's check-ins are never archived: they are its history and come back with it.
- **Restore** brings the record back with exactly what was archived with it (not what had been
  archived on its own before). A record whose container is still archived is not restored on
  its own: restore the container.
- **Delete** only what is empty: no contents, no links, no history (see `holdings`). Anything
  else is refused with what it still holds, and archiving is offered instead.

Synced records: see okrs.services.record_archive and the README ("Archive, restore, delete").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from okrs.models import Cycle, KeyResult, Objective, Pathway, Project, Task
from orgs.models import ARCHIVED_WITH, DELETE_IN_AIRTABLE, DELETED_IN_AIRTABLE, OrgOwned, Person
from orgs.roles import Action
from orgs.tenancy import live_q


@dataclass(frozen=True)
class Kind:
    """One kind of plan record, as the archive, restore and delete pages see it."""

    name: str  # "key_result": the URL names' prefix and the audit kind
    label: str  # "Key result"
    plural: str  # "Key results"
    model: type[OrgOwned]
    kwarg: str  # "key_result_id"
    url_prefix: str  # "key-results"
    action: Action  # who may archive, restore and delete it: who may edit it
    # Relations (related names) whose rows are archived and restored with it.
    contents: tuple[str, ...] = ()
    # Foreign keys to a container: while it is archived, this record is not restored alone.
    containers: tuple[str, ...] = ()
    # Related names whose rows (archived or not) keep it from being deleted.
    held: tuple[tuple[str, str, str], ...] = ()  # (related name, one, several)


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "cycle",
            "Cycle",
            "Cycles",
            Cycle,
            "cycle_id",
            "cycles",
            Action.EDIT_PLAN,
            contents=("objectives",),
            held=(("objectives", "objective", "objectives"),),
        ),
        Kind(
            "pathway",
            "Pathway",
            "Pathways",
            Pathway,
            "pathway_id",
            "pathways",
            Action.EDIT_PLAN,
            contents=("objectives",),
            held=(("objectives", "objective", "objectives"), ("projects", "project", "projects")),
        ),
        Kind(
            "objective",
            "Objective",
            "Objectives",
            Objective,
            "objective_id",
            "objectives",
            Action.EDIT_PLAN,
            contents=("key_results",),
            containers=("pathway", "cycle"),
            held=(
                ("key_results", "key result", "key results"),
                ("children", "aligned objective", "aligned objectives"),
                ("projects", "linked project", "linked projects"),
            ),
        ),
        Kind(
            "key_result",
            "Key result",
            "Key results",
            KeyResult,
            "key_result_id",
            "key-results",
            Action.EDIT_PLAN,
            containers=("objective",),
            held=(("check_ins", "check-in", "check-ins"),),
        ),
        Kind(
            "project",
            "Project",
            "Projects",
            Project,
            "project_id",
            "projects",
            Action.EDIT_PLAN,
            contents=("tasks",),
            held=(("tasks", "task", "tasks"),),
        ),
        Kind(
            "task",
            "Task",
            "Tasks",
            Task,
            "task_id",
            "tasks",
            Action.EDIT_TASKS,
            containers=("project",),
        ),
        Kind(
            "person",
            "Person",
            "People",
            Person,
            "person_id",
            "people",
            Action.MANAGE_PEOPLE,
            held=(
                ("objectives", "objective they own", "objectives they own"),
                ("key_results", "key result they own", "key results they own"),
                ("projects", "project they own", "projects they own"),
                ("tasks", "task assigned to them", "tasks assigned to them"),
            ),
        ),
    )
}


def kind_of(record: OrgOwned) -> Kind:
    for kind in KINDS.values():
        if isinstance(record, kind.model):
            return kind
    raise ValueError(f"{type(record).__name__} has no archive, restore or delete")


def _related(record: OrgOwned, name: str) -> models.QuerySet:
    """Every row of a relation, archived or not (a related manager: scoped by its parent)."""
    return getattr(record, name).all()


def contents(record: OrgOwned) -> list[OrgOwned]:
    """The live rows archived with `record`, contents of contents included, parents first."""
    found: list[OrgOwned] = []
    for name in kind_of(record).contents:
        for child in _related(record, name).filter(live_q()).order_by("pk"):
            found.append(child)
            found.extend(contents(child))
    return found


def archived_with(record: OrgOwned, mark: str | None = None) -> list[OrgOwned]:
    """The archived rows that were archived together with `record` (they carry its mark,
    contents of contents too), parents first."""
    mark = mark or archive_mark(record)
    found: list[OrgOwned] = []
    for name in kind_of(record).contents:
        for child in _related(record, name).filter(archived_at__isnull=False).order_by("pk"):
            if (child.source_extra or {}).get(ARCHIVED_WITH) == mark:
                found.append(child)
                found.extend(archived_with(child, mark))
    return found


def content_kinds() -> list[Kind]:
    """The kinds that are archived with a container (objectives, key results, tasks)."""
    models_ = {
        kind.model._meta.get_field(name).related_model
        for kind in KINDS.values()
        for name in kind.contents
    }
    return [kind for kind in KINDS.values() if kind.model in models_]


def archived_container(record: OrgOwned) -> OrgOwned | None:
    """The container of `record` that is archived (restore that first), if any."""
    for name in kind_of(record).containers:
        container = getattr(record, name)
        if container is not None and container.archived_at is not None:
            return container
    return None


def holdings(record: OrgOwned) -> list[str]:
    """What keeps `record` from being deleted, for a person: ["3 tasks", "1 check-in"]."""
    held = []
    for name, one, several in kind_of(record).held:
        count = _related(record, name).count()
        if count:
            held.append(f"{count} {one if count == 1 else several}")
    return held


def archive_mark(record: OrgOwned) -> str:
    """What the rows archived with `record` carry: "project:12"."""
    return f"{kind_of(record).name}:{record.pk}"


def deleted_in_airtable(record: OrgOwned) -> bool:
    """Whether the synced record's Airtable record was deleted there (the sync marks an
    archived row whose record a full pull or the change feed no longer finds), not by a delete
    asked for here. Restoring it makes the record anew in Airtable (the write-back)."""
    extra = record.source_extra or {}
    return bool(extra.get(DELETED_IN_AIRTABLE) and not extra.get(DELETE_IN_AIRTABLE))
