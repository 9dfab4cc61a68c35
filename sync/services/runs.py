"""Writes for sync runs: requesting one, executing it to the end, recording how it ended.

A run is requested (queued) by a view, a schedule or a command, then executed by a worker:
it reads the schema, checks the mapping, pulls the mapped tables linked-first while the
Reconciler writes each page, resolves links, archives (complete full pulls only), and ends as
succeeded or failed with a message that says what to fix.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from missionos import events
from orgs import audit
from orgs.services import activity_record
from sync.airtable.client import AirtableClient, OffsetExpired, RetryPolicy, SyncError, read_ahead
from sync.airtable.ratelimit import RateLimiter
from sync.crypto import TokenUnreadable
from sync.finished import run_ended
from sync.mapping.catalogue import ENTITIES
from sync.mapping.check import check_mapping
from sync.mapping.document import MappingError
from sync.models import Connection, RunKind, RunStatus, SyncRun
from sync.reconcile.adapters import ADAPTERS
from sync.reconcile.field_pairs import judge_all
from sync.reconcile.reconciler import Reconciler
from sync.reconcile.writer import PageWriter
from sync.schema import TableSchema, schema_from_api
from sync.selectors import connection_mapping
from sync.services.auditing import audit_run_pulled
from sync.services.connections import connection_client, connection_store_schema
from sync.services.locks import (
    SyncBusy,
    connection_lock,
    lock_is_held,
    organization_unique_lock,
)

logger = logging.getLogger(__name__)

# Incremental runs look back a little before the previous run started: clocks differ and a
# record edited while that run was reading its table must not fall between two runs.
INCREMENTAL_OVERLAP = datetime.timedelta(minutes=5)
OFFSET_RESTARTS = 3
# How often a run saves its progress (what the connection page's bar shows) while pulling.
PROGRESS_SAVE_SECONDS = 0.2


def run_request(*, connection: Connection, kind: RunKind, requested_by=None) -> SyncRun:
    """Queue a run, refusing when one is already queued or running for this connection."""
    with transaction.atomic():
        Connection.objects.for_org(connection.organization_id).select_for_update().get(
            pk=connection.pk
        )
        _fail_stale_runs(connection)
        # Change-feed batches run beside full and incremental runs (their own lock, feed.py).
        active = (
            connection.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])
            .exclude(kind=RunKind.CHANGES)
            .first()
        )
        if active is not None:
            raise SyncBusy(
                f"A {active.get_kind_display().lower()} sync of {connection.name} is already "
                f"{active.status}; it must finish before another starts."
            )
        run = SyncRun.objects.create(
            organization_id=connection.organization_id,
            connection=connection,
            kind=kind,
            requested_by=requested_by,
        )
        if requested_by is not None:  # by hand (a schedule's runs are the sync's own)
            audit.record(
                organization_id=run.organization_id,
                action="started sync",
                kind="sync_run",
                target_id=run.pk,
                label=f"{run.get_kind_display()} sync of {connection.name}",
                actor=requested_by,
            )
        events.publish(connection.organization_id, events.SYNC)
        return run


def _fail_stale_runs(connection: Connection) -> None:
    """A run whose worker died (no progress for a while, lock gone) is closed as failed."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    stale = connection.runs.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff).exclude(
        kind=RunKind.CHANGES  # closed by the change feed under its own lock (feed.py)
    )
    for run in stale:
        if not lock_is_held(connection.pk):
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.error = "The worker running this sync stopped; the next run picks up from here."
            run.save(update_fields=["status", "finished_at", "error"])


# One sync of a connection at a time, across every worker: a Redis lock when there is Redis,


def run_execute(
    *,
    run_id: int,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run a queued sync to the end. Failures end the run as failed with a message that says
    what to fix; nothing is archived unless a full pull completed."""
    # A worker knows only the run's id: the run says whose it is.
    runs = SyncRun.objects.unscoped().select_related("connection__organization")
    run = runs.get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run  # already finished (e.g. a redelivered task)
    connection = run.connection
    try:
        with connection_lock(connection.pk) as extend_lock:
            _execute(run, connection, policy, limiter, on_progress, extend_lock)
    except SyncBusy:
        # Another worker holds the connection: it is running this very run (a task delivered
        # twice) or will close it; either way this copy must not touch it.
        logger.info("run %s is already being executed elsewhere", run.pk)
    return run


def _execute(run, connection, policy, limiter, on_progress, extend_lock) -> None:
    now = timezone.now()
    run.status = RunStatus.RUNNING
    run.started_at = run.heartbeat_at = now
    if run.kind == RunKind.INCREMENTAL:
        previous = (
            connection.runs.filter(status=RunStatus.SUCCEEDED)
            .exclude(pk=run.pk)
            # A change-feed batch fetched only the records it was told of: not a start point.
            .exclude(kind=RunKind.CHANGES)
            .order_by("-started_at")
            .first()
        )
        if previous is None:
            run.kind = RunKind.FULL  # nothing to be incremental from
        else:
            run.modified_since = previous.started_at - INCREMENTAL_OVERLAP
    run.save()

    def progress() -> None:
        run.requests += 1

    try:
        client = connection_client(connection, policy=policy, limiter=limiter, on_request=progress)
        schema_payload = client.schema()
        connection_store_schema(connection=connection, schema_payload=schema_payload)
        schema = schema_from_api(schema_payload)
        mapping = connection_mapping(connection=connection)
        if not mapping.entities:
            raise SyncError("Nothing is mapped yet: choose the base's tables on the mapping page.")
        problems = check_mapping(mapping, schema)
        if problems:
            raise SyncError("The mapping no longer matches the base: " + " ".join(problems))
        # Pages are written in a thread while the next ones are converted (Postgres).
        reconciler = Reconciler(
            run=run,
            connection=connection,
            schema=schema,
            mapping=mapping,
            writer=PageWriter.threaded(),
        )
        entities = [entity for entity in ENTITIES if entity in mapping.entities]
        tables = [schema.table(mapping.entities[entity].table_id) for entity in entities]
        run.tables_total = len(entities)
        try:
            _pull(
                run,
                client,
                reconciler,
                list(zip(entities, tables, strict=True)),
                on_progress,
                extend_lock,
            )
        except BaseException:
            reconciler.writer.close(quiet=True)  # this error is the run's
            raise
        reconciler.writer.close()  # a page's failed write fails the run here
        reconciler.resolve_links()
        if run.kind == RunKind.FULL:
            reconciler.archive_unseen()
            pairs = judge_all(reconciler.pair_samples, schema, mapping, connection.organization)
            run.field_fill = {
                table_id: {
                    "records": census["records"],
                    "filled": dict(census["filled"]),
                    "errors": census["errors"],
                    "pairs": pairs.get(table_id, []),
                }
                for table_id, census in reconciler.field_fill.items()
            }  # saved with the run's end
        _take_counts(run, reconciler)  # saved with the run's end
        _finish(run, RunStatus.SUCCEEDED)
    except (SyncError, MappingError, TokenUnreadable) as error:
        _finish(run, RunStatus.FAILED, str(error))
    except KeyboardInterrupt:
        # A foreground run stopped with Ctrl-C: close it, or the connection stays busy.
        _finish(run, RunStatus.FAILED, "Interrupted before it finished; nothing was archived.")
        raise
    except Exception as error:  # a bug: fail the run visibly, keep the traceback in the logs
        logger.exception("sync run %s crashed", run.pk)
        _finish(run, RunStatus.FAILED, f"Internal error: {type(error).__name__}: {error}")
        raise


def _table_pages(client: AirtableClient, table: TableSchema, since) -> Iterator[list[dict]]:
    """The table's pages; listed again from the start if Airtable drops the listing midway.
    Records already written are unchanged the second time, so nothing is duplicated."""
    for attempt in range(OFFSET_RESTARTS + 1):
        try:
            yield from client.pages(table.id, modified_since=since)
            return
        except OffsetExpired:
            if attempt == OFFSET_RESTARTS:
                raise SyncError(
                    f"Airtable kept dropping the listing of {table.name}; try again later."
                ) from None
            logger.info("offset expired on %s; listing it again", table.name)


def _pull(run, client, reconciler, tables, on_progress, extend_lock) -> None:
    """Pull the tables in order (linked tables first), writing each page as it comes while
    the next pages, of this table or the next, are fetched."""

    def pages() -> Iterator[tuple[str, TableSchema, list[dict]]]:
        for entity, table in tables:
            for records in _table_pages(client, table, run.modified_since):
                yield entity, table, records
            yield entity, table, None  # the table is done

    last_saved = 0.0
    with ExitStack() as unique_lock:
        keep_unique = None  # set while this run holds the organization's unique lock
        for entity, table, records in read_ahead(pages()):
            run.current_table = table.name
            if records is None:
                reconciler.table_done(entity)
                if keep_unique is not None:  # its people are written: the others may go
                    unique_lock.close()
                    keep_unique = None
                run.tables_done += 1
                # Saved like a page's progress: a table that took no time (an incremental
                # run's, mostly) is not worth its own save; the run's end saves the rest.
                if time.monotonic() - last_saved >= PROGRESS_SAVE_SECONDS:
                    last_saved = time.monotonic()
                    _save_progress(run, reconciler)
                if on_progress:
                    on_progress(run)
                continue
            if keep_unique is None and ADAPTERS[entity].unique_attributes:
                # The organization's unique values (a person's email) are shared with its
                # other connections: one run writes them at a time (organization_unique_lock).
                keep_unique = unique_lock.enter_context(
                    organization_unique_lock(run.organization_id)
                )
            reconciler.apply_page(entity, table, records)
            # Real Airtable sends a page every 0.2 s at most; a fast one is not worth a save
            # per page. The end of every table is saved too.
            if time.monotonic() - last_saved >= PROGRESS_SAVE_SECONDS:
                last_saved = time.monotonic()
                _save_progress(run, reconciler)
                extend_lock(settings.SYNC_LOCK_TIMEOUT_SECONDS, replace_ttl=True)
                if keep_unique is not None:
                    keep_unique()
                if on_progress:
                    on_progress(run)


def _take_counts(run: SyncRun, reconciler: Reconciler) -> None:
    counts = reconciler.counts
    run.pulled = counts.pulled
    run.created, run.updated, run.unchanged = counts.created, counts.updated, counts.unchanged
    run.archived, run.unarchived, run.issue_count = (
        counts.archived,
        counts.unarchived,
        counts.issues,
    )
    run.heartbeat_at = timezone.now()


def _save_progress(run: SyncRun, reconciler: Reconciler) -> None:
    _take_counts(run, reconciler)
    run.save(
        update_fields=[
            "pulled",
            "requests",
            "created",
            "updated",
            "unchanged",
            "archived",
            "unarchived",
            "issue_count",
            "tables_total",
            "tables_done",
            "current_table",
            "heartbeat_at",
        ]
    )
    events.publish(run.organization_id, events.SYNC)


def _finish(run: SyncRun, status: RunStatus, error: str = "") -> None:
    run.status = status
    run.error = error
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save()
        changed = {"created": run.created, "updated": run.updated, "archived": run.archived}
        if status == RunStatus.SUCCEEDED and any(changed.values()):
            detail = ", ".join(f"{count} {what}" for what, count in changed.items() if count)
            activity_record(
                record=run,
                actor=run.requested_by,
                verb="synced",
                detail=detail,
                subject=run.connection.name,
            )
        audit_run_pulled(run)
    events.publish(run.organization_id, events.SYNC)
    events.publish(run.organization_id, events.PLAN)
    run_ended(run)
