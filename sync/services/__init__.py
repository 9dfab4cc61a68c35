"""Writes for the Airtable sync: connecting a base, its mapping, requesting and running syncs.

Views, Celery tasks and management commands all call these, as `services.run_execute(...)`
and so on: the names below are re-exported from the module that holds each.

- `connections`: the connection, its token, its schema.
- `mapping`: replacing a connection's mapping.
- `runs`: requesting a run, executing it, how it ends.
- `locks`: one sync of a connection at a time (`SyncBusy`).
- `schedule`: a connection's periodic syncs.
- `push`: the write-back to Airtable, conflicts, write settings.
- `feed`: the change feed (Airtable's webhooks): edits within seconds.
- `encryption`: re-encrypting the stored secrets after a key rotation.
"""

from sync.services.connections import (
    connection_create,
    connection_refresh_schema,
    connection_set_token,
    connection_store_schema,
)
from sync.services.encryption import ReencryptReport, secrets_reencrypt
from sync.services.feed import (
    FeedOutcome,
    feed_check_due,
    feed_ensure,
    feed_ensure_after_commit,
    feed_notification,
    feed_poll,
    feed_poll_due,
)
from sync.services.locks import SyncBusy
from sync.services.mapping import connection_set_mapping
from sync.services.push import (
    conflict_resolve,
    connection_add_id_fields,
    connection_set_read_only,
    connections_with_due_writes,
    push_connection,
    push_requeue,
)
from sync.services.runs import run_execute, run_request
from sync.services.schedule import (
    connection_schedule,
    connection_schedule_state,
    full_sync_minute,
)

__all__ = [
    "FeedOutcome",
    "ReencryptReport",
    "SyncBusy",
    "conflict_resolve",
    "connection_add_id_fields",
    "connection_create",
    "connection_refresh_schema",
    "connection_schedule",
    "connection_schedule_state",
    "connection_set_mapping",
    "connection_set_read_only",
    "connection_set_token",
    "connection_store_schema",
    "connections_with_due_writes",
    "feed_check_due",
    "feed_ensure",
    "feed_ensure_after_commit",
    "feed_notification",
    "feed_poll",
    "feed_poll_due",
    "full_sync_minute",
    "push_connection",
    "push_requeue",
    "run_execute",
    "run_request",
    "secrets_reencrypt",
]
