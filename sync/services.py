"""Writes for the Airtable sync: connecting a base, its mapping, requesting and running syncs.

Views, Celery tasks and management commands all call these.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from missionos import events
from missionos.redis_clients import shared_redis
from orgs.models import Organization
from orgs.services import activity_record
from sync.airtable.client import (
    AirtableClient,
    OffsetExpired,
    RetryPolicy,
    SyncError,
    read_ahead,
)
from sync.airtable.ratelimit import RateLimiter, shared_rate_limiter
from sync.crypto import TokenUnreadable, decrypt_token, encrypt_token
from sync.mapping.catalogue import ENTITIES
from sync.mapping.check import check_mapping
from sync.mapping.document import Mapping, MappingError
from sync.mapping.propose import propose_mapping
from sync.models import Connection, RunKind, RunStatus, SyncRun
from sync.reconcile.reconciler import Reconciler
from sync.schema import TableSchema, schema_from_api
from sync.selectors import connection_mapping

logger = logging.getLogger(__name__)

# Incremental runs look back a little before the previous run started: clocks differ and a
# record edited while that run was reading its table must not fall between two runs.
INCREMENTAL_OVERLAP = datetime.timedelta(minutes=5)
OFFSET_RESTARTS = 3
# How often a run saves its progress (what the connection page's bar shows) while pulling.
PROGRESS_SAVE_SECONDS = 0.2
# Under Airtable's 5/s, evenly spaced (see sync.airtable.ratelimit).
REQUESTS_PER_SECOND = settings.AIRTABLE_REQUESTS_PER_SECOND


class SyncBusy(Exception):
    """Another sync of this connection is queued or running."""


def _client(connection: Connection, **kwargs) -> AirtableClient:
    return AirtableClient(
        api_url=settings.AIRTABLE_API_URL,
        token=decrypt_token(connection.token_encrypted),
        base_id=connection.base_id,
        limiter=kwargs.pop("limiter", None) or shared_rate_limiter(REQUESTS_PER_SECOND),
        **kwargs,
    )


# -- connections and mapping --------------------------------------------------------------


def connection_create(
    *, organization: Organization, name: str, base_id: str, token: str
) -> Connection:
    """Save a connection with its token encrypted, read the base's schema and store the
    proposed mapping. Raises ValidationError (bad input) or SyncError (Airtable refused)."""
    token = token.strip()
    if len(token) < 8:
        raise ValidationError({"token": "That does not look like an Airtable token."})
    connection = Connection(
        organization=organization,
        name=" ".join(name.split()) or base_id,
        base_id=base_id.strip(),
        token_encrypted=encrypt_token(token),
        token_last4=token[-4:],
    )
    connection.full_clean()
    schema = _read_schema(connection)
    with transaction.atomic():
        connection.save()
        connection_store_schema(connection=connection, schema_payload=schema)
        connection.mapping = propose_mapping(schema_from_api(schema)).to_dict()
        connection.save(update_fields=["mapping"])
        connection_schedule(connection=connection)
    return connection


def connection_set_token(*, connection: Connection, token: str) -> Connection:
    """Replace the token once Airtable has accepted it: the base's schema is read with the new
    token (and stored) first, so a mistyped token never replaces a working one. Raises
    ValidationError (not a token) or SyncError (Airtable refused it, with what to fix)."""
    token = token.strip()
    if len(token) < 8:
        raise ValidationError({"token": "That does not look like an Airtable token."})
    candidate = Connection(base_id=connection.base_id, token_encrypted=encrypt_token(token))
    schema = _read_schema(candidate)
    connection.token_encrypted = candidate.token_encrypted
    connection.token_last4 = token[-4:]
    with transaction.atomic():
        connection.save(update_fields=["token_encrypted", "token_last4"])
        connection_store_schema(connection=connection, schema_payload=schema)
    return connection


def _read_schema(connection: Connection) -> dict:
    return _client(connection).schema()


def connection_store_schema(*, connection: Connection, schema_payload: dict) -> None:
    connection.schema = schema_payload
    connection.schema_read_at = timezone.now()
    connection.save(update_fields=["schema", "schema_read_at"])


def connection_refresh_schema(*, connection: Connection) -> list[str]:
    """Read the schema again; return the mapping's problems against it (empty when fine)."""
    connection_store_schema(connection=connection, schema_payload=_read_schema(connection))
    mapping = connection_mapping(connection=connection)
    return check_mapping(mapping, schema_from_api(connection.schema))


def connection_set_mapping(*, connection: Connection, mapping_data: dict) -> Mapping:
    """Replace the mapping (from the mapping page or an imported JSON file) after checking it
    against the stored schema. Raises ValidationError listing every problem."""
    try:
        mapping = Mapping.from_dict(mapping_data)
    except MappingError as error:
        raise ValidationError(error.errors or [str(error)]) from error
    problems = check_mapping(mapping, schema_from_api(connection.schema))
    if problems:
        raise ValidationError(problems)
    connection.mapping = mapping.to_dict()
    connection.save(update_fields=["mapping"])
    return mapping


# -- runs ---------------------------------------------------------------------------------


def run_request(*, connection: Connection, kind: RunKind, requested_by=None) -> SyncRun:
    """Queue a run, refusing when one is already queued or running for this connection."""
    with transaction.atomic():
        Connection.objects.select_for_update().get(pk=connection.pk)
        _fail_stale_runs(connection)
        active = connection.runs.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
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
        events.publish(connection.organization_id, events.SYNC)
        return run


def _fail_stale_runs(connection: Connection) -> None:
    """A run whose worker died (no progress for a while, lock gone) is closed as failed."""
    cutoff = timezone.now() - datetime.timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    for run in connection.runs.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff):
        if not _lock_is_held(connection.pk):
            run.status = RunStatus.FAILED
            run.finished_at = timezone.now()
            run.error = "The worker running this sync stopped; the next run picks up from here."
            run.save(update_fields=["status", "finished_at", "error"])


# One sync of a connection at a time, across every worker: a Redis lock when there is Redis,
# else a lock in this process (the zero-setup mode runs a single process).
_local_locks: dict[int, threading.Lock] = {}


def _lock_is_held(connection_id: int) -> bool:
    client = shared_redis()
    if client is not None:
        return bool(client.exists(f"missionos:sync-lock:{connection_id}"))
    lock = _local_locks.get(connection_id)
    return bool(lock and lock.locked())


@contextmanager
def _connection_lock(connection_id: int):
    client = shared_redis()
    if client is not None:
        lock = client.lock(
            f"missionos:sync-lock:{connection_id}", timeout=settings.SYNC_LOCK_TIMEOUT_SECONDS
        )
        if not lock.acquire(blocking=False):
            raise SyncBusy("Another worker is syncing this connection right now.")
        try:
            yield lock.extend
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("sync lock of connection %s had expired", connection_id)
        return
    lock = _local_locks.setdefault(connection_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncBusy("Another sync of this connection is running in this process.")
    try:
        yield lambda _seconds, replace_ttl=True: None
    finally:
        lock.release()


def run_execute(
    *,
    run_id: int,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    on_progress: Callable[[SyncRun], None] | None = None,
) -> SyncRun:
    """Run a queued sync to the end. Failures end the run as failed with a message that says
    what to fix; nothing is archived unless a full pull completed."""
    run = SyncRun.objects.select_related("connection__organization").get(pk=run_id)
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run  # already finished (e.g. a redelivered task)
    connection = run.connection
    try:
        with _connection_lock(connection.pk) as extend_lock:
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
        client = _client(connection, policy=policy, limiter=limiter, on_request=progress)
        schema_payload = client.schema()
        connection_store_schema(connection=connection, schema_payload=schema_payload)
        schema = schema_from_api(schema_payload)
        mapping = connection_mapping(connection=connection)
        if not mapping.entities:
            raise SyncError("Nothing is mapped yet: choose the base's tables on the mapping page.")
        problems = check_mapping(mapping, schema)
        if problems:
            raise SyncError("The mapping no longer matches the base: " + " ".join(problems))
        reconciler = Reconciler(run=run, connection=connection, schema=schema, mapping=mapping)
        entities = [entity for entity in ENTITIES if entity in mapping.entities]
        tables = [schema.table(mapping.entities[entity].table_id) for entity in entities]
        run.tables_total = len(entities)
        _pull(
            run,
            client,
            reconciler,
            list(zip(entities, tables, strict=True)),
            on_progress,
            extend_lock,
        )
        reconciler.resolve_links()
        if run.kind == RunKind.FULL:
            reconciler.archive_unseen()
        _save_progress(run, reconciler)
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
    for entity, table, records in read_ahead(pages()):
        run.current_table = table.name
        if records is None:
            reconciler.table_done(entity)
            run.tables_done += 1
            _save_progress(run, reconciler)
            if on_progress:
                on_progress(run)
            continue
        reconciler.apply_page(entity, table, records)
        # Real Airtable sends a page every 0.2 s at most; a fast one is not worth a save per
        # page. The end of every table is saved too.
        if time.monotonic() - last_saved >= PROGRESS_SAVE_SECONDS:
            last_saved = time.monotonic()
            _save_progress(run, reconciler)
            extend_lock(settings.SYNC_LOCK_TIMEOUT_SECONDS, replace_ttl=True)
            if on_progress:
                on_progress(run)


def _save_progress(run: SyncRun, reconciler: Reconciler) -> None:
    counts = reconciler.counts
    run.pulled = counts.pulled
    run.created, run.updated, run.unchanged = counts.created, counts.updated, counts.unchanged
    run.archived, run.unarchived, run.issue_count = (
        counts.archived,
        counts.unarchived,
        counts.issues,
    )
    run.heartbeat_at = timezone.now()
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
    events.publish(run.organization_id, events.SYNC)
    events.publish(run.organization_id, events.PLAN)


# -- schedules ----------------------------------------------------------------------------

DEFAULT_INCREMENTAL_MINUTES = 60
DEFAULT_FULL_HOUR = 2  # 02:00 UTC, nightly


def _schedule_name(connection: Connection, kind: RunKind) -> str:
    return f"sync:{connection.pk}:{kind}"


def connection_schedule(
    *,
    connection: Connection,
    incremental_every_minutes: int | None = DEFAULT_INCREMENTAL_MINUTES,
    full_at_hour: int | None = DEFAULT_FULL_HOUR,
) -> None:
    """Create or change the connection's two periodic syncs (None switches one off)."""
    if incremental_every_minutes is not None and not 5 <= incremental_every_minutes <= 1440:
        raise ValidationError(
            {"incremental_every_minutes": "Choose between 5 minutes and 1,440 (a day)."}
        )
    if full_at_hour is not None and not 0 <= full_at_hour <= 23:
        raise ValidationError({"full_at_hour": "Choose an hour from 0 to 23 (UTC)."})
    with transaction.atomic():
        for kind, enabled in (
            (RunKind.INCREMENTAL, incremental_every_minutes is not None),
            (RunKind.FULL, full_at_hour is not None),
        ):
            defaults = {
                "task": "sync.scheduled_sync",
                "kwargs": f'{{"connection_id": {connection.pk}, "kind": "{kind}"}}',
                "enabled": enabled,
                "interval": None,
                "crontab": None,
            }
            if kind == RunKind.INCREMENTAL and enabled:
                defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                    every=incremental_every_minutes, period=IntervalSchedule.MINUTES
                )
            elif kind == RunKind.FULL and enabled:
                defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
                    minute="0",
                    hour=str(full_at_hour),
                    day_of_week="*",
                    day_of_month="*",
                    month_of_year="*",
                    timezone="UTC",
                )
            existing = PeriodicTask.objects.filter(name=_schedule_name(connection, kind)).first()
            if not enabled and existing is None:
                continue
            if not enabled:
                existing.enabled = False
                existing.save(update_fields=["enabled"])
                continue
            PeriodicTask.objects.update_or_create(
                name=_schedule_name(connection, kind), defaults=defaults
            )


def connection_schedule_state(*, connection: Connection) -> dict:
    """The connection's schedules as the connection page's form shows them."""
    tasks = {
        task.name: task
        for task in PeriodicTask.objects.select_related("interval", "crontab").filter(
            name__startswith=f"sync:{connection.pk}:"
        )
    }
    incremental = tasks.get(_schedule_name(connection, RunKind.INCREMENTAL))
    full = tasks.get(_schedule_name(connection, RunKind.FULL))
    return {
        "incremental_every_minutes": incremental.interval.every
        if incremental and incremental.enabled and incremental.interval
        else None,
        "full_at_hour": int(full.crontab.hour) if full and full.enabled and full.crontab else None,
    }
