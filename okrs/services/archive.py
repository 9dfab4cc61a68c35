"""Archive, restore and delete, for every kind (the rules: okrs.lifecycle)."""

from __future__ import annotations

import copy

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from okrs import lifecycle
from orgs import audit
from orgs.changes import record_written
from orgs.models import (
    ARCHIVED_HERE,
    ARCHIVED_WITH,
    DELETE_IN_AIRTABLE,
    DELETED_IN_AIRTABLE,
    OrgOwned,
)
from orgs.services import activity_record


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
