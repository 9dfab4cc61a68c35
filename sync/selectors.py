"""Reads for the sync pages."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from orgs.models import Organization, OrgOwned
from sync.mapping.document import Mapping
from sync.models import ChangeFeed, Connection, RunKind, SyncIssue, SyncRun

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
    return SyncIssue.objects.for_org(organization).filter(run=run)


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
    """Where a synced record comes from, for the "From Airtable" details on its page."""

    connection_name: str
    base_id: str
    table_id: str
    table_name: str  # as of the base's last schema read; the id if the table is gone
    record_id: str
    last_synced_at: datetime.datetime | None

    @property
    def airtable_url(self) -> str:
        return f"https://airtable.com/{self.base_id}/{self.table_id}/{self.record_id}"


def attach_sources(*, organization: Organization, records: Iterable[OrgOwned]) -> None:
    """Set `record.source` (a RecordSource, or None for records made in MissionOS) on each
    record, with one query for their connections whatever their number."""
    records = list(records)
    connection_ids = {r.source_connection_id for r in records if r.source_record_id}
    connections_by_id = {
        connection.pk: connection
        for connection in Connection.objects.for_org(organization)
        .filter(pk__in=connection_ids)
        .only("name", "base_id", "schema")
    }
    table_names = {
        pk: {t.get("id"): t.get("name") for t in (c.schema or {}).get("tables", [])}
        for pk, c in connections_by_id.items()
    }
    for record in records:
        connection = connections_by_id.get(record.source_connection_id)
        if not record.source_record_id or connection is None:
            record.source = None
            continue
        record.source = RecordSource(
            connection_name=connection.name,
            base_id=connection.base_id,
            table_id=record.source_table,
            table_name=table_names[connection.pk].get(record.source_table) or record.source_table,
            record_id=record.source_record_id,
            last_synced_at=record.last_synced_at,
        )
