"""The write-back's outbox: rows MissionOS changed, queued in the transaction of the change.

`queue_write` is the listener `orgs.changes.record_written` calls (registered in
sync/apps.py). It finds the connection the row belongs to (the one it was synced from; for a
row made here, the connection of the record it hangs from, else the organization's connection
that maps its entity), folds the change into the row's one outbox entry, and asks for a push
once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Value
from django.utils import timezone

from orgs.models import Organization, OrgOwned
from sync.mapping.document import Mapping, MappingError
from sync.models import Connection, PendingWrite, SyncConflict
from sync.reconcile.adapters import model_entity

# For a row made in MissionOS: the link whose record's base it belongs in (task -> project).
HOME_VIA = {
    "task": ("project",),
    "key_result": ("objective",),
    "check_in": ("key_result",),
    "objective": ("pathway", "parent"),
    "project": ("pathway",),
}


def _maps(connection: Connection, entity: str) -> bool:
    try:
        return entity in Mapping.from_dict(connection.mapping).entities
    except MappingError:
        return False


def home_connection(record: OrgOwned, entity: str) -> Connection | None:
    """The connection whose base the row is (or belongs) in; None: it stays in MissionOS."""
    connections = Connection.objects.for_org(record.organization_id)
    if record.source_connection_id:
        connection = connections.filter(pk=record.source_connection_id).first()
        return connection if connection and _maps(connection, entity) else None
    for link in HOME_VIA.get(entity, ()):
        parent = getattr(record, link, None)
        if parent is not None and parent.source_connection_id:
            connection = connections.filter(pk=parent.source_connection_id).first()
            return connection if connection and _maps(connection, entity) else None
    if entity == "project":
        first = record.objectives.exclude(source_connection_id=None).first() if record.pk else None
        if first is not None:
            connection = connections.filter(pk=first.source_connection_id).first()
            return connection if connection and _maps(connection, entity) else None
    # Several bases mapping the same entity: the oldest connection holds new rows.
    for connection in connections.order_by("created_at", "pk"):
        if _maps(connection, entity):
            return connection
    return None


def queue_write(*, record: OrgOwned, actor=None) -> None:
    """Queue the row for write-back, in the caller's transaction."""
    entity = model_entity(type(record))
    if entity is None or record.pk is None:
        return
    connection = home_connection(record, entity)
    if connection is None:
        return
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    _upsert(connection, entity, record.pk, changed_by=user)
    request_push(connection.pk)


def queue_rows(connection: Connection, rows: Iterable[tuple[str, int]]) -> None:
    """Queue rows the sync found holding MissionOS values Airtable lacks (kept by a merge)."""
    for entity, row_id in rows:
        _upsert(connection, entity, row_id, changed_by=None, fold=False)
    request_push(connection.pk)


def _upsert(connection, entity, row_id, *, changed_by, fold: bool = True) -> None:
    now = timezone.now()
    entries = PendingWrite.objects.for_org(connection.organization_id).filter(
        entity=entity, row_id=row_id
    )
    changes = {
        "version": F("version") + 1,
        "state": PendingWrite.State.PENDING,
        "next_attempt_at": now,
        "connection": connection,
    }
    if fold:
        changes.update(changed_at=now, changed_by=changed_by, reason="")
    if entries.update(**changes):
        return
    try:
        with transaction.atomic():
            PendingWrite.objects.create(
                organization_id=connection.organization_id,
                connection=connection,
                entity=entity,
                row_id=row_id,
                changed_by=changed_by,
                queued_at=now,
                changed_at=now,
            )
    except IntegrityError:  # queued by a concurrent change a moment ago
        entries.update(**changes)


def request_push(connection_id: int) -> None:
    """Ask a worker to drain the connection's outbox once this transaction commits."""

    def send() -> None:
        from sync.tasks import push_connection  # tasks call services, which import this

        push_connection.delay(connection_id)

    transaction.on_commit(send)


@dataclass(frozen=True)
class HeldRows:
    """Rows of a page whose MissionOS side a pull must weigh before taking Airtable's."""

    pending: set[int]  # a write to Airtable waits
    conflicts: dict[int, set[str]]  # row id -> attributes with an open conflict


def rows_held(organization: Organization, entity: str, row_ids: list[int]) -> HeldRows:
    """Which of these rows have a write waiting or a conflict open (one query)."""
    held = HeldRows(pending=set(), conflicts={})
    if not row_ids:
        return held
    writes = (
        PendingWrite.objects.for_org(organization)
        .filter(entity=entity, row_id__in=row_ids)
        .order_by()
        .values_list("row_id", Value("", output_field=CharField()))
    )
    conflicts = (
        SyncConflict.objects.for_org(organization)
        .filter(entity=entity, row_id__in=row_ids, resolved_at=None)
        .order_by()
        .values_list("row_id", "attribute")
    )
    for row_id, attribute in writes.union(conflicts, all=True):
        if attribute:
            held.conflicts.setdefault(row_id, set()).add(attribute)
        else:
            held.pending.add(row_id)
    return held
