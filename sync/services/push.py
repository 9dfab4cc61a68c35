"""Writes for the write-back: draining a connection's outbox into Airtable, resolving
conflicts, and the connection's write settings (read-only tables, the MissionOS ID field)."""

from __future__ import annotations

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from orgs import audit
from sync.airtable.client import AirtableClient, SyncError
from sync.crypto import TokenUnreadable
from sync.mapping.catalogue import ENTITIES
from sync.mapping.document import MappingError
from sync.models import Connection, PendingWrite, SyncConflict
from sync.reconcile.adapters import ENTITY_MODELS
from sync.schema import schema_from_api
from sync.selectors import connection_mapping
from sync.services.auditing import audit_connection
from sync.services.connections import connection_client
from sync.services.locks import SyncBusy, push_lock
from sync.values import convert
from sync.writeback.journal import queue_write, request_push
from sync.writeback.push import MISSIONOS_ID_FIELD, Push, PushReport
from sync.writeback.state import stamp_base, value_key

logger = logging.getLogger(__name__)


def push_connection(
    *,
    connection: Connection,
    client: AirtableClient | None = None,
    on_progress=None,
    **client_kwargs,
) -> PushReport | None:
    """Write the connection's queued changes to Airtable. None when another worker is doing
    it already (it drains whatever is queued, this change included)."""
    report = PushReport()
    try:
        with push_lock(connection.pk) as keep_lock:
            connection.refresh_from_db()
            try:
                mapping = connection_mapping(connection=connection)
                client = client or connection_client(connection, **client_kwargs)
            except (MappingError, TokenUnreadable) as error:
                PendingWrite.objects.for_org(connection.organization_id).filter(
                    connection=connection, state=PendingWrite.State.PENDING
                ).update(state=PendingWrite.State.FAILED, reason=str(error))
                return report
            previous = client.on_request

            def each_request() -> None:
                keep_lock()  # the push is alive: a dead worker's lock lapses, this one not
                report.requests += 1
                previous()

            client.on_request = each_request
            push = Push(
                connection=connection,
                client=client,
                schema=schema_from_api(connection.schema),
                mapping=mapping,
                report=report,
                on_progress=on_progress,
            )
            push.run()
    except SyncBusy:
        return None
    events.publish(connection.organization_id, events.SYNC)
    events.publish(connection.organization_id, events.PLAN)
    return report


def connections_with_due_writes() -> list[int]:
    """Connections (of every organization: beat serves them all) with a write due now."""
    return list(
        PendingWrite.objects.unscoped()
        .filter(state=PendingWrite.State.PENDING, next_attempt_at__lte=timezone.now())
        .values_list("connection_id", flat=True)
        .distinct()
    )


def push_requeue(*, connection: Connection) -> int:
    """Try failed and waiting writes again now (after the token, the mapping or a setting
    was fixed). -> how many."""
    count = (
        PendingWrite.objects.for_org(connection.organization_id)
        .filter(connection=connection)
        .exclude(state=PendingWrite.State.PENDING, next_attempt_at__lte=timezone.now())
        .update(state=PendingWrite.State.PENDING, next_attempt_at=timezone.now())
    )
    request_push(connection.pk)
    return count


@transaction.atomic
def conflict_resolve(
    *, conflict: SyncConflict, keep: str, actor: AbstractBaseUser | None = None
) -> SyncConflict:
    """End a conflict: keep MissionOS's value (written to Airtable) or take Airtable's."""
    if keep not in SyncConflict.Resolution.values:
        raise ValidationError("Choose which value to keep.")
    conflict = (
        SyncConflict.objects.for_org(conflict.organization_id)
        .select_for_update()
        .select_related("connection")
        .get(pk=conflict.pk)
    )
    if not conflict.is_open:
        return conflict
    model = ENTITY_MODELS[conflict.entity]
    row = model.objects.for_org(conflict.organization_id, include_archived=True).get(
        pk=conflict.row_id
    )
    mapping = connection_mapping(connection=conflict.connection)
    entity_mapping = mapping.entities.get(conflict.entity)
    schema = schema_from_api(conflict.connection.schema)
    table = schema.table(entity_mapping.table_id) if entity_mapping else None
    attr = ENTITIES[conflict.entity][conflict.attribute]
    if attr.kind == "link":
        _resolve_link(conflict, row, attr, keep, actor)
    else:
        _resolve_value(conflict, row, attr, keep, actor, entity_mapping, table)
    conflict.resolved_at = timezone.now()
    conflict.resolution = keep
    conflict.resolved_by = actor if actor is not None and actor.is_authenticated else None
    conflict.save(update_fields=["resolved_at", "resolution", "resolved_by"])
    if keep == SyncConflict.Resolution.AIRTABLE:  # MissionOS takes Airtable's value
        changes = {conflict.attribute: [conflict.missionos_shown, conflict.airtable_shown]}
    else:  # Airtable gets MissionOS's
        changes = {
            f"{conflict.attribute} in Airtable": [conflict.airtable_shown, conflict.missionos_shown]
        }
    audit.record(
        organization_id=conflict.organization_id,
        action="resolved conflict",
        kind=audit.kind_of(row),
        target_id=row.pk,
        label=str(row),
        changes=changes,
        actor=actor,
    )
    events.publish(conflict.organization_id, events.PLAN)
    return conflict


def _resolve_value(conflict, row, attr, keep, actor, entity_mapping, table) -> None:
    airtable_value = convert(
        attr,
        conflict.airtable_cell,
        value_map=entity_mapping.value_maps.get(conflict.attribute) if entity_mapping else None,
        field=table.field(conflict.field_id) if table else None,
    ).value
    if keep == SyncConflict.Resolution.AIRTABLE:
        setattr(row, conflict.attribute, airtable_value)
        stamp_base(row, {conflict.attribute: value_key(getattr(row, conflict.attribute))}, {})
        row.save(update_fields=[conflict.attribute, "source_extra", "updated_at"])
    else:
        # Airtable's value becomes the base, so MissionOS's differs from it: it is written.
        stamp_base(row, {conflict.attribute: value_key(airtable_value)}, {})
        row.save(update_fields=["source_extra"])
        queue_write(record=row, actor=actor)


def _resolve_link(conflict, row, attr, keep, actor) -> None:
    """A link: Airtable's side is the record ids the pull read; taking it points the row at
    their rows (a record not synced yet is linked once a pull brings it)."""
    entries = [entry for entry in conflict.airtable_cell or [] if isinstance(entry, str)]
    stamp_base(row, {}, {conflict.attribute: entries})
    if keep == SyncConflict.Resolution.AIRTABLE:
        target = ENTITY_MODELS[attr.target]
        targets = list(
            target.objects.for_org(conflict.organization_id, include_archived=True).filter(
                source_record_id__in=entries
            )
        )
        if attr.many:
            getattr(row, conflict.attribute).set(targets)
            row.save(update_fields=["source_extra", "updated_at"])
        else:
            by_record = {t.source_record_id: t for t in targets}
            setattr(row, conflict.attribute, next(map(by_record.get, entries), None))
            row.save(update_fields=[conflict.attribute, "source_extra", "updated_at"])
    else:
        # Airtable's link becomes the base, so the row's differs from it: it is written.
        row.save(update_fields=["source_extra"])
        queue_write(record=row, actor=actor)


def _table_name(connection: Connection, table_id: str) -> str:
    table = schema_from_api(connection.schema).table(table_id)
    return table.name if table else table_id


def connection_set_read_only(
    *,
    connection: Connection,
    table_id: str,
    read_only: bool,
    actor: AbstractBaseUser | None = None,
) -> None:
    """Keep a table read-only (MissionOS edits stay here) or let writes through again."""
    settings = dict(connection.write_settings or {})
    was = bool(settings.get(table_id, {}).get("read_only"))
    settings[table_id] = {**settings.get(table_id, {}), "read_only": read_only}
    connection.write_settings = settings
    connection.save(update_fields=["write_settings"])
    if was != read_only:
        name = f"{_table_name(connection, table_id)} read-only"
        audit_connection(connection, actor, "changed write-back", {name: [was, read_only]})
    if not read_only:
        push_requeue(connection=connection)


def _field_name(schema, table_id: str, field_id: str | None) -> str | None:
    table = schema.table(table_id)
    field = table.field(field_id) if table and field_id else None
    if field is not None:
        return field.name
    return MISSIONOS_ID_FIELD if field_id else None  # just added: not in the schema read yet


def connection_add_id_fields(
    *, connection: Connection, actor: AbstractBaseUser | None = None
) -> list[str]:
    """Add a "MissionOS ID" text field to each mapped, writable table that lacks one (the
    token needs schema.bases:write), so creates are upserts that cannot duplicate.
    -> the names of the tables given one. Raises SyncError when Airtable refuses."""
    mapping = connection_mapping(connection=connection)
    schema = schema_from_api(connection.schema)
    client = connection_client(connection)
    settings = dict(connection.write_settings or {})
    before = {table_id: setting.get("id_field") for table_id, setting in settings.items()}
    added = []
    for entity_mapping in mapping.entities.values():
        table = schema.table(entity_mapping.table_id)
        if table is None or settings.get(table.id, {}).get("read_only"):
            continue
        existing = table.field_named(MISSIONOS_ID_FIELD)
        if existing is None:
            created = client.create_field(table.id, MISSIONOS_ID_FIELD)
            field_id = created.get("id") if isinstance(created, dict) else None
            if not field_id:
                raise SyncError(f"Airtable did not say which field it added to {table.name}.")
            added.append(table.name)
        else:
            field_id = existing.id
        settings[table.id] = {**settings.get(table.id, {}), "id_field": field_id}
    connection.write_settings = settings
    connection.save(update_fields=["write_settings"])
    changes = {
        f"{_table_name(connection, table_id)} ID field": [
            _field_name(schema, table_id, before.get(table_id)),
            _field_name(schema, table_id, setting.get("id_field")),
        ]
        for table_id, setting in settings.items()
        if setting.get("id_field") != before.get(table_id)
    }
    if changes:
        audit_connection(connection, actor, "changed write-back", changes)
    if added:
        from sync.services.connections import connection_refresh_schema

        connection_refresh_schema(connection=connection)
    return added
