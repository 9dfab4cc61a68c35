"""Prepared statements for the few hot queries that Postgres takes longer to plan than to run.

Django binds parameters on the client (psycopg's ClientCursor), so Postgres parses and plans
every statement anew. For the search's candidate queries (a dozen index lookups in one UNION
ALL) that planning was 40% of their time. `prepared_cursor()` gives a cursor that binds on the
server and prepares each statement on its first run, so a connection plans a query's shape
once (Postgres keeps a generic plan when it costs no more than the custom ones) and afterwards
only executes it. Prepared statements live on the connection: the pool keeps them between
requests, psycopg deallocates the oldest past `prepared_max`, and settings turn them off
(`prepare_threshold` None) behind a transaction pooler, where statements may not outlive a
transaction; this cursor is then Django's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    with connection.wrap_database_errors:
        server_bound = ServerBindingCursor(raw)
    cursor = (
        _LoggedPreparedCursor(server_bound, connection)
        if connection.queries_logged
        else connection.make_cursor(server_bound)
    )
    with cursor:
        yield cursor
