"""A base's record problems, kept as one SyncIssue row per problem while it lasts.

A run writes a record's problems when it writes the record (or, for links, when it resolves
the record's links): the problems found again are updated in place, new ones added, and the
ones the record no longer has removed. A record unchanged in Airtable is not written, so its
problems stand untouched: an unchanged run writes no issue at all. Problems of records gone
from the base go with them (`issues_forget`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from django.db.models import Q

from orgs.models import Organization
from sync.bulk import upsert_rows
from sync.models import Connection, SyncIssue, SyncRun

# The fields a problem found again takes from the run that found it.
REFRESHED = ["last_seen_run", "table_name", "field_name", "reason"]
NATURAL_KEY = ["connection", "table_id", "record_id", "kind", "field_id", "problem_key"]
CHUNK = 1000
# Kinds written with the record itself; links are written by the link pass (LINK_KINDS), and
# an overwrite is an event of the run that overwrote, kept until the record goes.
RECORD_KINDS = (SyncIssue.Kind.VALUE, SyncIssue.Kind.REQUIRED)
LINK_KINDS = (SyncIssue.Kind.LINK,)


def problem_key(reason: str) -> str:
    """Tells apart two problems of one kind in one field of a record: the reason's digest."""
    return hashlib.sha1(reason.encode(), usedforsecurity=False).hexdigest()[:16]


def issues_save(
    organization: Organization,
    run: SyncRun,
    issues: Sequence[SyncIssue],
    *,
    table_id: str,
    record_ids: Iterable[str],
    kinds: Sequence[str] = RECORD_KINDS,
) -> None:
    """The problems of `record_ids` (of `kinds`) are now `issues`: upsert them on their
    natural key and remove the ones no longer found. Call inside the page's transaction."""
    unique: dict[tuple, SyncIssue] = {}
    for issue in issues:
        issue.connection_id = run.connection_id
        issue.last_seen_run = run
        issue.problem_key = problem_key(issue.reason)
        # One row per problem: a record sent twice in a page gives its problems once.
        unique[(issue.table_id, issue.record_id, issue.kind, issue.field_id, issue.problem_key)] = (
            issue
        )
    upsert_rows(
        SyncIssue, list(unique.values()), unique_fields=NATURAL_KEY, update_fields=REFRESHED
    )
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), CHUNK):
        # Not found again by this run: resolved.
        SyncIssue.objects.for_org(organization).filter(
            connection_id=run.connection_id,
            table_id=table_id,
            record_id__in=ids[start : start + CHUNK],
            kind__in=kinds,
        ).exclude(last_seen_run=run).delete()


def issues_forget(
    organization: Organization, connection: Connection, table_id: str, record_ids: Iterable[str]
) -> None:
    """Remove the problems of records gone from the base (their rows are archived)."""
    ids = sorted(set(record_ids))
    for start in range(0, len(ids), CHUNK):
        SyncIssue.objects.for_org(organization).filter(
            connection=connection, table_id=table_id, record_id__in=ids[start : start + CHUNK]
        ).delete()


def current_issues_q(runs: Iterable[SyncRun]) -> Q:
    """The problems standing when each of `runs` ended: its connection's problems first found
    by it or an earlier run (later runs remove the ones they no longer find)."""
    q = Q(pk__in=[])
    for run in runs:
        q |= Q(connection_id=run.connection_id, run_id__lte=run.pk)
    return q
