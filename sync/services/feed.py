"""Writes for the change feed: Airtable's webhooks, so an edit in Airtable reaches MissionOS
within seconds instead of with the next scheduled run.

- `feed_ensure`: one webhook per base (on connect, on a mapping or token change, and daily):
  created when missing, refreshed when it expires within two days, recreated when it expired
  or was disabled (then an incremental run covers the gap). A token without `webhook:manage`
  leaves the feed "no permission" and the scheduled runs carry on alone.
- `feed_poll`: read the hook's new payloads (one request when nothing changed), fetch the
  records they name by id, reconcile them as the pull does (a `SyncRun` of kind "changes"),
  archive destroyed records, follow renamed fields, and save the cursor only once the batch is
  applied: at least once, and applying a batch twice changes nothing (unchanged digests).
- `feed_notification`: a ping from Airtable, checked against the hook's MAC secret.

Polls of one connection take the feed lock (sync.services.locks.feed_lock), not the run lock:
a batch of live changes neither waits for nor blocks a full or incremental run.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from missionos import events
from sync.airtable.client import AirtableRefused, RetryPolicy, SyncError
from sync.airtable.ratelimit import RateLimiter
from sync.airtable.webhooks import (
    FeedChanges,
    WebhookClient,
    merge_payloads,
    notification_webhook_id,
    verify_notification,
)
from sync.crypto import TokenUnreadable, decrypt_token, encrypt_token
from sync.finished import run_ended
from sync.mapping.catalogue import ENTITIES
from sync.mapping.check import check_mapping
from sync.mapping.document import Mapping, MappingError
from sync.models import ChangeFeed, Connection, FeedState, RunKind, RunStatus, SyncRun
from sync.reconcile.reconciler import Reconciler
from sync.schema import schema_from_api
from sync.selectors import connection_mapping
from sync.services.auditing import audit_run_pulled
from sync.services.connections import connection_client, connection_store_schema
from sync.services.locks import SyncBusy, feed_lock, feed_poll_again
from sync.services.runs import run_request

logger = logging.getLogger(__name__)

# Refreshed when it would expire within this long (a daily check leaves a day to spare).
REFRESH_WITHIN = datetime.timedelta(days=2)
# Payload pages read before the batch so far is applied (and the cursor saved): a burst of
# thousands of edits is applied in parts rather than all held in memory.
PAGES_PER_BATCH = 20
# A poll that finds a ping arriving meanwhile polls again, this many times at most.
POLL_AGAIN_LIMIT = 5


class MappingDrift(SyncError):
    """The base changed under the mapping: a batch stops as a pull would."""


NO_PERMISSION = (
    "The token cannot manage webhooks (it lacks the webhook:manage scope), so edits in Airtable "
    "arrive with the scheduled runs only. Add the scope to the token, or paste a new one, to "
    "see them within seconds."
)
NOTHING_MAPPED = "Nothing is mapped yet: the change feed starts once a table is mapped."


@dataclass
class FeedOutcome:
    """What one call did, for tasks (which queue the gap run), commands and benchmarks."""

    feed: ChangeFeed | None = None
    requests: int = 0
    payloads: int = 0
    batches: list[int] = field(default_factory=list)  # the SyncRuns of applied batches
    gap_run_id: int | None = None  # an incremental run requested to cover a gap
    skipped: str = ""


def _notification_url() -> str:
    """Where Airtable pings this deployment; "" when it has no public URL (then: polling)."""
    if not settings.AIRTABLE_WEBHOOK_URL:
        return ""
    return settings.AIRTABLE_WEBHOOK_URL + reverse("sync_feed_notify")


def _feed_of(connection: Connection) -> ChangeFeed:
    feed, _ = ChangeFeed.objects.for_org(connection.organization_id).get_or_create(
        connection=connection, defaults={"organization_id": connection.organization_id}
    )
    return feed


def _set_state(feed: ChangeFeed, state: FeedState, message: str = "") -> None:
    feed.state, feed.message = state, message
    feed.save(update_fields=["state", "message"])


# -- the webhook itself --------------------------------------------------------------------


def feed_ensure(
    *,
    connection: Connection,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    now: datetime.datetime | None = None,
) -> FeedOutcome:
    """Make sure the connection has a working webhook: one request (the base's hooks) when it
    has, a few more to refresh or replace it. Never raises for Airtable's answers: the feed's
    state and message say what happened, and the scheduled runs go on whatever it is."""
    outcome = FeedOutcome(feed=_feed_of(connection))
    feed = outcome.feed
    try:
        mapping = connection_mapping(connection=connection)
    except MappingError as error:
        _set_state(feed, FeedState.FAILED, str(error))
        return outcome
    webhooks = _webhooks(connection, policy, limiter, outcome)
    try:
        if not mapping.entities:
            _drop_hook(feed, webhooks)
            _set_state(feed, FeedState.OFF, NOTHING_MAPPED)
            return outcome
        _ensure_hook(connection, feed, webhooks, now or timezone.now(), outcome)
    except AirtableRefused as error:
        _refused(feed, error)
    except (SyncError, TokenUnreadable) as error:
        _set_state(feed, FeedState.FAILED, f"The change feed could not be set up: {error}")
    return outcome


def feed_ensure_after_commit(*, connection: Connection) -> None:
    """`feed_ensure` once the current transaction commits (connect, mapping, token). Whatever
    goes wrong there must not undo or fail the change that called it: the connection page
    states the feed's trouble instead."""

    def ensure() -> None:
        try:
            outcome = feed_ensure(connection=connection)
        except Exception:
            logger.exception("change feed of connection %s could not be ensured", connection.pk)
            feed = ChangeFeed.objects.for_org(connection.organization_id).filter(
                connection=connection
            )
            feed.update(
                state=FeedState.FAILED,
                message="The change feed could not be set up (internal error); the daily check "
                "tries again.",
            )
            return
        if outcome.gap_run_id is not None:
            _queue_run(outcome.gap_run_id)

    transaction.on_commit(ensure)


def _queue_run(run_id: int) -> None:
    from sync.tasks import execute_run  # tasks import services: imported when needed

    execute_run.delay_on_commit(run_id)


def _webhooks(connection, policy, limiter, outcome: FeedOutcome) -> WebhookClient:
    def count() -> None:
        outcome.requests += 1

    return WebhookClient(
        connection_client(connection, policy=policy, limiter=limiter, on_request=count)
    )


def _ensure_hook(connection, feed, webhooks: WebhookClient, now, outcome: FeedOutcome) -> None:
    wanted_url = _notification_url()
    hook = None
    if feed.webhook_id:
        hook = next((h for h in webhooks.hooks() if h.id == feed.webhook_id), None)
    if (
        hook is not None
        and hook.is_hook_enabled
        and (hook.notification_url or "") == wanted_url
        and feed.mac_secret_encrypted
    ):
        expiry = hook.expiration_time
        if expiry is None or expiry - now <= REFRESH_WITHIN:
            expiry = webhooks.refresh(hook.id) or expiry
            feed.refreshed_at = now
        feed.expires_at = expiry
        feed.state, feed.message = FeedState.ACTIVE, ""
        feed.save(update_fields=["expires_at", "refreshed_at", "state", "message"])
        return
    _replace_hook(connection, feed, webhooks, now, outcome)


@sensitive_variables("created")  # it holds the new hook's MAC secret
def _replace_hook(connection, feed, webhooks: WebhookClient, now, outcome: FeedOutcome) -> None:
    """A new hook in place of the feed's old one, if any (expired, disabled, gone, or pinging
    elsewhere). What changed while the old one heard nothing is covered by an incremental run;
    a feed that never had a hook needs none (the first sync reads everything)."""
    had_hook = bool(feed.webhook_id)
    old_id = feed.webhook_id
    wanted_url = _notification_url()
    created = webhooks.create(wanted_url or None)
    feed.webhook_id = created.id
    feed.mac_secret_encrypted = encrypt_token(created.mac_secret_base64)
    feed.notification_url = wanted_url
    feed.cursor = 1
    feed.expires_at = created.expiration_time
    feed.created_at = feed.refreshed_at = now
    feed.state, feed.message = FeedState.ACTIVE, ""
    feed.save()
    # The new hook can carry the old one's id where ids repeat (a restarted fake Airtable,
    # seeded as before, whose base forgot the old hook): deleting "the old one" would then
    # delete the new one.
    if old_id and old_id != created.id:
        # Already gone, or it expires by itself (a base holds 10 hooks).
        with contextlib.suppress(SyncError):
            webhooks.delete(old_id)
    if had_hook:
        outcome.gap_run_id = _request_gap_run(connection)


def _drop_hook(feed: ChangeFeed, webhooks: WebhookClient) -> None:
    if feed.webhook_id:
        with contextlib.suppress(SyncError):
            webhooks.delete(feed.webhook_id)
    feed.webhook_id = feed.mac_secret_encrypted = ""
    feed.cursor = 1
    feed.expires_at = None
    feed.save(update_fields=["webhook_id", "mac_secret_encrypted", "cursor", "expires_at"])


def _request_gap_run(connection: Connection) -> int | None:
    try:
        return run_request(connection=connection, kind=RunKind.INCREMENTAL).pk
    except SyncBusy:
        return None  # a run is queued or running already; the hourly one follows it


def _refused(feed: ChangeFeed, error: AirtableRefused) -> None:
    if error.status == 403:
        _set_state(feed, FeedState.NO_PERMISSION, NO_PERMISSION)
    else:
        _set_state(feed, FeedState.FAILED, f"The change feed stopped: {error}")


# -- polling -------------------------------------------------------------------------------


def feed_poll(
    *,
    connection_id: int,
    policy: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
    now: Callable[[], datetime.datetime] | None = None,
) -> FeedOutcome:
    """Apply whatever the connection's hook collected since the cursor. A poll already under
    way for the connection is told to look once more, and this one returns at once."""
    # A worker (beat, a ping) knows only the connection's id: the connection says whose it is.
    connection = (
        Connection.objects.unscoped()
        .select_related("organization")
        .filter(pk=connection_id)
        .first()
    )
    outcome = FeedOutcome()
    if connection is None:
        outcome.skipped = "no such connection"
        return outcome
    clock = now or timezone.now
    with feed_lock(connection.pk) as (acquired, extend):
        if not acquired:
            outcome.skipped = "another poll is under way"
            return outcome
        _close_stale_batches(connection)
        for _ in range(POLL_AGAIN_LIMIT):
            _poll_once(connection, policy, limiter, clock(), outcome, extend)
            if not feed_poll_again(connection.pk):
                break
    return outcome


def _close_stale_batches(connection: Connection) -> None:
    """A batch left running holds no lock any more (this poll has it): its worker died. Its
    payloads were not marked applied, so this poll applies them again."""
    SyncRun.objects.for_org(connection.organization_id).filter(
        connection=connection, kind=RunKind.CHANGES, status=RunStatus.RUNNING
    ).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error="The worker applying these changes stopped; they were applied again.",
    )


def _poll_once(connection, policy, limiter, now, outcome: FeedOutcome, extend) -> None:
    feed = ChangeFeed.objects.for_org(connection.organization_id).filter(connection=connection)
    feed = feed.first()
    outcome.feed = feed
    if feed is None or feed.state != FeedState.ACTIVE or not feed.webhook_id:
        outcome.skipped = "the feed is not active"
        return
    webhooks = _webhooks(connection, policy, limiter, outcome)
    try:
        if feed.expires_at is not None and feed.expires_at <= now:
            # Expired: it heard nothing since. A new one, and a run for the gap.
            _replace_hook(connection, feed, webhooks, now, outcome)
            return
        while True:
            changes, cursor, more = _read_payloads(feed, webhooks)
            outcome.payloads += changes.payloads
            if changes.payloads:
                run = _apply(connection, feed, changes, webhooks, now)
                if run is not None:
                    outcome.batches.append(run.pk)
                    if run.status != RunStatus.SUCCEEDED:
                        return  # cursor kept: the next poll tries these payloads again
                    feed.last_change_at = now
            feed.cursor = cursor
            feed.last_poll_at = now
            feed.save(update_fields=["cursor", "last_poll_at", "last_change_at"])
            extend(settings.SYNC_LOCK_TIMEOUT_SECONDS, replace_ttl=True)
            if not more:
                return
    except AirtableRefused as error:
        if error.status == 404:
            # The hook is gone (Airtable deletes expired hooks): a new one covers what follows.
            _replace_hook(connection, feed, webhooks, now, outcome)
        else:
            _refused(feed, error)
    except (SyncError, TokenUnreadable) as error:
        # Airtable did not answer after the retries: the next poll tries again; the state
        # stays active, since nothing is wrong with the feed itself.
        logger.warning("change feed poll of connection %s failed: %s", connection.pk, error)


def _read_payloads(feed: ChangeFeed, webhooks: WebhookClient) -> tuple[FeedChanges, int, bool]:
    """Up to PAGES_PER_BATCH pages of payloads from the feed's cursor, merged."""
    changes = FeedChanges()
    cursor = feed.cursor
    for _ in range(PAGES_PER_BATCH):
        page = webhooks.payloads(feed.webhook_id, cursor)
        merge_payloads(page.payloads, changes)
        cursor = max(cursor, page.cursor)
        if not page.might_have_more or not page.payloads:
            return changes, cursor, False
    return changes, cursor, True


# -- applying a batch ----------------------------------------------------------------------


def _apply(connection, feed, changes: FeedChanges, webhooks: WebhookClient, now) -> SyncRun | None:
    """Reconcile the records the payloads name, as a pull would; None when none of them is in
    a mapped table (nothing to record)."""
    mapping = connection_mapping(connection=connection)
    entity_of = {em.table_id: entity for entity, em in mapping.entities.items()}
    relevant = {tid: ch for tid, ch in changes.tables.items() if tid in entity_of and ch}
    mapped_gone = changes.destroyed_tables & set(entity_of)
    if not relevant and not mapped_gone:
        return None
    run = SyncRun.objects.create(
        organization_id=connection.organization_id,
        connection=connection,
        kind=RunKind.CHANGES,
        status=RunStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        tables_total=len(relevant),
    )

    def progress() -> None:
        run.requests += 1

    previous_hook = webhooks.client.on_request
    webhooks.client.on_request = lambda: (previous_hook(), progress())
    try:
        schema_payload = connection.schema
        if mapped_gone or any(ch.fields_changed for ch in relevant.values()):
            # Fields renamed, added or deleted: read the schema as a run would, follow the
            # names, and stop with the run's own words when the mapping no longer fits.
            schema_payload = webhooks.client.schema()
            connection_store_schema(connection=connection, schema_payload=schema_payload)
        schema = schema_from_api(schema_payload)
        problems = check_mapping(mapping, schema)
        if problems:
            raise MappingDrift("The mapping no longer matches the base: " + " ".join(problems))
        _follow_names(connection, mapping, schema)
        reconciler = Reconciler(run=run, connection=connection, schema=schema, mapping=mapping)
        for entity in ENTITIES:  # linked tables first, as the pull
            if entity not in mapping.entities:
                continue
            table_id = mapping.entities[entity].table_id
            table_changes = relevant.get(table_id)
            if not table_changes:
                continue
            table = schema.table(table_id)
            run.current_table = table.name
            upserted = table_changes.upserted - table_changes.destroyed
            for records in webhooks.records(table_id, upserted):
                reconciler.apply_page(entity, table, records)
            if table_changes.destroyed:
                reconciler.archive_records(entity, table_changes.destroyed)
            run.tables_done += 1
        reconciler.resolve_links()
        _finish_batch(run, reconciler, RunStatus.SUCCEEDED)
    except (SyncError, MappingError, TokenUnreadable) as error:
        _finish_batch(run, None, RunStatus.FAILED, str(error))
        if isinstance(error, MappingDrift | MappingError):
            # As a pull would fail, until the mapping is fixed (saving it calls feed_ensure,
            # which resumes from the cursor): polling on would fail the same way every time.
            _set_state(feed, FeedState.FAILED, str(error))
    except Exception as error:
        logger.exception("change feed batch %s crashed", run.pk)
        _finish_batch(run, None, RunStatus.FAILED, f"Internal error: {type(error).__name__}")
        raise
    finally:
        webhooks.client.on_request = previous_hook
    return run


def _follow_names(connection: Connection, mapping: Mapping, schema) -> None:
    """Keep the names the mapping remembers (for its messages) those of the base: a rename
    in Airtable changes nothing else, everything being keyed by id."""
    changed = False
    for entity_mapping in mapping.entities.values():
        table = schema.table(entity_mapping.table_id)
        if table is None:
            continue
        if entity_mapping.table_name != table.name:
            entity_mapping.table_name, changed = table.name, True
        for attr, field_id in entity_mapping.fields.items():
            schema_field = table.field(field_id)
            if schema_field and entity_mapping.field_names.get(attr) != schema_field.name:
                entity_mapping.field_names[attr], changed = schema_field.name, True
    if changed:
        connection.mapping = mapping.to_dict()
        connection.save(update_fields=["mapping"])


def _finish_batch(run: SyncRun, reconciler, status: RunStatus, error: str = "") -> None:
    if reconciler is not None:
        counts = reconciler.counts
        run.pulled, run.created, run.updated = counts.pulled, counts.created, counts.updated
        run.unchanged, run.archived = counts.unchanged, counts.archived
        run.unarchived, run.issue_count = counts.unarchived, counts.issues
    run.status, run.error = status, error
    run.finished_at = run.heartbeat_at = timezone.now()
    with transaction.atomic():
        run.save()
        audit_run_pulled(run)
    if status == RunStatus.SUCCEEDED and (run.created or run.updated or run.archived):
        # Open dashboards fetch their fragments again: the edit shows without a reload.
        events.publish(run.organization_id, events.PLAN)
        run_ended(run)


# -- the beat's and Airtable's calls -------------------------------------------------------


def feed_poll_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Connections whose feed the beat polls now: every active polled feed, and pinged ones
    whose last poll is older than AIRTABLE_FEED_BACKUP_POLL_SECONDS (in case pings stop)."""
    now = now or timezone.now()
    backup = now - datetime.timedelta(seconds=settings.AIRTABLE_FEED_BACKUP_POLL_SECONDS)
    # The beat serves every organization: this is one of the few unscoped reads.
    active = ChangeFeed.objects.unscoped().filter(state=FeedState.ACTIVE).exclude(webhook_id="")
    return sorted(
        connection_id
        for connection_id, url, last in active.values_list(
            "connection_id", "notification_url", "last_poll_at"
        )
        if not url or last is None or last <= backup
    )


def feed_check_due() -> list[int]:
    """Connections whose feed the daily check looks at: all but those switched off."""
    # Beat again: every organization's feeds.
    feeds = ChangeFeed.objects.unscoped().exclude(state=FeedState.OFF)
    return sorted(feeds.values_list("connection_id", flat=True))


@sensitive_variables("secret")
def feed_notification(*, body: bytes, mac_header: str) -> int | None:
    """The connection whose feed a ping from Airtable is for, once its MAC checks out against
    that hook's secret; None (refuse it, do nothing) otherwise."""
    webhook_id = notification_webhook_id(body)
    if not webhook_id:
        return None
    # Airtable's ping names a webhook, not an organization: the hook's id finds the feed, and
    # its secret (below) proves the ping came from Airtable. Hence unscoped.
    # Any state: a genuine ping is answered as such (refusing it would lead Airtable to stop
    # pinging); the poll it queues does nothing for a feed that is not active.
    feed = (
        ChangeFeed.objects.unscoped()
        .filter(webhook_id=webhook_id)
        .only("connection_id", "mac_secret_encrypted")
        .first()
    )
    if feed is None or not feed.mac_secret_encrypted:
        return None
    try:
        secret = decrypt_token(feed.mac_secret_encrypted)
    except TokenUnreadable:
        return None
    if not verify_notification(body, mac_header or "", secret):
        return None
    return feed.connection_id
