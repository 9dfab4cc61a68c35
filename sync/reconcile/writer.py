"""Where a run's page writes happen: at once, or in a thread while the next page is read.

Converting a page is Python's work and writing it is mostly the database's; done one after the
other, each waits for the other. `PageWriter.threaded()` writes each page in a thread of its own
database connection (Django's connections are per thread) while the caller converts the next,
one page in flight at a time. Each page is still one transaction, in the order given. The
caller waits (`wait`) before it reads what a pending write may hold, and at every table's end.

Threaded only on Postgres and outside a transaction: a second connection cannot see what an
open transaction (a test's, a caller's) has not committed, and SQLite allows one writer.
Otherwise, and for `PageWriter()`, writes happen at once, in the caller's connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import connection, connections

logger = logging.getLogger(__name__)


class PageWriter:
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    @classmethod
    def threaded(cls) -> PageWriter:
        writer = cls()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            writer._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-write")
        return writer

    @property
    def is_threaded(self) -> bool:
        return self._executor is not None

    def submit(self, write: Callable[[], None]) -> None:
        """Run `write` (one page's transaction) after the previous one: in the thread, or now.
        A previous write's error is raised here, and this one is not started."""
        self.wait()
        if self._executor is None:
            write()
            return
        self._pending = self._executor.submit(write)

    def wait(self) -> None:
        """Until the pending write is committed; its error, if it failed, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self, *, quiet: bool = False) -> None:
        """Wait for the last write and close the thread's connection. Its error is raised,
        unless `quiet` (closing on the way out of another error: that one is the report)."""
        if self._executor is None:
            return
        try:
            self.wait()
        except Exception:
            if not quiet:
                raise
            logger.exception("a page write failed while the run was failing already")
        finally:
            executor, self._executor = self._executor, None
            executor.submit(connections.close_all).result()
            executor.shutdown()
