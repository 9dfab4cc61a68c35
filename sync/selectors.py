"""Reads for the sync pages."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from orgs.models import Organization, OrgOwned
from sync.mapping.document import Mapping
from sync.models import (
    ChangeFeed,
    Connection,
    PendingWrite,
    RunKind,
    SyncConflict,
    SyncIssue,
    SyncRun,
    airtable_record_url,
)
from sync.reconcile.adapters import model_entity
from sync.reconcile.issues import current_issues_q

RECENT_RUNS = 20


def connections(*, organization: Organization) -> QuerySet[Connection]:
    return Connection.objects.for_org(organization).order_by("name")


def connection_runs(*, connection: Connection) -> list[SyncRun]:
    """Full and incremental runs; the change feed's batches are listed apart (feed_batches)."""
    runs = connection.runs.exclude(kind=RunKind.CHANGES).select_related("requested_by")
    return list(runs[:RECENT_RUNS])


def feed_batches(*, connection: Connection, limit: int = 5) -> list[SyncRun]:
    """The change feed's latest batches (one SyncRun each), for the connection page."""
    return list(connection.runs.filter(kind=RunKind.CHANGES)[:limit])


def connection_feed(*, connection: Connection) -> ChangeFeed | None:
    return (
        ChangeFeed.objects.for_org(connection.organization_id).filter(connection=connection).first()
    )


def run_issues(*, organization: Organization, run: SyncRun) -> QuerySet[SyncIssue]:
    """The problems standing when the run ended (each kept as one row while it lasts)."""
    return SyncIssue.objects.for_org(organization).filter(current_issues_q([run]))


def with_airtable_urls(issues, *, base_id: str):
    """Each issue with `url`: its record's row in Airtable (a page of them, for the run page)."""
    for issue in issues:
        issue.url = issue.airtable_url(base_id)
    return issues


def connection_mapping(*, connection: Connection) -> Mapping:
    """The stored mapping; an empty one before anything is mapped. Raises MappingError when
    the stored data is damaged (e.g. edited by hand in the admin)."""
    if not connection.mapping:
        return Mapping(entities={})
    return Mapping.from_dict(connection.mapping)


def latest_run(*, organization: Organization) -> SyncRun | None:
    """The organization's most recent full or incremental run (of any connection), for the
    dashboard; change-feed batches are a few records each and would hide the last real run."""
    return (
        SyncRun.objects.for_org(organization)
        .exclude(kind=RunKind.CHANGES)
        .select_related("connection")
        .order_by("-queued_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class RecordSource:
    """Where a synced record comes from, for the "From Airtable" details on its page, and
    how its MissionOS changes stand: in Airtable, being saved, or not saved and why."""

    connection_name: str
    base_id: str
    table_id: str
    table_name: str  # as of the base's last schema read; the id if the table is gone
    record_id: str  # empty while a record made here is being created in Airtable
    last_synced_at: datetime.datetime | None
    write: PendingWrite | None = None
    conflicts: tuple[SyncConflict, ...] = ()

    @property
    def airtable_url(self) -> str:
        return airtable_record_url(self.base_id, self.table_id, self.record_id)

    @property
    def state(self) -> str:
        """in_airtable | saving | waiting | failed | conflict"""
        if self.conflicts:
            return "conflict"
        if self.write is None:
            return "in_airtable"
        if self.write.state == PendingWrite.State.FAILED:
            return "failed"
        if self.write.state == PendingWrite.State.WAITING:
            return "waiting"
        return "saving"

    @property
    def state_label(self) -> str:
        return {
            "in_airtable": "In Airtable",
            "saving": "Saving to Airtable…",
            "waiting": "Saving to Airtable…",
            "failed": "Not saved to Airtable",
            "conflict": "Changed in both places",
        }[self.state]


def attach_sources(*, organization: Organization, records: Iterable[OrgOwned]) -> None:
    """Set `record.source` (a RecordSource, or None for records that live in MissionOS only)
    on each record, with one query each for their connections, queued writes and open
    conflicts, whatever their number."""
    records = list(records)
    by_entity: dict[str, list[int]] = {}
    for record in records:
        entity = model_entity(type(record))
        if entity is not None and record.pk is not None:
            by_entity.setdefault(entity, []).append(record.pk)
    writes: dict[tuple[str, int], PendingWrite] = {}
    conflicts: dict[tuple[str, int], list[SyncConflict]] = {}
    if by_entity:
        rows = Q()
        for entity, row_ids in by_entity.items():
            rows |= Q(entity=entity, row_id__in=row_ids)
        for write in PendingWrite.objects.for_org(organization).filter(rows):
            writes[(write.entity, write.row_id)] = write
        for conflict in SyncConflict.objects.for_org(organization).filter(rows, resolved_at=None):
            conflicts.setdefault((conflict.entity, conflict.row_id), []).append(conflict)
    connection_ids = {r.source_connection_id for r in records if r.source_record_id}
    connection_ids |= {write.connection_id for write in writes.values()}
    connections_by_id = {
        connection.pk: connection
        for connection in Connection.objects.for_org(organization)
        .filter(pk__in=connection_ids)
        .only("name", "base_id", "schema", "mapping")
    }
    table_names = {
        pk: {t.get("id"): t.get("name") for t in (c.schema or {}).get("tables", [])}
        for pk, c in connections_by_id.items()
    }
    for record in records:
        key = (model_entity(type(record)) or "", record.pk)
        write = writes.get(key)
        connection_id = record.source_connection_id if record.source_record_id else None
        connection = connections_by_id.get(connection_id or (write.connection_id if write else 0))
        if connection is None:
            record.source = None
            continue
        table_id = record.source_table or _mapped_table(connection, key[0])
        record.source = RecordSource(
            connection_name=connection.name,
            base_id=connection.base_id,
            table_id=table_id,
            table_name=table_names[connection.pk].get(table_id) or table_id,
            record_id=record.source_record_id or "",
            last_synced_at=record.last_synced_at,
            write=write,
            conflicts=tuple(conflicts.get(key, ())),
        )


def _mapped_table(connection: Connection, entity: str) -> str:
    entity_mapping = (connection.mapping or {}).get("entities", {}).get(entity) or {}
    return entity_mapping.get("table_id", "")


@dataclass(frozen=True)
class WriteQueue:
    """The connection's write-back queue, for its page."""

    pending: int
    failed: int
    waiting: int
    oldest_queued_at: datetime.datetime | None
    failures: list[PendingWrite]
    conflicts: list[SyncConflict]

    @property
    def depth(self) -> int:
        return self.pending + self.failed + self.waiting


def connection_write_queue(*, connection: Connection) -> WriteQueue:
    writes = PendingWrite.objects.for_org(connection.organization_id).filter(connection=connection)
    counts = dict(writes.values_list("state").annotate(count=Count("pk")).order_by())
    oldest = writes.order_by("queued_at").values_list("queued_at", flat=True).first()
    return WriteQueue(
        pending=counts.get(PendingWrite.State.PENDING, 0),
        failed=counts.get(PendingWrite.State.FAILED, 0),
        waiting=counts.get(PendingWrite.State.WAITING, 0),
        oldest_queued_at=oldest,
        failures=list(
            writes.exclude(state=PendingWrite.State.PENDING).order_by("-changed_at")[:20]
        ),
        conflicts=list(
            SyncConflict.objects.for_org(connection.organization_id)
            .filter(connection=connection, resolved_at=None)
            .order_by("-detected_at")[:20]
        ),
    )
