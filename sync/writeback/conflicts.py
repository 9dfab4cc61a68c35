"""Conflicts: a field changed in MissionOS and, differently, in Airtable since they agreed.

Found by the pull's merge (sync.reconcile.reconciler) and by the push's read before writing
(sync.writeback.push). One open conflict per row and attribute: found again, it takes
Airtable's latest value. While open, neither side is overwritten; `conflict_resolve` in
sync.services ends it.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from orgs.models import OrgOwned
from sync.mapping.catalogue import ENTITIES
from sync.models import Connection, PendingWrite, SyncConflict
from sync.schema import FieldSchema


def shown(value: object) -> str:
    """A value as a person reads it."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "get_status_display"):
        return str(value)
    text = str(value).replace("_", " ") if isinstance(value, str) else str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def _json(value: object) -> object:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def conflict_found(
    *,
    connection: Connection,
    entity: str,
    row: OrgOwned,
    attribute: str,
    field: FieldSchema | None,
    local: object,
    airtable_value: object,
    airtable_cell: object,
) -> SyncConflict:
    pending = (
        PendingWrite.objects.for_org(row.organization_id)
        .filter(entity=entity, row_id=row.pk)
        .first()
    )
    return SyncConflict(
        organization_id=row.organization_id,
        connection=connection,
        entity=entity,
        row_id=row.pk,
        attribute=attribute,
        field_id=field.id if field else "",
        field_name=field.name if field else attribute,
        missionos_value=_json(local),
        missionos_shown=shown(local),
        missionos_by=pending.changed_by if pending else None,
        missionos_at=pending.changed_at if pending else row.updated_at,
        airtable_cell=airtable_cell,
        airtable_shown=shown(airtable_value),
        airtable_seen_at=timezone.now(),
    )


def link_conflict_found(
    *,
    connection: Connection,
    entity: str,
    row: OrgOwned,
    attribute: str,
    field: FieldSchema | None,
    local_entries: list,
    airtable_entries: list,
) -> SyncConflict:
    """A link (a task's assignee, a project's objectives) changed on both sides: both shown by
    the names of the records they point at. Airtable's side is kept as the pull's entries
    (record ids), which is what taking it sets."""
    conflict = conflict_found(
        connection=connection,
        entity=entity,
        row=row,
        attribute=attribute,
        field=field,
        local=None,
        airtable_value=None,
        airtable_cell=airtable_entries,
    )
    names = _linked_names(row.organization_id, entity, attribute, local_entries + airtable_entries)
    conflict.missionos_value = local_entries
    conflict.missionos_shown = _names_shown(local_entries, names)
    conflict.airtable_shown = _names_shown(airtable_entries, names)
    return conflict


def _linked_names(organization_id: int, entity: str, attribute: str, entries: list) -> dict:
    from sync.reconcile.adapters import ENTITY_MODELS  # adapters import the okrs models

    record_ids = {entry for entry in entries if isinstance(entry, str)}
    if not record_ids:
        return {}
    target = ENTITY_MODELS[ENTITIES[entity][attribute].target]
    rows = target.objects.for_org(organization_id, include_archived=True).filter(
        source_record_id__in=record_ids
    )
    return {row.source_record_id: str(row) for row in rows}


def _names_shown(entries: list, names: dict) -> str:
    shown_names = []
    for entry in entries:
        if isinstance(entry, dict):
            shown_names.append(entry.get("name") or entry.get("email") or "?")
        else:
            shown_names.append(names.get(entry) or f"a record not synced yet ({entry})")
    return ", ".join(shown_names) if shown_names else "(empty)"


def conflicts_save(conflicts: list[SyncConflict]) -> None:
    """Save new conflicts; one already open for the field takes Airtable's latest value."""
    for conflict in conflicts:
        updated = (
            SyncConflict.objects.for_org(conflict.organization_id)
            .filter(
                entity=conflict.entity,
                row_id=conflict.row_id,
                attribute=conflict.attribute,
                resolved_at=None,
            )
            .update(
                airtable_cell=conflict.airtable_cell,
                airtable_shown=conflict.airtable_shown,
                airtable_seen_at=conflict.airtable_seen_at,
                missionos_value=conflict.missionos_value,
                missionos_shown=conflict.missionos_shown,
            )
        )
        if not updated:
            conflict.save()


def open_conflict_attributes(organization_id: int, entity: str, row_ids: list[int]) -> dict:
    """row id -> the attributes with an open conflict (one query)."""
    found: dict[int, set[str]] = {}
    rows = (
        SyncConflict.objects.for_org(organization_id)
        .filter(entity=entity, row_id__in=row_ids, resolved_at=None)
        .values_list("row_id", "attribute")
    )
    for row_id, attribute in rows:
        found.setdefault(row_id, set()).add(attribute)
    return found
