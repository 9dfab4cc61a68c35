"""The suite in several processes (pytest-xdist, `make test` runs two): each process gets its
own Redis database as pytest-django gives it its own test database (test_<name>_gw1).

The tests' settings (tests/settings.py) call `isolate_redis()` before the project's settings
read REDIS_URL: a worker's URL names database N - i of the one given (gw0 keeps it), so that
the cache, the event channels ("org:acme" exists in both processes' data), the sync locks and
the Celery queues of one process are never read by the other. Worker subprocesses that a test
starts inherit the rewritten URL (and are not moved again).

The browser tests run in one process, one after another (the `browser` group): they time pages
and streams, and two Chromiums on a 2-core machine starve both.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default `databases`
TIMED = "timed"  # the xdist group of the tests run in one process, in turn


def worker_redis_url(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `worker` ("gw1"): database (N - 1) mod 16 for gw1."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{(base - index) % REDIS_DATABASES}"))


def isolate_redis() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("REDIS_URL", "")
    if worker and url and os.environ.get("TESTS_REDIS_ISOLATED") != worker:
        os.environ["REDIS_URL"] = worker_redis_url(url, worker)
        os.environ["TESTS_REDIS_ISOLATED"] = worker  # a subprocess inherits it: once only
