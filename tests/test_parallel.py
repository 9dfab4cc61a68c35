"""tests/parallel.py: each pytest-xdist process its own Redis database."""

from tests.parallel import worker_redis_url


def test_each_worker_gets_its_own_redis_database():
    url = "redis://127.0.0.1:6379/15"
    assert worker_redis_url(url, "gw0") == url
    assert worker_redis_url(url, "gw1") == "redis://127.0.0.1:6379/14"
    # Below 0 it wraps to the last of Redis's 16; no database given is 0.
    assert (
        worker_redis_url("redis://:secret@redis:6379/1", "gw2") == "redis://:secret@redis:6379/15"
    )
    assert worker_redis_url("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/15"
