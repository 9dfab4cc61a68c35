"""Reads for the sync pages."""

from __future__ import annotations

from django.db.models import QuerySet

from orgs.models import Organization
from sync.mapping import Mapping
from sync.models import Connection, SyncIssue, SyncRun

RECENT_RUNS = 20


def connections(*, organization: Organization) -> QuerySet[Connection]:
    return Connection.objects.for_org(organization).order_by("name")


def connection_runs(*, connection: Connection) -> list[SyncRun]:
    return list(connection.runs.select_related("requested_by")[:RECENT_RUNS])


def run_issues(*, organization: Organization, run: SyncRun) -> QuerySet[SyncIssue]:
    return SyncIssue.objects.for_org(organization).filter(run=run)


def connection_mapping(*, connection: Connection) -> Mapping:
    """The stored mapping; an empty one before anything is mapped. Raises MappingError when
    the stored data is damaged (e.g. edited by hand in the admin)."""
    if not connection.mapping:
        return Mapping(entities={})
    return Mapping.from_dict(connection.mapping)


def latest_run(*, organization: Organization) -> SyncRun | None:
    """The organization's most recent sync run (of any connection), for the dashboard."""
    return (
        SyncRun.objects.for_org(organization)
        .select_related("connection")
        .order_by("-queued_at", "-pk")
        .first()
    )
