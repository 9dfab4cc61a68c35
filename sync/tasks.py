"""Celery tasks: take ids, call one service. Late acknowledgement (settings) means a task whose
worker dies is delivered again; the run it left behind is closed by the next request."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from sync import services
from sync.models import Connection, RunKind

logger = logging.getLogger(__name__)


@shared_task(name="sync.execute_run", acks_late=True)
def execute_run(run_id: int) -> None:
    services.run_execute(run_id=run_id)


@shared_task(name="sync.scheduled_sync", acks_late=True)
def scheduled_sync(connection_id: int, kind: str) -> None:
    """What django-celery-beat calls on each connection's schedule."""
    # Beat knows only the connection's id: the connection says whose it is.
    connection = Connection.objects.unscoped().filter(pk=connection_id).first()
    if connection is None:
        logger.warning("scheduled sync of a deleted connection %s", connection_id)
        return
    try:
        run = services.run_request(connection=connection, kind=RunKind(kind))
    except services.SyncBusy as busy:
        logger.info("scheduled %s sync skipped: %s", kind, busy)
        return
    services.run_execute(run_id=run.pk)


@shared_task(name="sync.push_connection", acks_late=True)
def push_connection(connection_id: int) -> None:
    """Write a connection's queued MissionOS changes to Airtable."""
    # The outbox names the connection; the connection says whose it is.
    connection = Connection.objects.unscoped().filter(pk=connection_id).first()
    if connection is not None:
        services.push_connection(connection=connection)


@shared_task(name="sync.push_due")
def push_due() -> None:
    """Beat: drain every connection with writes due (retries after back-off, and entries
    whose first push request was lost with a worker)."""
    for connection_id in services.connections_with_due_writes():
        push_connection.delay(connection_id)


# -- the change feed (sync.services.feed) -------------------------------------------------


@shared_task(name="sync.feed_poll", acks_late=True)
def feed_poll(connection_id: int) -> None:
    """Apply what the connection's webhook collected (from the beat, or a ping)."""
    outcome = services.feed_poll(connection_id=connection_id)
    if outcome.gap_run_id is not None:
        execute_run.delay_on_commit(outcome.gap_run_id)


@shared_task(name="sync.feed_poll_all")
def feed_poll_all() -> None:
    """The beat's tick (AIRTABLE_FEED_POLL_SECONDS): one poll task per active feed. A poll
    not started by the next tick is dropped: that tick queues its own."""
    for connection_id in services.feed_poll_due():
        feed_poll.apply_async((connection_id,), expires=settings.AIRTABLE_FEED_POLL_SECONDS)


@shared_task(name="sync.feed_check", acks_late=True)
def feed_check(connection_id: int) -> None:
    """Refresh the connection's webhook, or replace it if it expired or was disabled."""
    # The beat knows only the connection's id: the connection says whose it is.
    connection = Connection.objects.unscoped().filter(pk=connection_id).first()
    if connection is None:
        return
    outcome = services.feed_ensure(connection=connection)
    if outcome.gap_run_id is not None:
        execute_run.delay_on_commit(outcome.gap_run_id)


@shared_task(name="sync.feed_check_all")
def feed_check_all() -> None:
    """Daily: every feed is checked (hooks expire after 7 days unless refreshed)."""
    for connection_id in services.feed_check_due():
        feed_check.delay(connection_id)
