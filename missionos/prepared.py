"""Prepared statements for the few hot queries that Postgres takes longer to plan than to run.

Django binds parameters on the client (psycopg's ClientCursor), so Postgres parses and plans
every statement anew. For the search's candidate queries (a dozen index lookups in one UNION
ALL) that planning was 40% of their time. `prepared_cursor()` gives a cursor that binds on the
server and prepares each statement on its first run, so a connection plans a query's shape
once (Postgres keeps a generic plan when it costs no more than the custom ones) and afterwards
only executes it. Prepared statements live on the connection: the pool keeps them between
requests, and psycopg deallocates the oldest past `prepared_max` and all of them on a rollback.
Only these statements are prepared: psycopg's preparing is on for the cursor's block alone, and
Django's other queries on the connection are neither prepared nor counted. Settings turn it off
(`DB_PREPARED_STATEMENTS`) behind a transaction pooler, where a statement may not outlive its
transaction; this cursor is then Django's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _LoggedPreparedCursor(CursorDebugWrapper):
    """Logs a statement with its parameters in it, as Django's client-bound cursors do (a
    server-bound one has no such text to read back)."""

    def execute(self, sql, params=None):
        shown = self.db.ops.compose_sql(sql, params) if params else sql
        with self.debug_sql(shown, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """A cursor of the default connection whose statements are prepared (Postgres, where the
    settings allow it), logged and wrapped like Django's; elsewhere Django's own cursor."""
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    raw = connection.connection
    with connection.wrap_database_errors:
        server_bound = ServerBindingCursor(raw)
    cursor = (
        _LoggedPreparedCursor(server_bound, connection)
        if connection.queries_logged
        else connection.make_cursor(server_bound)
    )
    # Django connects with preparing off (None); statements prepared here stay prepared, and
    # are used again whenever the threshold is on.
    threshold, raw.prepare_threshold = raw.prepare_threshold, 0
    try:
        with cursor:
            yield cursor
    finally:
        raw.prepare_threshold = threshold
